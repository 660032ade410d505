/**
 * Per-frame and per-run numbers recorded in the manifest. They are computed from the 8-bit RGBA
 * pixels of the stored PNGs, so anyone can recompute them from the files alone.
 *
 * @module
 */

/** RGBA pixels, 4 bytes per pixel. */
export type Rgba = Uint8Array | Uint8ClampedArray;

/** Mean R, G, B of an image, each in [0, 1]; alpha is ignored. */
export function meanColor(rgba: Rgba): [number, number, number] {
  if (rgba.length === 0 || rgba.length % 4 !== 0) {
    throw new RangeError(`RGBA data of length ${rgba.length} is not a non-empty multiple of 4`);
  }
  let r = 0, g = 0, b = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    r += rgba[i];
    g += rgba[i + 1];
    b += rgba[i + 2];
  }
  const n = (rgba.length / 4) * 255;
  return [r / n, g / n, b / n];
}

/** Root-mean-square difference of the R, G, B values of two same-size images, in [0, 1] units. */
export function rmsDistance(a: Rgba, b: Rgba): number {
  if (a.length !== b.length || a.length === 0 || a.length % 4 !== 0) {
    throw new RangeError(`cannot compare RGBA images of lengths ${a.length} and ${b.length}`);
  }
  let sum = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = a[i + c] - b[i + c];
      sum += d * d;
    }
  }
  return Math.sqrt(sum / ((a.length / 4) * 3)) / 255;
}

/**
 * Pearson correlation of two equally long series, or null when it is undefined (fewer than two
 * points, or a series without variance, e.g. a constant channel).
 */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) {
    throw new RangeError(`series of lengths ${x.length} and ${y.length} cannot be correlated`);
  }
  const n = x.length;
  if (n < 2) return null;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  // Relative threshold: a series that is constant up to rounding has no meaningful correlation.
  const tiny = (v: number, m: number) => v <= 1e-24 * Math.max(1, m * m) * n;
  if (tiny(sxx, mx) || tiny(syy, my)) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/**
 * The frame before this one along the path, or null at the start of a path. In a multi-seed run
 * every seed walks the path anew (frames are seed-major), so the first colour of a seed has no
 * predecessor: the frame before it in run order belongs to another seed, another face, and the
 * distance to it measures the seed, not the path.
 */
export function previousOnPath(frame: { index: number; colorIndex?: number }): number | null {
  return (frame.colorIndex ?? frame.index) === 0 ? null : frame.index - 1;
}

/** The per-frame numbers {@link summarize} needs. */
export interface FrameMetrics {
  /** Index of the frame. */
  index: number;
  /** Multi-seed runs: position of the colour along the path (0 starts a seed's path). */
  colorIndex?: number;
  /** Injected colour. */
  color: readonly number[];
  /** Mean output colour. */
  meanColor: readonly number[];
  /** RMS difference to the previous frame along the path, null at a path's start. */
  distanceToPrevious: number | null;
}

/** Run-level summary of the frames. */
export interface MetricsSummary {
  /** Pearson correlation, per channel, between injected colour and mean output colour. */
  correlation: { r: number | null; g: number | null; b: number | null };
  /**
   * The largest RMS change between neighbouring frames along the path (within a seed): index of
   * the later frame and value.
   */
  largestJump: { index: number; value: number } | null;
  /** Mean of `distanceToPrevious` over the frames that have one. */
  meanDistanceToPrevious: number | null;
}

/**
 * Summarises frames given in run order. Neighbour distances count only between neighbours along
 * the path ({@link previousOnPath}), never across the boundary between two seeds.
 */
export function summarize(frames: readonly FrameMetrics[]): MetricsSummary {
  const channel = (c: number) =>
    pearson(frames.map((f) => f.color[c]), frames.map((f) => f.meanColor[c]));
  let largestJump: MetricsSummary["largestJump"] = null;
  let total = 0, count = 0;
  for (const frame of frames) {
    const d = frame.distanceToPrevious;
    if (d === null || previousOnPath(frame) === null) continue;
    total += d;
    count++;
    if (largestJump === null || d > largestJump.value) {
      largestJump = { index: frame.index, value: d };
    }
  }
  return {
    correlation: { r: channel(0), g: channel(1), b: channel(2) },
    largestJump,
    meanDistanceToPrevious: count > 0 ? total / count : null,
  };
}
