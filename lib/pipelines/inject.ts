/**
 * The paper's "external factors": at denoising steps inside the injection window the latents
 * receive `scale · M`, where M holds the colour's R, G, B as the constant value of latent
 * channels 0, 1, 2. Kept apart from the sampling loop so the rule is stated, and tested, once.
 *
 * @module
 */

import type { Rgb } from "./colors.ts";

/** How M is formed from the colour. */
export type InjectionMode = "constant" | "gaussian";

/** Injection settings, as validated by {@link validateWindow} and the sampler. */
export interface Injection {
  /** Multiplier of M (the paper: 0.01). */
  scale: number;
  /** First and last denoising step (1-based, inclusive) that receive the injection. */
  window: readonly [number, number];
  /** `constant` is the paper's M; `gaussian` multiplies M element-wise by standard normal noise. */
  mode: InjectionMode;
}

/** Whether denoising step `k` (1-based) lies inside the window. */
export function inWindow(k: number, window: readonly [number, number]): boolean {
  return k >= window[0] && k <= window[1];
}

/**
 * Checks a window against the number of steps.
 *
 * @throws {RangeError} naming `window` when it is not two integers with 1 ≤ first ≤ last ≤ steps.
 */
export function validateWindow(window: readonly [number, number], steps: number): void {
  const [a, b] = window;
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 1 || b < a || b > steps) {
    throw new RangeError(
      `window ${JSON.stringify(window)} is invalid for ${steps} steps: ` +
        `need integers 1 ≤ first ≤ last ≤ ${steps}`,
    );
  }
}

/**
 * Adds `scale · M` to a batch of latents in place.
 *
 * @param latents NCHW latents, N = colors.length
 * @param colors one colour per batch element
 * @param channelSize H × W of one latent channel
 * @param scale the injection scale
 * @param noise for `gaussian` mode, one standard normal draw of shape C×H×W shared by the whole
 *   batch (so a colour's result does not depend on its position in a batch); omit for `constant`
 */
export function injectColor(
  latents: Float32Array,
  colors: readonly Rgb[],
  channelSize: number,
  scale: number,
  noise?: Float32Array,
): void {
  const channels = latents.length / (colors.length * channelSize);
  if (!Number.isInteger(channels) || channels < 3) {
    throw new RangeError(
      `latents of length ${latents.length} do not hold ${colors.length} × ≥3 channels × ${channelSize}`,
    );
  }
  if (noise && noise.length !== channels * channelSize) {
    throw new RangeError(`noise has ${noise.length} values, expected ${channels * channelSize}`);
  }
  for (let b = 0; b < colors.length; b++) {
    for (let c = 0; c < 3; c++) {
      // torch forms scale·M in float32; rounding the same way keeps the sum bit-identical.
      const value = Math.fround(Math.fround(scale) * Math.fround(colors[b][c]));
      const base = (b * channels + c) * channelSize;
      if (noise) {
        const nBase = c * channelSize;
        // (scale·M)·noise is a float32 tensor product before the sum, as in torch.
        for (let i = 0; i < channelSize; i++) {
          latents[base + i] += Math.fround(value * noise[nBase + i]);
        }
      } else {
        for (let i = 0; i < channelSize; i++) latents[base + i] += value;
      }
    }
  }
}
