/**
 * When two frames count as "the same": the limits, their defaults, and the verdict on an
 * {@link ImageComparison}.
 *
 * The defaults are set by what legitimate differences look like: our float32 pipeline agrees
 * with diffusers within ~3e-6 in [0, 1] (the reference allows 2e-3 ≈ 0.5/255), and across thread
 * counts and batch sizes no worse, which moves a value across a rounding boundary by at most one
 * level. The limits allow twice that and nothing a
 * real change (another seed, colour or injection) could pass: such changes move many pixels by
 * tens of levels.
 *
 * @module
 */

import { DEFAULT_PIXEL_THRESHOLD, type ImageComparison } from "./images.ts";

/** Limits a non-identical frame must all meet to be "within tolerance". */
export interface Tolerance {
  /** Largest allowed absolute difference of any channel value, 0–255 units. */
  maxDiff: number;
  /** Lowest allowed PSNR in dB. */
  minPsnr: number;
  /** Lowest allowed SSIM. */
  minSsim: number;
  /** Largest allowed share (0–1) of pixels pixelmatch counts as differing. */
  maxShare: number;
  /** pixelmatch threshold deciding whether a pixel differs (0–1). */
  pixelThreshold: number;
}

/**
 * Default limits:
 * - `maxDiff` 2: twice the worst legitimate rounding flip (1 level).
 * - `minPsnr` 40 dB: every channel off by 2 everywhere still gives 42.1 dB, so this only bites
 *   when `maxDiff` is loosened; a visibly different face is far below 30 dB.
 * - `minSsim` 0.99: ±1 rounding flips on a few pixels keep SSIM above 0.999.
 * - `maxShare` 0.001 (0.1 % of pixels, 65 of a 256×256 frame) at `pixelThreshold` 0.01, which
 *   never counts a pixel whose channels all moved by ≤ 2 levels.
 */
export const DEFAULT_TOLERANCE: Readonly<Tolerance> = Object.freeze({
  maxDiff: 2,
  minPsnr: 40,
  minSsim: 0.99,
  maxShare: 0.001,
  pixelThreshold: DEFAULT_PIXEL_THRESHOLD,
});

/** Verdict on one pair of images. */
export type ImageStatus = "identical" | "within-tolerance" | "different";

/** A limit of {@link Tolerance} that a frame can fail. */
export type Limit = "maxDiff" | "minPsnr" | "minSsim" | "maxShare";

/** The verdict and, unless within limits, which limits failed. */
export interface Verdict {
  /** The verdict. */
  status: ImageStatus;
  /** The failed limits, in the order of {@link Tolerance}; empty unless `different`. */
  failed: Limit[];
  /** One entry per failed limit (`max abs diff 7 > 2`) or the size mismatch; human-readable. */
  reasons: string[];
}

/**
 * Checks a tolerance for sane values.
 * @throws {RangeError} naming the field and the bad value
 */
export function checkTolerance(tolerance: Tolerance): Tolerance {
  const ranges: Record<keyof Tolerance, [number, number]> = {
    maxDiff: [0, 255],
    minPsnr: [0, Infinity],
    minSsim: [-1, 1],
    maxShare: [0, 1],
    pixelThreshold: [0, 1],
  };
  for (const [key, [lo, hi]] of Object.entries(ranges) as [keyof Tolerance, [number, number]][]) {
    const value = tolerance[key];
    if (typeof value !== "number" || Number.isNaN(value) || value < lo || value > hi) {
      throw new RangeError(`${key} must be a number from ${lo} to ${hi}, got ${value}`);
    }
  }
  return tolerance;
}

/** Judges an image comparison against the limits. */
export function judge(
  comparison: ImageComparison,
  tolerance: Tolerance = DEFAULT_TOLERANCE,
): Verdict {
  if (!comparison.sameSize) {
    return { status: "different", failed: [], reasons: [comparison.message] };
  }
  if (comparison.identical) return { status: "identical", failed: [], reasons: [] };
  const failed: Limit[] = [];
  const reasons: string[] = [];
  if (comparison.maxAbsDiff > tolerance.maxDiff) {
    failed.push("maxDiff");
    reasons.push(`max abs diff ${comparison.maxAbsDiff} > ${tolerance.maxDiff}`);
  }
  if (comparison.psnr < tolerance.minPsnr) {
    failed.push("minPsnr");
    reasons.push(`PSNR ${comparison.psnr.toFixed(2)} dB < ${tolerance.minPsnr}`);
  }
  if (!(comparison.ssim >= tolerance.minSsim)) {
    failed.push("minSsim");
    reasons.push(`SSIM ${comparison.ssim.toFixed(5)} < ${tolerance.minSsim}`);
  }
  if (comparison.differingShare > tolerance.maxShare) {
    failed.push("maxShare");
    reasons.push(
      `${comparison.differingPixels} differing pixels (${
        (comparison.differingShare * 100).toFixed(3)
      } %) > ${tolerance.maxShare * 100} %`,
    );
  }
  return { status: failed.length ? "different" : "within-tolerance", failed, reasons };
}
