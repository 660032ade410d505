import assert from "node:assert/strict";
import { meanColor, pearson, previousOnPath, rmsDistance, summarize } from "./metrics.ts";

function image(pixels: [number, number, number][]): Uint8Array {
  const out = new Uint8Array(pixels.length * 4);
  pixels.forEach(([r, g, b], i) => out.set([r, g, b, 255], i * 4));
  return out;
}

Deno.test("meanColor averages RGB in [0, 1] and ignores alpha", () => {
  const rgba = image([[255, 0, 51], [0, 0, 51]]);
  rgba[3] = 0;
  assert.deepEqual(meanColor(rgba), [0.5, 0, 0.2]);
  assert.throws(() => meanColor(new Uint8Array(0)), RangeError);
});

Deno.test("rmsDistance: 0 for equal images, matches the formula otherwise", () => {
  const a = image([[0, 0, 0], [255, 255, 255]]);
  assert.equal(rmsDistance(a, a), 0);
  const b = image([[255, 0, 0], [255, 255, 255]]);
  // one of six values differs by 1.0: sqrt(1/6)
  assert.ok(Math.abs(rmsDistance(a, b) - Math.sqrt(1 / 6)) < 1e-15);
  assert.equal(rmsDistance(a, b), rmsDistance(b, a));
  assert.throws(() => rmsDistance(a, image([[0, 0, 0]])), RangeError);
});

Deno.test("pearson: ±1 for linear relations, invariant to affine maps, matches a direct sum", () => {
  const x = Array.from({ length: 50 }, (_, i) => Math.sin(i) + i / 20);
  assert.ok(Math.abs(pearson(x, x.map((v) => 3 * v + 2))! - 1) < 1e-12);
  assert.ok(Math.abs(pearson(x, x.map((v) => -0.5 * v + 7))! + 1) < 1e-12);

  // Synthetic data y = x + noise: compare with the textbook formula computed separately.
  let s = 1;
  const noise = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  const y = x.map((v) => v + noise());
  const n = x.length;
  const sum = (a: number[]) => a.reduce((p, c) => p + c, 0);
  const sxy = sum(x.map((v, i) => v * y[i])), sx = sum(x), sy = sum(y);
  const sxx = sum(x.map((v) => v * v)), syy = sum(y.map((v) => v * v));
  const expected = (n * sxy - sx * sy) / Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
  const r = pearson(x, y)!;
  assert.ok(Math.abs(r - expected) < 1e-12, `${r} vs ${expected}`);
  assert.ok(r > 0 && r < 1);
  assert.ok(Math.abs(pearson(x.map((v) => 10 * v - 1), y.map((v) => v / 3 + 5))! - r) < 1e-12);
});

Deno.test("pearson: undefined (null) without variance or with fewer than two points", () => {
  assert.equal(pearson([1, 2, 3], [5, 5, 5]), null);
  assert.equal(pearson([0.3, 0.3], [1, 2]), null);
  assert.equal(pearson([1], [2]), null);
  assert.throws(() => pearson([1, 2], [1]), RangeError);
});

Deno.test("summarize: per-channel correlation and the largest jump", () => {
  const frames = [0, 1, 2, 3].map((i) => ({
    index: i,
    color: [i / 3, 1 - i / 3, 0.5],
    meanColor: [0.2 + i / 30, 0.4 + ((i * 7) % 3) / 50, 0.3 + i / 100],
    distanceToPrevious: i === 0 ? null : [0, 0.1, 0.4, 0.2][i],
  }));
  const summary = summarize(frames);
  assert.ok(Math.abs(summary.correlation.r! - 1) < 1e-12);
  assert.equal(summary.correlation.b, null, "constant injected blue");
  assert.ok(summary.correlation.g! >= -1 && summary.correlation.g! <= 1);
  assert.deepEqual(summary.largestJump, { index: 2, value: 0.4 });
  assert.ok(Math.abs(summary.meanDistanceToPrevious! - 0.7 / 3) < 1e-15);
  assert.deepEqual(summarize([]).largestJump, null);
});

Deno.test("previousOnPath and summarize: neighbours along the path, never across seeds", () => {
  assert.equal(previousOnPath({ index: 0 }), null);
  assert.equal(previousOnPath({ index: 5 }), 4);
  // Seed-major grid of 2 seeds × 3 colours: frame 3 starts the second seed's path.
  const grid = [0, 1, 2, 3, 4, 5].map((index) => ({ index, colorIndex: index % 3 }));
  assert.deepEqual(grid.map(previousOnPath), [null, 0, 1, null, 3, 4]);
  // A (stale) distance across the seed boundary is ignored even if a frame carries one.
  const frames = grid.map((f) => ({
    ...f,
    color: [f.colorIndex / 2, 0, 0],
    meanColor: [f.colorIndex / 3, 0.1, 0.2],
    distanceToPrevious: f.index === 0 ? null : [0, 0.1, 0.2, 0.9, 0.3, 0.05][f.index],
  }));
  const summary = summarize(frames);
  assert.deepEqual(summary.largestJump, { index: 4, value: 0.3 });
  assert.ok(Math.abs(summary.meanDistanceToPrevious! - 0.65 / 4) < 1e-15);
});
