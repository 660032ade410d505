/**
 * Noise schedules (betas, cumulative alphas) computed as diffusers computes them with torch on
 * the CPU in float32, so that `alphas_cumprod` agrees bit for bit with the reference.
 *
 * @module
 */

const f32 = Math.fround;

/** PyTorch's `Vectorized<float>::size()` on AVX2, which fixes how `linspace` rounds. */
const VECTOR_WIDTH = 8;

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` on an x86-64 CPU.
 *
 * torch's kernel counts from `start` for the first half and back from `end` for the second,
 * and its vectorised loop computes one base value per 8 lanes and adds `k * step` to it (the
 * multiply-adds are compiled to FMA). Reproducing that, rather than `start + i * step`,
 * changes the last bit of a third of the values.
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  if (!Number.isSafeInteger(steps) || steps < 0) {
    throw new RangeError(`linspace steps must be a non-negative integer, got ${steps}`);
  }
  const out = new Float32Array(steps);
  const first = f32(start);
  const last = f32(end);
  if (steps === 0) return out;
  if (steps === 1) {
    out[0] = first;
    return out;
  }
  const step = f32(f32(last - first) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  // Fused multiply-add: the float32 product is exact in float64, so one rounding remains.
  const valueAt = (i: number) =>
    i < halfway ? f32(first + step * i) : f32(last - step * (steps - i - 1));
  let i = 0;
  // torch's vectorized_loop handles two vectors per iteration and leaves the tail scalar.
  for (; i <= steps - 2 * VECTOR_WIDTH; i += VECTOR_WIDTH) {
    const base = valueAt(i);
    out[i] = base;
    for (let k = 1; k < VECTOR_WIDTH; k++) out[i + k] = f32(base + k * step);
  }
  for (; i < steps; i++) out[i] = valueAt(i);
  return out;
}

/** diffusers' `betas_for_alpha_bar` with the cosine transform (`squaredcos_cap_v2`). */
export function cosineBetas(numTimesteps: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number) => Math.cos((t + 0.008) / 1.008 * Math.PI / 2) ** 2;
  const betas = new Float32Array(numTimesteps);
  for (let i = 0; i < numTimesteps; i++) {
    const t1 = i / numTimesteps;
    const t2 = (i + 1) / numTimesteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/** Beta schedules DDIM supports, as named in diffusers configs. */
export type BetaSchedule = "linear" | "scaled_linear" | "squaredcos_cap_v2";

/** The betas of a named diffusers schedule, in float32. */
export function makeBetas(
  schedule: BetaSchedule,
  betaStart: number,
  betaEnd: number,
  numTimesteps: number,
): Float32Array {
  switch (schedule) {
    case "linear":
      return torchLinspaceF32(betaStart, betaEnd, numTimesteps);
    case "scaled_linear": {
      // Specific to latent diffusion: linear in sqrt(beta), squared in float32.
      const roots = torchLinspaceF32(Math.sqrt(betaStart), Math.sqrt(betaEnd), numTimesteps);
      for (let i = 0; i < roots.length; i++) roots[i] = roots[i] * roots[i];
      return roots;
    }
    case "squaredcos_cap_v2":
      return cosineBetas(numTimesteps);
  }
}

/**
 * `torch.cumprod(1 - betas, 0)` in float32. torch's CPU cumprod accumulates in double
 * (`acc_type<float>`) and rounds each output, so the product is carried in float64 here too.
 */
export function alphasCumprodF32(betas: Float32Array): Float32Array {
  const out = new Float32Array(betas.length);
  let product = 1;
  for (let i = 0; i < betas.length; i++) {
    product *= f32(1 - betas[i]);
    out[i] = product;
  }
  return out;
}
