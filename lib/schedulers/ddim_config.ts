/**
 * Validation of a diffusers `DDIMScheduler` config (the `scheduler_config.json` of a pipeline),
 * filling in diffusers 0.31's defaults.
 *
 * @module
 */

import type { BetaSchedule } from "./betas.ts";
import type { TimestepSpacing } from "./timesteps.ts";

/** What the model predicts, as named in diffusers configs. */
export type PredictionType = "epsilon" | "v_prediction" | "sample";

/** A DDIM config with every field present, in diffusers' own (snake_case) names. */
export interface DDIMConfig {
  /** Number of diffusion steps the model was trained with. */
  num_train_timesteps: number;
  /** First beta of the noise schedule. */
  beta_start: number;
  /** Last beta of the noise schedule. */
  beta_end: number;
  /** How betas run from `beta_start` to `beta_end`. */
  beta_schedule: BetaSchedule;
  /** Explicit betas, overriding the schedule when given. */
  trained_betas: number[] | null;
  /** Clip the predicted original sample to ±`clip_sample_range`. */
  clip_sample: boolean;
  /** Bound used by `clip_sample`. */
  clip_sample_range: number;
  /** Use ᾱ = 1 for the step after the last (else ᾱ of timestep 0). */
  set_alpha_to_one: boolean;
  /** Added to every inference timestep (`leading` spacing). */
  steps_offset: number;
  /** What the UNet predicts. */
  prediction_type: PredictionType;
  /** Only `false` is supported (dynamic thresholding is not implemented). */
  thresholding: boolean;
  /** Percentile of dynamic thresholding (unused: thresholding is off). */
  dynamic_thresholding_ratio: number;
  /** Threshold cap of dynamic thresholding (unused). */
  sample_max_value: number;
  /** How inference timesteps are spread over the training steps. */
  timestep_spacing: TimestepSpacing;
  /** Only `false` is supported. */
  rescale_betas_zero_snr: boolean;
}

/** diffusers 0.31 `DDIMScheduler.__init__` defaults. */
export const DDIM_DEFAULTS: Readonly<DDIMConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: "linear",
  trained_betas: null,
  clip_sample: true,
  clip_sample_range: 1.0,
  set_alpha_to_one: true,
  steps_offset: 0,
  prediction_type: "epsilon",
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
  timestep_spacing: "leading",
  rescale_betas_zero_snr: false,
});

/** Thrown for a config field with a wrong type or an unsupported value. */
export class SchedulerConfigError extends Error {
  /**
   * Creates a SchedulerConfigError.
   *
   * @param field the offending config key.
   */
  constructor(readonly field: string, message: string) {
    super(`DDIMScheduler config: ${field} ${message}`);
    this.name = "SchedulerConfigError";
  }
}

/** The result of {@link parseDDIMConfig}. */
export interface ParsedDDIMConfig {
  /** The complete config, defaults filled in. */
  config: DDIMConfig;
  /**
   * Keys diffusers would ignore too: not DDIM parameters (e.g. `timestep_values` in old hub
   * configs). Metadata keys starting with `_` are not listed.
   */
  ignoredKeys: string[];
}

const BETA_SCHEDULES: readonly BetaSchedule[] = ["linear", "scaled_linear", "squaredcos_cap_v2"];
const PREDICTION_TYPES: readonly PredictionType[] = ["epsilon", "v_prediction", "sample"];
const SPACINGS: readonly TimestepSpacing[] = ["leading", "trailing", "linspace"];

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw new SchedulerConfigError(
      field,
      `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${describe(value)}`,
    );
  }
  return value as T;
}

function bool(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new SchedulerConfigError(field, `must be true or false, got ${describe(value)}`);
  }
  return value;
}

function onlyFalse(field: string, value: unknown): false {
  if (bool(field, value)) {
    throw new SchedulerConfigError(field, "is not supported: allowed values are false");
  }
  return false;
}

function finite(field: string, value: unknown, min = -Infinity): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    const range = min === -Infinity ? "a finite number" : `a finite number >= ${min}`;
    throw new SchedulerConfigError(field, `must be ${range}, got ${describe(value)}`);
  }
  return value;
}

function integer(field: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new SchedulerConfigError(field, `must be an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

/**
 * Checks a diffusers scheduler config object and fills in defaults. Keys diffusers does not
 * know for DDIM are ignored (as diffusers does) and reported in `ignoredKeys`.
 *
 * @throws {SchedulerConfigError} naming the field and the allowed values.
 */
export function parseDDIMConfig(raw: unknown): ParsedDDIMConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new SchedulerConfigError("<root>", `must be a JSON object, got ${describe(raw)}`);
  }
  const given = raw as Record<string, unknown>;
  const pick = <K extends keyof DDIMConfig>(key: K): unknown =>
    given[key] === undefined ? DDIM_DEFAULTS[key] : given[key];

  const numTrain = integer("num_train_timesteps", pick("num_train_timesteps"), 1);
  let trainedBetas: number[] | null = null;
  const trained = pick("trained_betas");
  if (trained !== null) {
    if (!Array.isArray(trained) || trained.length !== numTrain) {
      throw new SchedulerConfigError(
        "trained_betas",
        `must be null or an array of num_train_timesteps (${numTrain}) numbers`,
      );
    }
    trainedBetas = trained.map((b, i) => finite(`trained_betas[${i}]`, b, 0));
  }
  const config: DDIMConfig = {
    num_train_timesteps: numTrain,
    beta_start: finite("beta_start", pick("beta_start"), 0),
    beta_end: finite("beta_end", pick("beta_end"), 0),
    beta_schedule: oneOf("beta_schedule", pick("beta_schedule"), BETA_SCHEDULES),
    trained_betas: trainedBetas,
    clip_sample: bool("clip_sample", pick("clip_sample")),
    clip_sample_range: finite("clip_sample_range", pick("clip_sample_range"), 0),
    set_alpha_to_one: bool("set_alpha_to_one", pick("set_alpha_to_one")),
    steps_offset: integer("steps_offset", pick("steps_offset"), 0),
    prediction_type: oneOf("prediction_type", pick("prediction_type"), PREDICTION_TYPES),
    thresholding: onlyFalse("thresholding", pick("thresholding")),
    dynamic_thresholding_ratio: finite(
      "dynamic_thresholding_ratio",
      pick("dynamic_thresholding_ratio"),
    ),
    sample_max_value: finite("sample_max_value", pick("sample_max_value")),
    timestep_spacing: oneOf("timestep_spacing", pick("timestep_spacing"), SPACINGS),
    rescale_betas_zero_snr: onlyFalse("rescale_betas_zero_snr", pick("rescale_betas_zero_snr")),
  };
  const ignoredKeys = Object.keys(given).filter((k) => !k.startsWith("_") && !(k in DDIM_DEFAULTS));
  return { config, ignoredKeys };
}
