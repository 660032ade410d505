/**
 * The DDIM sampler of diffusers 0.31 (`DDIMScheduler`) as pure float32 math: no model inside,
 * the caller supplies the model output. Arithmetic follows the torch float32 operations of
 * diffusers one by one, so results agree with it to rounding.
 *
 * @module
 */

import type { TorchGenerator } from "../noise/torch_randn.ts";
import { alphasCumprodF32, makeBetas } from "./betas.ts";
import { type DDIMConfig, parseDDIMConfig } from "./ddim_config.ts";
import { inferenceTimesteps } from "./timesteps.ts";

const f32 = Math.fround;

/** Options of {@link DDIMScheduler.step}. */
export interface DDIMStepOptions {
  /** Weight of the stochastic part (0 = deterministic DDIM, 1 = DDPM-like). Default 0. */
  eta?: number;
  /** Source of the variance noise when `eta > 0` (`torch.randn(shape, generator=...)`). */
  generator?: TorchGenerator;
  /**
   * Shape of the sample, checked against its length. torch's normal values depend only on the
   * element count, so this does not change the noise. Default `[sample.length]`.
   */
  shape?: readonly number[];
  /** Use this noise instead of drawing from `generator` (diffusers' `variance_noise`). */
  varianceNoise?: Float32Array;
  /** Recompute epsilon from the clipped x0, as diffusers' `use_clipped_model_output`. */
  useClippedModelOutput?: boolean;
  /**
   * Destination of the previous sample; may be `sample` itself for an in-place update.
   * Default: a new array.
   */
  out?: Float32Array;
}

/** The float32 scalars of one DDIM step (see {@link DDIMScheduler.stepCoefficients}). */
export interface DDIMStepCoefficients {
  /** √ᾱ_t. */
  sqrtAlphaProd: number;
  /** √(1 − ᾱ_t). */
  sqrtBetaProd: number;
  /** √ᾱ_prev. */
  sqrtAlphaProdPrev: number;
  /** σ_t = η · √variance (0 for deterministic DDIM). */
  stdDev: number;
  /** √(1 − ᾱ_prev − σ_t²), the weight of the predicted noise ("direction pointing to x_t"). */
  directionScale: number;
}

/**
 * diffusers' `DDIMScheduler`: build it from a `scheduler_config.json` object, call
 * {@link setTimesteps}, then {@link step} once per entry of {@link timesteps}.
 */
export class DDIMScheduler {
  /** The validated config with diffusers' defaults filled in. */
  readonly config: Readonly<DDIMConfig>;
  /** Config keys that are not DDIM parameters and were ignored (as diffusers does). */
  readonly ignoredConfigKeys: readonly string[];
  /** β_t for every training timestep (float32). */
  readonly betas: Float32Array;
  /** ᾱ_t = Π(1 - β) for every training timestep (float32, as torch computes it). */
  readonly alphasCumprod: Float32Array;
  /** ᾱ used after the last step: 1 if `set_alpha_to_one`, else ᾱ_0. */
  readonly finalAlphaCumprod: number;
  /** Standard deviation of the initial noise (always 1 for DDIM). */
  readonly initNoiseSigma = 1;
  /** Denoising timesteps, largest first; all training timesteps until {@link setTimesteps}. */
  timesteps: Int32Array;
  /** Number of inference steps of the last {@link setTimesteps}, or null before it. */
  numInferenceSteps: number | null = null;
  #noise = new Float32Array(0);

  /**
   * Creates a DDIMScheduler.
   *
   * @param rawConfig the parsed JSON of a diffusers scheduler config.
   * @throws {SchedulerConfigError} for invalid or unsupported fields.
   */
  constructor(rawConfig: unknown) {
    const { config, ignoredKeys } = parseDDIMConfig(rawConfig);
    this.config = Object.freeze(config);
    this.ignoredConfigKeys = Object.freeze(ignoredKeys);
    const n = config.num_train_timesteps;
    this.betas = config.trained_betas
      ? Float32Array.from(config.trained_betas)
      : makeBetas(config.beta_schedule, config.beta_start, config.beta_end, n);
    this.alphasCumprod = alphasCumprodF32(this.betas);
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0];
    this.timesteps = new Int32Array(n);
    for (let i = 0; i < n; i++) this.timesteps[i] = n - 1 - i;
  }

  /** Chooses the inference timesteps (`set_timesteps`). */
  setTimesteps(numInferenceSteps: number): Int32Array {
    const n = this.config.num_train_timesteps;
    if (!Number.isSafeInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new RangeError(
        `numInferenceSteps must be a positive integer, got ${numInferenceSteps}`,
      );
    }
    if (numInferenceSteps > n) {
      throw new RangeError(
        `numInferenceSteps ${numInferenceSteps} exceeds num_train_timesteps ${n}`,
      );
    }
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = inferenceTimesteps(
      n,
      numInferenceSteps,
      this.config.timestep_spacing,
      this.config.steps_offset,
    );
    return this.timesteps;
  }

  /** The timestep the step from `t` goes to (negative past the end), as diffusers computes it. */
  previousTimestep(t: number): number {
    return t - Math.floor(this.config.num_train_timesteps / this.#requireSteps());
  }

  /** ᾱ at a timestep, with the final value for negative timesteps. */
  alphaCumprodAt(t: number): number {
    return t >= 0 ? this.alphasCumprod[this.#checkTimestep(t, "timestep")] : this.finalAlphaCumprod;
  }

  /** σ_t² of DDIM (eq. 16 of Song et al. without η), in float32 as diffusers' `_get_variance`. */
  getVariance(t: number, prevT: number): number {
    const alphaProd = this.alphaCumprodAt(t);
    const alphaProdPrev = this.alphaCumprodAt(prevT);
    const betaProd = f32(1 - alphaProd);
    const betaProdPrev = f32(1 - alphaProdPrev);
    return f32(f32(betaProdPrev / betaProd) * f32(1 - f32(alphaProd / alphaProdPrev)));
  }

  /**
   * The float32 scalars {@link step} combines the sample and the model output with at timestep
   * `t`, so that the same update can be evaluated elsewhere (the fused ONNX denoising loop) with
   * the same rounding: for `epsilon` prediction and eta 0,
   * `prev = sqrtAlphaProdPrev · ((x − sqrtBetaProd · ε) / sqrtAlphaProd) + directionScale · ε`,
   * each operation rounded to float32.
   */
  stepCoefficients(t: number, eta = 0): DDIMStepCoefficients {
    this.#checkTimestep(t, "t");
    const prevT = this.previousTimestep(t);
    // Scalars: 0-dim float32 tensors in diffusers, each operation rounded to float32.
    const alphaProd = this.alphasCumprod[t];
    const alphaProdPrev = this.alphaCumprodAt(prevT);
    const betaProd = f32(1 - alphaProd);
    const stdDev = f32(f32(eta) * f32(Math.sqrt(this.getVariance(t, prevT))));
    return {
      sqrtAlphaProd: f32(Math.sqrt(alphaProd)),
      sqrtBetaProd: f32(Math.sqrt(betaProd)),
      sqrtAlphaProdPrev: f32(Math.sqrt(alphaProdPrev)),
      stdDev,
      directionScale: f32(Math.sqrt(f32(f32(1 - alphaProdPrev) - f32(stdDev * stdDev)))),
    };
  }

  /** Returns `sample` unchanged: DDIM needs no input scaling (diffusers' `scale_model_input`). */
  scaleModelInput(sample: Float32Array, _t?: number): Float32Array {
    return sample;
  }

  /**
   * One reverse step x_t → x_{t-Δ} (`step(...).prev_sample`).
   *
   * @param modelOutput the network's prediction for `sample` at `t` (per `prediction_type`).
   * @param t the current timestep, normally an entry of {@link timesteps}.
   * @param sample x_t.
   */
  step(
    modelOutput: Float32Array,
    t: number,
    sample: Float32Array,
    opts: DDIMStepOptions = {},
  ): Float32Array {
    const size = sample.length;
    if (modelOutput.length !== size) {
      throw new RangeError(`modelOutput has ${modelOutput.length} values, sample has ${size}`);
    }
    const out = opts.out ?? new Float32Array(size);
    if (out.length !== size) {
      throw new RangeError(`out has ${out.length} values, sample has ${size}`);
    }
    const eta = opts.eta ?? 0;
    if (!Number.isFinite(eta) || eta < 0) {
      throw new RangeError(`eta must be a finite number >= 0, got ${eta}`);
    }
    const { sqrtAlphaProd, sqrtBetaProd, sqrtAlphaProdPrev, stdDev, directionScale } = this
      .stepCoefficients(t, eta);
    const clip = this.config.clip_sample;
    const clipRange = f32(this.config.clip_sample_range);
    const prediction = this.config.prediction_type;
    const reclip = opts.useClippedModelOutput === true;

    // Draw the noise before writing, in case `out` aliases `sample` or `modelOutput`.
    const noise = eta > 0 ? this.#varianceNoise(size, opts) : null;

    for (let i = 0; i < size; i++) {
      const x = sample[i];
      const m = modelOutput[i];
      let x0: number;
      let epsilon: number;
      if (prediction === "epsilon") {
        x0 = f32(f32(x - f32(sqrtBetaProd * m)) / sqrtAlphaProd);
        epsilon = m;
      } else if (prediction === "sample") {
        x0 = m;
        epsilon = f32(f32(x - f32(sqrtAlphaProd * x0)) / sqrtBetaProd);
      } else {
        x0 = f32(f32(sqrtAlphaProd * x) - f32(sqrtBetaProd * m));
        epsilon = f32(f32(sqrtAlphaProd * m) + f32(sqrtBetaProd * x));
      }
      if (clip) x0 = Math.min(Math.max(x0, -clipRange), clipRange);
      if (reclip) epsilon = f32(f32(x - f32(sqrtAlphaProd * x0)) / sqrtBetaProd);
      let prev = f32(f32(sqrtAlphaProdPrev * x0) + f32(directionScale * epsilon));
      if (noise) prev = f32(prev + f32(stdDev * noise[i]));
      out[i] = prev;
    }
    return out;
  }

  #varianceNoise(size: number, opts: DDIMStepOptions): Float32Array {
    if (opts.shape) {
      const count = opts.shape.reduce((a, b) => a * b, 1);
      if (count !== size) {
        throw new RangeError(`shape [${opts.shape}] has ${count} elements, sample has ${size}`);
      }
    }
    if (opts.varianceNoise) {
      if (opts.generator) {
        throw new TypeError("pass either generator or varianceNoise to step(), not both");
      }
      if (opts.varianceNoise.length !== size) {
        throw new RangeError(
          `varianceNoise has ${opts.varianceNoise.length} values, sample has ${size}`,
        );
      }
      return opts.varianceNoise;
    }
    if (!opts.generator) {
      throw new TypeError("step() with eta > 0 needs opts.generator or opts.varianceNoise");
    }
    if (this.#noise.length !== size) this.#noise = new Float32Array(size);
    return opts.generator.randnInto(this.#noise);
  }

  #requireSteps(): number {
    if (this.numInferenceSteps === null) {
      throw new Error("DDIMScheduler: call setTimesteps() before step()");
    }
    return this.numInferenceSteps;
  }

  #checkTimestep(t: number, name: string): number {
    const n = this.config.num_train_timesteps;
    if (!Number.isInteger(t) || t < 0 || t >= n) {
      throw new RangeError(`${name} must be an integer timestep in [0, ${n - 1}], got ${t}`);
    }
    return t;
  }
}
