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
  /**
   * Called after every denoising step with k (1-based) and the number of steps; with the fused
   * loop, for every step of a chunk once the chunk is done.
   */
  onStep?: (k: number, steps: number) => void;
  /**
   * Run the denoising as the fused ONNX loop (`unet_loop.onnx`: injection, UNet and DDIM update
   * for {@link chunkSize} steps per `session.run`, the latents never leaving the runtime) rather
   * than one `session.run` per step. Default: fused on CUDA when eta is 0 and the model has the
   * loop; `true` forces it (also on the CPU), `false` forbids it.
   */
  fused?: boolean;
  /** Steps per `session.run` of the fused loop. Default {@link DEFAULT_CHUNK_SIZE}. */
  chunkSize?: number;
}

/** Steps per `session.run` of the fused loop: few enough runs, frequent enough progress. */
export const DEFAULT_CHUNK_SIZE = 50;

/** What {@link sample} returns; both arrays are NCHW float32. */
export interface SampleResult {
  /** Final latents before decoding, N × C × h × w. */
  latents: Float32Array;
  /** Decoded images in [0, 1], N × 3 × H × W. */
  images: Float32Array;
  /** The colours as used, normalised to [0, 1]. */
  colors: Rgb[];
  /**
   * Milliseconds spent denoising, in `session.run` during it (the rest is the sampler's own
   * overhead), and decoding; whether the fused loop ran, and how many `session.run` it took.
   */
  timings: { denoiseMs: number; runMs: number; decodeMs: number; fused: boolean; runs: number };
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
  const one = c * model.latentSize * model.latentSize;
  const generator = new TorchGenerator(options.seed);
  const noise = generator.randn([1, c, model.latentSize, model.latentSize]);
  const latents = new Float32Array(batch * one);
  for (let b = 0; b < batch; b++) latents.set(noise, b * one);

  const scheduler = new DDIMScheduler(model.info.scheduler);
  scheduler.setTimesteps(steps);
  const fused = options.fused ?? (
    model.device === "cuda" && eta === 0 && model.hasFusedLoop === true
  );
  if (fused && eta !== 0) {
    throw new RangeError(`fused sampling needs eta 0 (deterministic DDIM), got eta ${eta}`);
  }
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  checkNumber("chunkSize", chunkSize, (v) => Number.isInteger(v) && v >= 1, "need an integer ≥ 1");
  const run = { scheduler, generator, latents, colors, batch, steps, scale, window, mode, eta };
  const started = performance.now();
  const { runMs, runs } = fused
    ? await denoiseFused(model, run, chunkSize, options.onStep)
    : await denoiseStepwise(model, run, options.onStep);
  const denoiseMs = performance.now() - started;

  const decodeStarted = performance.now();
  const images = await decode(model, latents, batch, latentScale);
  return {
    latents,
    images,
    colors,
    timings: { denoiseMs, runMs, decodeMs: performance.now() - decodeStarted, fused, runs },
  };
}

/** The state both denoising paths work on. */
interface Run {
  scheduler: DDIMScheduler;
  generator: TorchGenerator;
  /** N × C × h × w, updated in place. */
  latents: Float32Array;
  colors: Rgb[];
  batch: number;
  steps: number;
  scale: number;
  window: readonly [number, number];
  mode: InjectionMode;
  eta: number;
}

function latentShape(model: LoadedModel, batch: number): number[] {
  return [batch, model.latentChannels, model.latentSize, model.latentSize];
}

/** One `session.run` of the UNet per step, the DDIM update in JavaScript. */
async function denoiseStepwise(
  model: LoadedModel,
  r: Run,
  onStep?: (k: number, steps: number) => void,
): Promise<{ runMs: number; runs: number }> {
  const { latents, batch, steps } = r;
  const hw = model.latentSize * model.latentSize;
  const one = model.latentChannels * hw;
  const timesteps = r.scheduler.timesteps;
  // Input tensors wrap buffers we update in place: no per-step allocation on our side.
  const timestep = new Float32Array(batch);
  const feeds = {
    sample: new ort.Tensor("float32", latents, latentShape(model, batch)),
    timestep: new ort.Tensor("float32", timestep, [batch]),
  };
  const stepNoise = r.eta > 0 ? new Float32Array(batch * one) : undefined;
  const draw = new Float32Array(one);
  const stepOptions = { eta: r.eta, varianceNoise: stepNoise, out: latents };
  const unet = await model.unet();
  let runMs = 0;
  for (let k = 1; k <= steps; k++) {
    const t = timesteps[k - 1];
    if (inWindow(k, r.window)) {
      const m = r.mode === "gaussian" ? r.generator.randnInto(draw) : undefined;
      injectColor(latents, r.colors, hw, r.scale, m);
    }
    timestep.fill(t);
    const runStarted = performance.now();
    const out = await unet.run(feeds);
    runMs += performance.now() - runStarted;
    const eps = out.eps.data as Float32Array;
    if (stepNoise) {
      r.generator.randnInto(draw);
      for (let b = 0; b < batch; b++) stepNoise.set(draw, b * one);
    }
    r.scheduler.step(eps, t, latents, stepOptions);
    out.eps.dispose?.();
    onStep?.(k, steps);
  }
  return { runMs, runs: steps };
}

/**
 * The fused loop (see `buildDenoiseLoopGraph`): per chunk of steps, the per-step tables are
 * computed here — timesteps, injection scale (0 outside the window), DDIM coefficients, and in
 * gaussian mode the injection noise drawn in the same order as {@link denoiseStepwise} — and one
 * `session.run` performs the chunk.
 */
async function denoiseFused(
  model: LoadedModel,
  r: Run,
  chunkSize: number,
  onStep?: (k: number, steps: number) => void,
): Promise<{ runMs: number; runs: number }> {
  const session = await model.fusedLoop();
  const { latents, batch, steps } = r;
  const c = model.latentChannels;
  const hw = model.latentSize * model.latentSize;
  const one = c * hw;
  const shape = latentShape(model, batch);
  // M per image: the colour's R, G, B as latent channels 0–2; the graph multiplies it by the
  // step's scale exactly as injectColor does.
  const field = new Float32Array(batch * one);
  for (let b = 0; b < batch; b++) {
    for (let ch = 0; ch < 3; ch++) {
      field.fill(r.colors[b][ch], (b * c + ch) * hw, (b * c + ch + 1) * hw);
    }
  }
  const fieldTensor = new ort.Tensor("float32", field, shape);
  const scale = Math.fround(r.scale);
  let runMs = 0;
  let runs = 0;
  for (let first = 1; first <= steps; first += chunkSize) {
    const n = Math.min(chunkSize, steps - first + 1);
    const tables = {
      timesteps: new Float32Array(n),
      inject_scale: new Float32Array(n),
      sqrt_alpha_prod: new Float32Array(n),
      sqrt_beta_prod: new Float32Array(n),
      sqrt_alpha_prod_prev: new Float32Array(n),
      direction_scale: new Float32Array(n),
    };
    const gaussian = r.mode === "gaussian";
    const noise = gaussian ? new Float32Array(n * one) : new Float32Array(n).fill(1);
    for (let j = 0; j < n; j++) {
      const k = first + j;
      const t = r.scheduler.timesteps[k - 1];
      const coefficients = r.scheduler.stepCoefficients(t, 0);
      tables.timesteps[j] = t;
      tables.sqrt_alpha_prod[j] = coefficients.sqrtAlphaProd;
      tables.sqrt_beta_prod[j] = coefficients.sqrtBetaProd;
      tables.sqrt_alpha_prod_prev[j] = coefficients.sqrtAlphaProdPrev;
      tables.direction_scale[j] = coefficients.directionScale;
      if (inWindow(k, r.window)) {
        tables.inject_scale[j] = scale;
        if (gaussian) r.generator.randnInto(noise.subarray(j * one, (j + 1) * one));
      }
    }
    const feeds: Record<string, ort.Tensor> = {
      latents: new ort.Tensor("float32", latents, shape),
      trip_count: new ort.Tensor("int64", BigInt64Array.of(BigInt(n)), []),
      inject_field: fieldTensor,
      inject_noise: new ort.Tensor(
        "float32",
        noise,
        gaussian ? [n, 1, c, model.latentSize, model.latentSize] : [n, 1, 1, 1, 1],
      ),
    };
    for (const [name, values] of Object.entries(tables)) {
      feeds[name] = new ort.Tensor("float32", values, [n]);
    }
    const runStarted = performance.now();
    const out = await session.run(feeds);
    runMs += performance.now() - runStarted;
    runs++;
    latents.set(out.denoised.data as Float32Array);
    out.denoised.dispose?.();
    for (let k = first; k < first + n; k++) onStep?.(k, steps);
  }
  return { runMs, runs };
}

/** VQ decode, then diffusers' `(image / 2 + 0.5).clamp(0, 1)`. */
async function decode(
  model: LoadedModel,
  latents: Float32Array,
  batch: number,
  latentScale: number,
): Promise<Float32Array> {
  const scaled = new Float32Array(latents.length);
  for (let i = 0; i < latents.length; i++) scaled[i] = latents[i] / latentScale;
  const decoded = await model.decoder.run({
    latents: new ort.Tensor("float32", scaled, latentShape(model, batch)),
  });
  const images = decoded.image.data as Float32Array;
  for (let i = 0; i < images.length; i++) {
    const v = images[i] / 2 + 0.5;
    images[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return images;
}
