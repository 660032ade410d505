/**
 * The paper's procedure: fixed initial noise (the "innate" factors), colour injection at the
 * denoising steps of a window (the "external" factors), DDIM to the end, then the VQ decoder.
 * The networks are onnxruntime sessions; the scheduler is pure math; this file is the loop that
 * joins them, as a diffusers pipeline would.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { TorchGenerator } from "../noise/mod.ts";
import { DDIMScheduler } from "../schedulers/mod.ts";
import { type ColorInput, parseColor, type Rgb } from "./colors.ts";
import { injectColor, type InjectionMode, inWindow, validateWindow } from "./inject.ts";
import type { LoadedModel } from "./model.ts";

/** Inputs of {@link sample}. */
export interface SampleOptions {
  /** Seed of the initial noise, as given to `torch.manual_seed` (0 … 2**64-1). */
  seed: number | bigint;
  /** Number of DDIM steps (the paper: 1000). */
  steps: number;
  /** One colour per image of the batch; every image starts from the same noise. */
  colors: readonly ColorInput[];
  /** Injection scale (the paper: 0.01). Default 0.01. */
  scale?: number;
  /** First and last denoising step receiving the injection, 1-based inclusive. Default [1, 10]. */
  window?: readonly [number, number];
  /** `constant` (the paper) or `gaussian`. Default `constant`. */
  mode?: InjectionMode;
  /** Divide the final latents by this before decoding. Default: the model's `latentScale`. */
  latentScale?: number;
  /** DDIM eta (0: deterministic, the paper). Default 0. */
  eta?: number;
  /** Called after every denoising step with k (1-based) and the number of steps. */
  onStep?: (k: number, steps: number) => void;
}

/** What {@link sample} returns; both arrays are NCHW float32. */
export interface SampleResult {
  /** Final latents before decoding, N × C × h × w. */
  latents: Float32Array;
  /** Decoded images in [0, 1], N × 3 × H × W. */
  images: Float32Array;
  /** The colours as used, normalised to [0, 1]. */
  colors: Rgb[];
  /** Milliseconds spent in the UNet loop and in the decoder. */
  timings: { denoiseMs: number; decodeMs: number };
}

function checkNumber(name: string, value: number, ok: (v: number) => boolean, allowed: string) {
  if (typeof value !== "number" || !Number.isFinite(value) || !ok(value)) {
    throw new RangeError(`${name} ${JSON.stringify(value)} is invalid: ${allowed}`);
  }
}

/**
 * Runs the paper's colour-injection sampling for a batch of colours sharing one initial noise.
 *
 * Random draws come from one torch-compatible generator seeded with `seed`, in diffusers' order:
 * the initial noise `randn(1, C, h, w)` (repeated over the batch), then per step the Gaussian
 * injection noise (mode `gaussian`) and the DDIM noise (eta > 0), each drawn once for the whole
 * batch so that an image does not depend on the batch it is computed in.
 */
export async function sample(model: LoadedModel, options: SampleOptions): Promise<SampleResult> {
  const steps = options.steps;
  checkNumber("steps", steps, (v) => Number.isInteger(v) && v >= 1, "need an integer ≥ 1");
  const scale = options.scale ?? 0.01;
  checkNumber("scale", scale, () => true, "need a finite number");
  const window = options.window ?? [1, 10];
  validateWindow(window, steps);
  const mode = options.mode ?? "constant";
  if (mode !== "constant" && mode !== "gaussian") {
    throw new RangeError(`mode ${JSON.stringify(mode)} is invalid: need "constant" or "gaussian"`);
  }
  const latentScale = options.latentScale ?? model.info.latentScale;
  checkNumber("latentScale", latentScale, (v) => v > 0, "need a number > 0");
  const eta = options.eta ?? 0;
  checkNumber("eta", eta, (v) => v >= 0, "need a number ≥ 0");
  if (!Array.isArray(options.colors) || options.colors.length === 0) {
    throw new RangeError("colors must hold at least one colour");
  }
  const colors = options.colors.map(parseColor);

  const batch = colors.length;
  const c = model.latentChannels;
  const hw = model.latentSize * model.latentSize;
  const one = c * hw;
  const generator = new TorchGenerator(options.seed);
  const noise = generator.randn([1, c, model.latentSize, model.latentSize]);
  const latents = new Float32Array(batch * one);
  for (let b = 0; b < batch; b++) latents.set(noise, b * one);

  const scheduler = new DDIMScheduler(model.info.scheduler);
  scheduler.setTimesteps(steps);
  const timesteps = scheduler.timesteps;
  const shape = [batch, c, model.latentSize, model.latentSize];
  // Input tensors wrap buffers we update in place: no per-step allocation on our side.
  const timestep = new Float32Array(batch);
  const feeds = {
    sample: new ort.Tensor("float32", latents, shape),
    timestep: new ort.Tensor("float32", timestep, [batch]),
  };
  const stepNoise = eta > 0 ? new Float32Array(batch * one) : undefined;
  const draw = new Float32Array(one);

  const started = performance.now();
  for (let k = 1; k <= steps; k++) {
    const t = timesteps[k - 1];
    if (inWindow(k, window)) {
      const m = mode === "gaussian" ? generator.randnInto(draw) : undefined;
      injectColor(latents, colors, hw, scale, m);
    }
    timestep.fill(t);
    const out = await model.unet.run(feeds);
    const eps = out.eps.data as Float32Array;
    if (stepNoise) {
      generator.randnInto(draw);
      for (let b = 0; b < batch; b++) stepNoise.set(draw, b * one);
    }
    scheduler.step(eps, t, latents, { eta, varianceNoise: stepNoise, out: latents });
    out.eps.dispose?.();
    options.onStep?.(k, steps);
  }
  const denoiseMs = performance.now() - started;

  const decodeStarted = performance.now();
  const scaled = new Float32Array(latents.length);
  for (let i = 0; i < latents.length; i++) scaled[i] = latents[i] / latentScale;
  const decoded = await model.decoder.run({ latents: new ort.Tensor("float32", scaled, shape) });
  const images = decoded.image.data as Float32Array;
  // diffusers: (image / 2 + 0.5).clamp(0, 1)
  for (let i = 0; i < images.length; i++) {
    const v = images[i] / 2 + 0.5;
    images[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return {
    latents,
    images,
    colors,
    timings: { denoiseMs, decodeMs: performance.now() - decodeStarted },
  };
}
