/**
 * Inference timestep selection of diffusers 0.31 (`timestep_spacing`), including numpy's
 * rounding (half to even) and its way of filling float `arange`/`linspace`, so the integer
 * timesteps match diffusers exactly.
 *
 * @module
 */

/** How inference timesteps are spread over the training timesteps. */
export type TimestepSpacing = "leading" | "trailing" | "linspace";

/** `np.round` for one float64: ties go to the even integer. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** `np.linspace(start, stop, num)` (endpoint included) in float64. */
export function numpyLinspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const div = num - 1;
  const delta = stop - start;
  const step = div > 0 ? delta / div : NaN;
  for (let i = 0; i < num; i++) {
    // numpy divides instead of multiplying by a zero step, and with one sample keeps `start`.
    const offset = div > 0 ? (step === 0 ? (i / div) * delta : i * step) : i * delta;
    out[i] = offset + start;
  }
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** `np.arange(start, stop, step)` for float64 arguments. */
export function numpyArange(start: number, stop: number, step: number): Float64Array {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Float64Array(length);
  if (length === 0) return out;
  out[0] = start;
  // numpy's fill derives its increment from the first two values, not from `step` itself.
  const delta = (start + step) - start;
  for (let i = 1; i < length; i++) out[i] = start + i * delta;
  return out;
}

/**
 * diffusers `DDIMScheduler.set_timesteps` timestep values, largest first.
 *
 * @param numTrainTimesteps `num_train_timesteps` of the config.
 * @param numInferenceSteps requested number of denoising steps.
 * @param spacing `timestep_spacing` of the config.
 * @param stepsOffset `steps_offset` of the config (used by "leading" only, as in diffusers).
 */
export function inferenceTimesteps(
  numTrainTimesteps: number,
  numInferenceSteps: number,
  spacing: TimestepSpacing,
  stepsOffset: number,
): Int32Array {
  switch (spacing) {
    case "linspace": {
      const values = numpyLinspace(0, numTrainTimesteps - 1, numInferenceSteps);
      return Int32Array.from(values.reverse(), roundHalfEven);
    }
    case "leading": {
      const stepRatio = Math.floor(numTrainTimesteps / numInferenceSteps);
      const out = new Int32Array(numInferenceSteps);
      for (let i = 0; i < numInferenceSteps; i++) {
        out[i] = (numInferenceSteps - 1 - i) * stepRatio + stepsOffset;
      }
      return out;
    }
    case "trailing": {
      const stepRatio = numTrainTimesteps / numInferenceSteps;
      const values = numpyArange(numTrainTimesteps, 0, -stepRatio);
      // astype(int64) of an already rounded value, then minus one.
      return Int32Array.from(values, (v) => roundHalfEven(v) - 1);
    }
  }
}
