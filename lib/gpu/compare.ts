/**
 * How close a device's result must be to the CPU's, and the comparison itself.
 *
 * Differences are measured relative to the largest magnitude of the CPU reference, so one
 * tolerance serves noise predictions, latents and images alike:
 * - **fp32 on CUDA vs fp32 on the CPU**: max |Δ| ≤ 1e-2 · max|ref|, mean |Δ| ≤ 1e-3 · max|ref|.
 *   Not bit-exact because onnxruntime's CUDA provider runs float convolutions and GEMMs in TF32
 *   by default (`use_tf32{true}` in `cuda_execution_provider_info.h`; TF32 keeps 10 mantissa
 *   bits, as float16 does), and onnxruntime-node cannot turn that off: its `cuda` provider option
 *   parser sets only `device_id` (`js/node/src/session_options_helper.cc`). Summation order
 *   differs too (cuDNN algorithms).
 * - **fp16 on CUDA vs fp32 on the CPU**: max |Δ| ≤ 2e-2 · max|ref|, mean |Δ| ≤ 2e-3 · max|ref|.
 * Both bounds are about 20× what float16 costs measured on the CPU: fp16 vs fp32 graphs on the
 * CPU differ by max 5.8e-4, mean 1.1e-4 (× max|ref|) in ε of the full-size random-weights UNet,
 * and by at most 9.8e-4 in the tiny model's ε, latents and images after 4 fused-loop steps.
 * Any NaN or infinity fails.
 *
 * @module
 */

/** Allowed differences, as fractions of the reference's largest magnitude. */
export interface Tolerance {
  /** Largest allowed |actual − reference| / max|reference|. */
  maxRel: number;
  /** Largest allowed mean |actual − reference| / max|reference|. */
  meanRel: number;
}

/** The tolerances gpu-check applies, by the precision of the device's graphs. */
export const TOLERANCES: Readonly<Record<"fp32" | "fp16", Tolerance>> = Object.freeze({
  fp32: { maxRel: 1e-2, meanRel: 1e-3 },
  fp16: { maxRel: 2e-2, meanRel: 2e-3 },
});

/** Outcome of {@link compareToReference}. */
export interface Comparison {
  /** Values compared. */
  count: number;
  /** Largest |actual − reference|. */
  maxAbs: number;
  /** Mean |actual − reference|. */
  meanAbs: number;
  /** Largest |reference|. */
  refMax: number;
  /** maxAbs / refMax. */
  maxRel: number;
  /** meanAbs / refMax. */
  meanRel: number;
  /** NaN or infinite values in `actual`. */
  nonFinite: number;
  /** Whether within the tolerance (and all finite, and the same length). */
  ok: boolean;
  /** Why not, when not ok. */
  reason?: string;
}

/** Compares a device's output with the CPU reference under `tolerance`. */
export function compareToReference(
  actual: Float32Array,
  reference: Float32Array,
  tolerance: Tolerance,
): Comparison {
  if (actual.length !== reference.length) {
    return {
      count: 0,
      maxAbs: Infinity,
      meanAbs: Infinity,
      refMax: 0,
      maxRel: Infinity,
      meanRel: Infinity,
      nonFinite: 0,
      ok: false,
      reason: `${actual.length} values, the reference has ${reference.length}`,
    };
  }
  let maxAbs = 0;
  let sumAbs = 0;
  let refMax = 0;
  let nonFinite = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    if (!Number.isFinite(a)) {
      nonFinite++;
      continue;
    }
    const d = Math.abs(a - reference[i]);
    if (d > maxAbs) maxAbs = d;
    sumAbs += d;
    const r = Math.abs(reference[i]);
    if (r > refMax) refMax = r;
  }
  const meanAbs = actual.length > 0 ? sumAbs / actual.length : 0;
  // An all-zero reference: any difference at all is infinitely large relatively.
  const scale = refMax > 0 ? refMax : 1;
  const maxRel = maxAbs / scale;
  const meanRel = meanAbs / scale;
  let reason: string | undefined;
  if (nonFinite > 0) reason = `${nonFinite} NaN or infinite values`;
  else if (maxRel > tolerance.maxRel) {
    reason = `max |Δ| = ${fmt(maxRel)} · max|ref| > ${fmt(tolerance.maxRel)}`;
  } else if (meanRel > tolerance.meanRel) {
    reason = `mean |Δ| = ${fmt(meanRel)} · max|ref| > ${fmt(tolerance.meanRel)}`;
  }
  return {
    count: actual.length,
    maxAbs,
    meanAbs,
    refMax,
    maxRel,
    meanRel,
    nonFinite,
    ok: reason === undefined,
    reason,
  };
}

function fmt(x: number): string {
  return x.toExponential(2);
}
