import assert from "node:assert/strict";
import {
  colorIdentityCorrelation,
  formatShares,
  frameDistances,
  gridOf,
  type IdentityPoint,
  identitySummary,
  pearson,
  ranks,
  spearman,
  thresholdCrossings,
  twoWayDecomposition,
} from "./analysis.ts";
import { mulberry32 } from "./_fake_embedder.ts";

const close = (a: number | null, b: number, eps = 1e-12) => {
  assert.ok(a !== null && Math.abs(a - b) <= eps, `${a} ≠ ${b} (±${eps})`);
};

Deno.test("pearson and spearman: textbook values", () => {
  // dx = [-2,-1,0,1,2], dy = [-1,-2,1,0,2]: Σdxdy = 8, Σdx² = Σdy² = 10 → 0.8.
  close(pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]), 0.8);
  close(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]), 0.8);
  close(pearson([1, 2, 3], [6, 4, 2]), -1);
  // Monotone but not linear: ranks agree perfectly, values do not.
  close(spearman([1, 2, 3, 4], [1, 8, 27, 64]), 1);
  // dx = [-1.5,-0.5,0.5,1.5], dy = [-24,-17,2,39]: Σdxdy = 104, Σdx² = 5, Σdy² = 2390.
  close(pearson([1, 2, 3, 4], [1, 8, 27, 64]), 104 / Math.sqrt(5 * 2390));
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), null);
  assert.equal(pearson([1], [2]), null);
  assert.deepEqual(ranks([10, 20, 20, 30]), [1, 2.5, 2.5, 4]);
});

function point(index: number, seed: string, color: number[], descriptor: number[]): IdentityPoint {
  return { index, seed, color: color as [number, number, number], descriptor };
}

Deno.test("frameDistances: to the seed's reference and to the previous frame of the same seed", () => {
  const points = [
    point(0, "1", [0, 0, 0], [3, 4]),
    point(1, "2", [0, 0, 0], [0, 1]),
    point(2, "1", [1, 0, 0], [3, 0]),
    point(3, "2", [1, 0, 0], [0, 3]),
  ];
  const references = new Map([["1", [0, 0]], ["2", [0, 0]]]);
  assert.deepEqual(frameDistances(points, references), [
    { toReference: 5, toPrevious: null },
    { toReference: 1, toPrevious: null },
    { toReference: 3, toPrevious: 4 },
    { toReference: 3, toPrevious: 2 },
  ]);
  assert.throws(() => frameDistances(points, new Map([["1", [0, 0]]])), /seed 2/);
});

Deno.test("thresholdCrossings: up and down between neighbours, and a first frame already above", () => {
  const along = (seed: string, values: number[], first = 0) =>
    values.map((toReference, i) => ({ index: first + i, seed, toReference }));
  const crossings = thresholdCrossings(along("7", [0.2, 0.59, 0.6, 0.9, 0.3, 0.61]), 0.6);
  assert.deepEqual(crossings.map((c) => [c.index, c.direction]), [[2, "up"], [4, "down"], [
    5,
    "up",
  ]]);
  assert.deepEqual(crossings[0], { index: 2, seed: "7", direction: "up", from: 0.59, to: 0.6 });
  assert.deepEqual(thresholdCrossings(along("1", [0.7, 0.65]), 0.6).map((c) => [c.index, c.from]), [
    [0, 0],
  ]);
  assert.deepEqual(thresholdCrossings(along("1", [0.1, 0.2]), 0.6), []);
});

Deno.test("colorIdentityCorrelation: same-seed pairs only, known coefficients", () => {
  // Identity distance = 2 × colour distance exactly: r = ρ = 1 over the 3 pairs of seed 1.
  const points = [
    point(0, "1", [0, 0, 0], [0, 0]),
    point(1, "1", [0.5, 0, 0], [1, 0]),
    point(2, "1", [1, 0, 0], [2, 0]),
    // Another seed far away: its cross-seed pairs must not enter (they would break r = 1).
    point(3, "9", [0, 0, 0], [50, 50]),
  ];
  const r = colorIdentityCorrelation(points);
  assert.equal(r.n, 3);
  close(r.pearson, 1);
  close(r.spearman, 1);
  // Pairs (0,1), (0,2), (1,2): colour 0.5, 1, 0.5 vs identity 1, 3, 4. x̄ = 2/3, ȳ = 8/3;
  // Σdxdy = 5/18 + 2/18 − 4/18 = 1/6, Σdx² = 1/6, Σdy² = 42/9 → r = 1/(2√7).
  const r2 = colorIdentityCorrelation([
    point(0, "1", [0, 0, 0], [0, 0]),
    point(1, "1", [0.5, 0, 0], [1, 0]),
    point(2, "1", [1, 0, 0], [-3, 0]),
  ]);
  close(r2.pearson, 1 / (2 * Math.sqrt(7)));
  // Ranks x [1.5, 3, 1.5], y [1, 2, 3]: Σdxdy = 0.5 − 0.5 = 0 → ρ = 0.
  close(r2.spearman, 0);
});

function gridFrom(f: (s: number, c: number, d: number) => number, S: number, C: number, D = 16) {
  return Array.from(
    { length: S },
    (_, s) =>
      Array.from({ length: C }, (_, c) => Float64Array.from({ length: D }, (_, d) => f(s, c, d))),
  );
}

Deno.test("twoWayDecomposition: pure seed, pure colour, additive and pure interaction grids", () => {
  const rand = mulberry32(5);
  const a = Array.from({ length: 4 }, () => Array.from({ length: 16 }, () => rand() - 0.5));
  const b = Array.from({ length: 6 }, () => Array.from({ length: 16 }, () => rand() - 0.5));
  const seedOnly = twoWayDecomposition(gridFrom((s, _c, d) => 1 + a[s][d], 4, 6));
  close(seedOnly.share.seed, 1);
  close(seedOnly.share.color, 0);
  close(seedOnly.share.interaction, 0);
  const colorOnly = twoWayDecomposition(gridFrom((_s, c, d) => b[c][d], 4, 6));
  close(colorOnly.share.color, 1);
  close(colorOnly.share.interaction, 0);
  // Additive: no interaction; the main effects keep their own sums of squares.
  const additive = twoWayDecomposition(gridFrom((s, c, d) => a[s][d] + b[c][d], 4, 6));
  close(additive.share.interaction, 0);
  close(additive.seedSS, seedOnly.seedSS, 1e-9);
  close(additive.colorSS, colorOnly.colorSS, 1e-9);
  close(additive.share.seed + additive.share.color, 1);
  // A checkerboard has zero row and column means: all interaction.
  const checker = twoWayDecomposition(
    gridFrom((s, c, d) => ((s + c) % 2 ? 1 : -1) * (d + 1), 2, 2),
  );
  close(checker.share.interaction, 1);
  close(checker.share.seed, 0);
  // With noise the three sums of squares still add up to the total, and the total is the
  // squared pairwise distances / N.
  const noisy = gridFrom((s, c, d) => a[s][d] + b[c][d] + 0.3 * (rand() - 0.5), 4, 6);
  const n = twoWayDecomposition(noisy);
  close(n.seedSS + n.colorSS + n.interactionSS, n.totalSS, 1e-9);
  const cells = noisy.flat();
  let pairs = 0;
  for (let i = 0; i < cells.length; i++) {
    for (let j = i + 1; j < cells.length; j++) {
      for (let d = 0; d < 16; d++) pairs += (cells[i][d] - cells[j][d]) ** 2;
    }
  }
  close(pairs / cells.length, n.totalSS, 1e-9);
  assert.ok(n.share.interaction > 0 && n.share.interaction < 0.2, `${n.share.interaction}`);
  assert.throws(() => twoWayDecomposition([[[1]], [[1], [2]]]), /ragged/);
});

Deno.test("formatShares: each share with one decimal and a line of the three; a reason as is", () => {
  const d = twoWayDecomposition(gridFrom((s, c, d) => s * (d + 1) + 0.5 * c * d, 3, 4));
  assert.deepEqual(
    formatShares({ ...d, share: { seed: 0.5, color: 0.3046, interaction: 0.19541 } }),
    {
      seed: "50.0 %",
      color: "30.5 %",
      interaction: "19.5 %",
      text: "seed 50.0 %, colour 30.5 %, interaction 19.5 %",
    },
  );
  assert.deepEqual(formatShares({ reason: "one seed: no grid" }), {
    seed: "–",
    color: "–",
    interaction: "–",
    text: "one seed: no grid",
  });
});

Deno.test("gridOf and identitySummary: grid by seed × colour index, path numbers", () => {
  const points = [
    { ...point(0, "1", [0, 0, 0], [0, 0]), colorIndex: 0, toReference: 0.1, toPrevious: null },
    { ...point(1, "1", [1, 0, 0], [1, 0]), colorIndex: 1, toReference: 0.7, toPrevious: 1 },
    { ...point(2, "2", [0, 0, 0], [0, 2]), colorIndex: 0, toReference: 0.2, toPrevious: null },
    { ...point(3, "2", [1, 0, 0], [1, 2]), colorIndex: 1, toReference: 0.5, toPrevious: 1.5 },
  ];
  const grid = gridOf(points);
  assert.ok("grid" in grid);
  assert.deepEqual(grid.seeds, ["1", "2"]);
  const s = identitySummary(points, 0.6);
  assert.equal(s.pathLength, 2.5);
  assert.equal(s.meanStep, 1.25);
  assert.deepEqual(s.largestJump, { index: 3, seed: "2", value: 1.5 });
  assert.deepEqual(s.farthestFromReference, { index: 1, seed: "1", value: 0.7 });
  assert.equal(s.framesAboveThreshold, 1);
  assert.deepEqual(s.crossings.map((c) => [c.index, c.direction]), [[1, "up"]]);
  assert.deepEqual(s.perSeed.map((p) => [p.seed, p.pathLength]), [["1", 1], ["2", 1.5]]);
  assert.ok("share" in s.decomposition);
  // Seed moves y by 2, colour moves x by 1, no interaction: shares 4/5 and 1/5.
  close(s.decomposition.share.seed, 0.8);
  close(s.decomposition.share.color, 0.2);
  const one = identitySummary(points.slice(0, 2));
  assert.deepEqual(one.decomposition, { reason: "one seed: no grid" });
  const ragged = gridOf(points.slice(0, 3));
  assert.ok("reason" in ragged && /seed 2 lacks a colour/.test(ragged.reason));
});
