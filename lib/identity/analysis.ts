/**
 * Identity statistics: pure math on face descriptors, no model inside. Per frame the distance to
 * the reference face (same seed, no injection) and to the previous frame of the same seed; per run
 * the largest neighbour jump, the identity path length, the "same person" threshold crossings, the
 * correlation between injected-colour distance and identity distance; per grid (seeds × colours)
 * the two-way decomposition of identity variation into seed, colour and interaction.
 *
 * All distances are Euclidean. Descriptors are rows of `dimension` numbers.
 *
 * @module
 */

import { descriptorDistance, SAME_PERSON_THRESHOLD } from "./embedder.ts";
import { pearson } from "../experiments/metrics.ts";

/** Pearson's r (the runner's, `lib/experiments/metrics.ts`): null when undefined. */
export { pearson };

/** One frame as the statistics see it. */
export interface IdentityPoint {
  /** Position in the run (path order within a seed). */
  index: number;
  /** Decimal seed of the frame's initial noise. */
  seed: string;
  /** Grid column (position of the colour in the path/list); default: rank within its seed. */
  colorIndex?: number;
  /** Injected colour [r, g, b] in [0, 1]. */
  color: readonly [number, number, number];
  /** The frame's descriptor. */
  descriptor: ArrayLike<number>;
}

/** Per-frame distances (see {@link frameDistances}). */
export interface FrameDistances {
  /** Distance to the reference face of the frame's seed. */
  toReference: number;
  /** Distance to the previous frame of the same seed along the path; null for the first. */
  toPrevious: number | null;
}

/** Euclidean distance between two descriptors (any equal length). */
export function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(`descriptors of different lengths (${a.length} and ${b.length})`);
  }
  return descriptorDistance(a, b, a.length);
}

/** The points grouped by seed (in order of first appearance), each group in index order. */
export function bySeed<P extends { index: number; seed: string }>(points: readonly P[]): P[][] {
  const groups = new Map<string, P[]>();
  for (const p of points) {
    const group = groups.get(p.seed);
    if (group) group.push(p);
    else groups.set(p.seed, [p]);
  }
  return [...groups.values()].map((g) => [...g].sort((a, b) => a.index - b.index));
}

/**
 * Distances of every point to its seed's reference descriptor and to the previous point of the
 * same seed (by index: neighbours along the path). Returned in the order of `points`.
 *
 * @throws {Error} naming the seed when a point's seed has no reference
 */
export function frameDistances(
  points: readonly IdentityPoint[],
  references: ReadonlyMap<string, ArrayLike<number>>,
): FrameDistances[] {
  const previous = new Map<IdentityPoint, IdentityPoint | null>();
  for (const group of bySeed(points)) {
    group.forEach((p, i) => previous.set(p, i === 0 ? null : group[i - 1]));
  }
  return points.map((p) => {
    const reference = references.get(p.seed);
    if (!reference) throw new Error(`no reference face for seed ${p.seed}`);
    const before = previous.get(p)!;
    return {
      toReference: distance(p.descriptor, reference),
      toPrevious: before ? distance(p.descriptor, before.descriptor) : null,
    };
  });
}

/** Ranks 1…n, ties sharing their mean rank (as Spearman's coefficient needs). */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const result = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1][0] === order[start][0]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) result[order[k][1]] = rank;
    start = end + 1;
  }
  return result;
}

/** Spearman's rank correlation (Pearson on mid-ranks); null as for {@link pearson}. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new RangeError("spearman: x and y differ in length");
  return pearson(ranks(x), ranks(y));
}

/** RGB Euclidean distance between two colours in [0, 1] (0 … √3). */
export function colorDistance(
  a: readonly [number, number, number],
  b: readonly [number, number, number],
): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Correlation between colour distance and identity distance over frame pairs. */
export interface ColorIdentityCorrelation {
  /**
   * Which pairs: every unordered pair of frames of the same seed (i < j): x = RGB distance of
   * their injected colours, y = distance of their descriptors.
   */
  pairs: "same-seed frame pairs";
  /** Number of pairs. */
  n: number;
  /** Pearson's r (null when undefined: < 2 pairs or a constant variable). */
  pearson: number | null;
  /** Spearman's ρ (null likewise). */
  spearman: number | null;
}

/**
 * Pearson and Spearman correlation between injected-colour distance and identity distance over
 * all same-seed frame pairs (the paper's open question 4: do faces further apart in colour differ
 * more in identity?). The pairs are not independent (each frame is in n−1 of them), so no p-value
 * is given: the coefficients describe, they do not test. Frames with an equal colour (a colour
 * listed twice) count as pairs at colour distance 0.
 */
export function colorIdentityCorrelation(
  points: readonly IdentityPoint[],
): ColorIdentityCorrelation {
  const x: number[] = [], y: number[] = [];
  for (const group of bySeed(points)) {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        x.push(colorDistance(group[i].color, group[j].color));
        y.push(distance(group[i].descriptor, group[j].descriptor));
      }
    }
  }
  return {
    pairs: "same-seed frame pairs",
    n: x.length,
    pearson: pearson(x, y),
    spearman: spearman(x, y),
  };
}

/** A crossing of the "same person" threshold between neighbouring frames of one seed. */
export interface ThresholdCrossing {
  /** Index of the frame after the crossing. */
  index: number;
  /** Seed of the frames. */
  seed: string;
  /** `up`: from below the threshold to at or above it (no longer the reference person). */
  direction: "up" | "down";
  /** toReference of the frame before and of the frame after. */
  from: number;
  /** toReference of the frame after the crossing. */
  to: number;
}

/**
 * Where the distance to the reference crosses `threshold` between neighbouring frames of the
 * same seed: `up` when the previous frame is below it and this one at or above, `down` the
 * reverse. The reference itself is at distance 0, so a seed whose first frame is already at or
 * above the threshold has left the reference person before the path starts: that first frame is
 * reported as an `up` crossing too (with `from` 0).
 */
export function thresholdCrossings(
  points: readonly { index: number; seed: string; toReference: number }[],
  threshold = SAME_PERSON_THRESHOLD,
): ThresholdCrossing[] {
  const crossings: ThresholdCrossing[] = [];
  for (const group of bySeed(points)) {
    let before = 0;
    for (const p of group) {
      const wasAbove = before >= threshold, isAbove = p.toReference >= threshold;
      if (wasAbove !== isAbove) {
        crossings.push({
          index: p.index,
          seed: p.seed,
          direction: isAbove ? "up" : "down",
          from: before,
          to: p.toReference,
        });
      }
      before = p.toReference;
    }
  }
  return crossings.sort((a, b) => a.index - b.index);
}

/** Two-way decomposition of the descriptors of a complete seeds × colours grid. */
export interface GridDecomposition {
  /** What was decomposed. */
  method: "two-way ANOVA without replication on the descriptors (sums of squares)";
  /** Rows (seeds) and columns (colours). */
  seeds: number;
  /** Columns. */
  colors: number;
  /** Σ‖y_sc − ȳ‖² over all cells. */
  totalSS: number;
  /** C · Σ_s ‖ȳ_s· − ȳ‖²: the seed (innate) main effect. */
  seedSS: number;
  /** S · Σ_c ‖ȳ_·c − ȳ‖²: the colour (external) main effect. */
  colorSS: number;
  /** Σ ‖y_sc − ȳ_s· − ȳ_·c + ȳ‖²: seed × colour interaction (no replication: also any noise). */
  interactionSS: number;
  /** Shares of totalSS (sum to 1; all 0 when totalSS is 0). */
  share: { seed: number; color: number; interaction: number };
}

/**
 * Splits the variation of the descriptors of a complete grid (`grid[s][c]`: seed s, colour c)
 * into seed, colour and interaction, as a two-way ANOVA without replication does for each of the
 * descriptor's dimensions, summed over dimensions. Because Σ over pairs ‖y_i − y_j‖² = N ·
 * totalSS, this is also the exact decomposition of the squared pairwise identity distances.
 *
 * @throws {RangeError} for an empty or ragged grid, or descriptors of different lengths
 */
export function twoWayDecomposition(
  grid: readonly (readonly ArrayLike<number>[])[],
): GridDecomposition {
  const S = grid.length;
  const C = S > 0 ? grid[0].length : 0;
  if (S === 0 || C === 0) throw new RangeError("two-way decomposition: empty grid");
  if (grid.some((row) => row.length !== C)) {
    throw new RangeError("two-way decomposition: every seed needs every colour (ragged grid)");
  }
  const D = grid[0][0].length;
  if (grid.some((row) => row.some((y) => y.length !== D))) {
    throw new RangeError("two-way decomposition: descriptors of different lengths");
  }
  const grand = new Float64Array(D);
  const rowMean = Array.from({ length: S }, () => new Float64Array(D));
  const colMean = Array.from({ length: C }, () => new Float64Array(D));
  for (let s = 0; s < S; s++) {
    for (let c = 0; c < C; c++) {
      const y = grid[s][c];
      for (let d = 0; d < D; d++) {
        grand[d] += y[d] / (S * C);
        rowMean[s][d] += y[d] / C;
        colMean[c][d] += y[d] / S;
      }
    }
  }
  let totalSS = 0, seedSS = 0, colorSS = 0, interactionSS = 0;
  for (let s = 0; s < S; s++) {
    for (let d = 0; d < D; d++) seedSS += C * (rowMean[s][d] - grand[d]) ** 2;
  }
  for (let c = 0; c < C; c++) {
    for (let d = 0; d < D; d++) colorSS += S * (colMean[c][d] - grand[d]) ** 2;
  }
  for (let s = 0; s < S; s++) {
    for (let c = 0; c < C; c++) {
      const y = grid[s][c];
      for (let d = 0; d < D; d++) {
        totalSS += (y[d] - grand[d]) ** 2;
        interactionSS += (y[d] - rowMean[s][d] - colMean[c][d] + grand[d]) ** 2;
      }
    }
  }
  const share = totalSS > 0
    ? { seed: seedSS / totalSS, color: colorSS / totalSS, interaction: interactionSS / totalSS }
    : { seed: 0, color: 0, interaction: 0 };
  return {
    method: "two-way ANOVA without replication on the descriptors (sums of squares)",
    seeds: S,
    colors: C,
    totalSS,
    seedSS,
    colorSS,
    interactionSS,
    share,
  };
}

/** The seed / colour / interaction shares of a decomposition, as pictures and tables print them. */
export interface SharesText {
  /** The seed share, "12.3 %" (one decimal); "–" without a decomposition. */
  seed: string;
  /** The colour share, likewise. */
  color: string;
  /** The interaction share, likewise. */
  interaction: string;
  /** "seed 12.3 %, colour 45.6 %, interaction 42.1 %", or the reason there is no decomposition. */
  text: string;
}

/**
 * The shares of `decomposition` as text: one formatting for grid.png's footer, analyze's summary
 * and the demo's table, so that they never print the same share differently.
 */
export function formatShares(
  decomposition: GridDecomposition | { reason: string },
): SharesText {
  if (!("share" in decomposition)) {
    return { seed: "–", color: "–", interaction: "–", text: decomposition.reason };
  }
  const percent = (share: number) => `${(share * 100).toFixed(1)} %`;
  const { share } = decomposition;
  const [seed, color, interaction] = [share.seed, share.color, share.interaction].map(percent);
  return {
    seed,
    color,
    interaction,
    text: `seed ${seed}, colour ${color}, interaction ${interaction}`,
  };
}

/**
 * The grid of a multi-seed run: rows are seeds (in order of first appearance), columns are
 * colour indices 0…C−1. Null (with the reason) unless every seed has exactly one frame per colour
 * index and there are at least 2 seeds and 2 colours.
 */
export function gridOf(
  points: readonly IdentityPoint[],
): { grid: ArrayLike<number>[][]; seeds: string[] } | { reason: string } {
  const groups = bySeed(points);
  if (groups.length < 2) return { reason: "one seed: no grid" };
  const columns = groups.map((g) => g.map((p, i) => p.colorIndex ?? i));
  const C = Math.max(...columns.map((c) => c.length));
  if (C < 2) return { reason: "one colour: no grid" };
  const grid: ArrayLike<number>[][] = [];
  for (let s = 0; s < groups.length; s++) {
    const row: (ArrayLike<number> | undefined)[] = new Array(C).fill(undefined);
    groups[s].forEach((p, i) => {
      const c = columns[s][i];
      if (c >= 0 && c < C && row[c] === undefined) row[c] = p.descriptor;
    });
    if (row.some((y) => y === undefined)) {
      return { reason: `seed ${groups[s][0].seed} lacks a colour of the grid (incomplete grid)` };
    }
    grid.push(row as ArrayLike<number>[]);
  }
  return { grid, seeds: groups.map((g) => g[0].seed) };
}

/** `summary.identity` of a run. */
export interface IdentitySummary {
  /** Frames with a descriptor. */
  frames: number;
  /** The "same person" threshold used. */
  threshold: number;
  /** Largest distance between neighbouring frames of one seed (null: no neighbours). */
  largestJump: { index: number; seed: string; value: number } | null;
  /** Sum of the neighbour distances over every seed: the identity path length. */
  pathLength: number;
  /** Mean of the neighbour distances (null: no neighbours). */
  meanStep: number | null;
  /** Largest distance to the reference. */
  farthestFromReference: { index: number; seed: string; value: number } | null;
  /** Mean distance to the reference. */
  meanToReference: number | null;
  /** Frames at or above the threshold from their reference. */
  framesAboveThreshold: number;
  /** Threshold crossings along the path (see {@link thresholdCrossings}). */
  crossings: ThresholdCrossing[];
  /** Colour distance vs identity distance (see {@link colorIdentityCorrelation}). */
  colorCorrelation: ColorIdentityCorrelation;
  /** Per-seed path lengths (in order of first appearance). */
  perSeed: { seed: string; frames: number; pathLength: number; meanToReference: number | null }[];
  /** Seeds × colours decomposition, or why there is none. */
  decomposition: GridDecomposition | { reason: string };
}

/** Frames with their distances, as {@link identitySummary} takes them. */
export type AnalysedPoint = IdentityPoint & FrameDistances;

function mean(values: readonly number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

function largest<P extends { index: number; seed: string }>(
  points: readonly P[],
  value: (p: P) => number | null,
): { index: number; seed: string; value: number } | null {
  let best: { index: number; seed: string; value: number } | null = null;
  for (const p of points) {
    const v = value(p);
    if (v !== null && (best === null || v > best.value)) {
      best = { index: p.index, seed: p.seed, value: v };
    }
  }
  return best;
}

/** Every statistic of `summary.identity` from frames with descriptors and distances. */
export function identitySummary(
  points: readonly AnalysedPoint[],
  threshold = SAME_PERSON_THRESHOLD,
): IdentitySummary {
  const steps = points.map((p) => p.toPrevious).filter((v): v is number => v !== null);
  const grid = gridOf(points);
  return {
    frames: points.length,
    threshold,
    largestJump: largest(points, (p) => p.toPrevious),
    pathLength: steps.reduce((a, b) => a + b, 0),
    meanStep: mean(steps),
    farthestFromReference: largest(points, (p) => p.toReference),
    meanToReference: mean(points.map((p) => p.toReference)),
    framesAboveThreshold: points.filter((p) => p.toReference >= threshold).length,
    crossings: thresholdCrossings(points, threshold),
    colorCorrelation: colorIdentityCorrelation(points),
    perSeed: bySeed(points).map((g) => ({
      seed: g[0].seed,
      frames: g.length,
      pathLength: g.reduce((sum, p) => sum + (p.toPrevious ?? 0), 0),
      meanToReference: mean(g.map((p) => p.toReference)),
    })),
    decomposition: "grid" in grid ? twoWayDecomposition(grid.grid) : { reason: grid.reason },
  };
}
