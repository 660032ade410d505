/**
 * Diffusion schedulers as pure float32 math, matching diffusers.
 *
 * @module
 */

export { DDIMScheduler, type DDIMStepCoefficients, type DDIMStepOptions } from "./ddim.ts";
export {
  DDIM_DEFAULTS,
  type DDIMConfig,
  type ParsedDDIMConfig,
  parseDDIMConfig,
  type PredictionType,
  SchedulerConfigError,
} from "./ddim_config.ts";
export { alphasCumprodF32, type BetaSchedule, makeBetas, torchLinspaceF32 } from "./betas.ts";
export { inferenceTimesteps, type TimestepSpacing } from "./timesteps.ts";
