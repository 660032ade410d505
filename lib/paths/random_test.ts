import assert from "node:assert/strict";
import { SeededRandom } from "./random.ts";

Deno.test("SeededRandom: same seed same stream, different seeds different streams", () => {
  const draw = (seed: number) => {
    const r = new SeededRandom(seed);
    return Array.from({ length: 64 }, () => r.nextUint32());
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
  assert.notDeepEqual(draw(0), draw(0xffff_ffff));
  for (const x of draw(7)) assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32);
  assert.throws(() => new SeededRandom(-1), RangeError);
  assert.throws(() => new SeededRandom(1.5), RangeError);
  assert.throws(() => new SeededRandom(2 ** 32), RangeError);
});

Deno.test("SeededRandom: uniform doubles have mean 1/2 and variance 1/12 within 5 standard errors", () => {
  const r = new SeededRandom(1);
  const n = 200_000;
  let sum = 0;
  let sumSq = 0;
  const bins = new Array(10).fill(0);
  for (let i = 0; i < n; i++) {
    const u = r.nextFloat();
    assert.ok(u >= 0 && u < 1);
    sum += u;
    sumSq += u * u;
    bins[Math.floor(u * 10)]++;
  }
  const mean = sum / n;
  const variance = sumSq / n - mean * mean;
  // Standard errors: mean sqrt(1/12/n); variance sqrt(1/180/n) (uniform fourth central moment).
  assert.ok(Math.abs(mean - 0.5) < 5 * Math.sqrt(1 / 12 / n), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 5 * Math.sqrt(1 / 180 / n), `variance ${variance}`);
  // Chi-square with 9 degrees of freedom: 99.9th percentile is 27.9.
  const chi2 = bins.reduce((s, b) => s + (b - n / 10) ** 2 / (n / 10), 0);
  assert.ok(chi2 < 27.9, `chi2 ${chi2}`);
});

Deno.test("SeededRandom: Gaussians have mean 0, std 1, kurtosis 3 and normal tail mass", () => {
  const r = new SeededRandom(2);
  const n = 200_000;
  let s1 = 0, s2 = 0, s4 = 0, beyond2 = 0;
  for (let i = 0; i < n; i++) {
    const z = r.nextGaussian();
    s1 += z;
    s2 += z * z;
    s4 += z ** 4;
    if (Math.abs(z) > 2) beyond2++;
  }
  const mean = s1 / n;
  const variance = s2 / n - mean * mean;
  // Standard errors: mean 1/sqrt(n); variance sqrt(2/n); fourth moment sqrt(96/n).
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n), `variance ${variance}`);
  assert.ok(Math.abs(s4 / n - 3) < 5 * Math.sqrt(96 / n), `fourth moment ${s4 / n}`);
  // P(|Z| > 2) = 0.0455003; binomial standard error.
  const p = 0.0455003;
  assert.ok(Math.abs(beyond2 / n - p) < 5 * Math.sqrt(p * (1 - p) / n), `tail ${beyond2 / n}`);
});
