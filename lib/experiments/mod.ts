/**
 * Declarative experiments: spec files (`defineExperiment`), their checks, the runner with
 * content-addressed resume, manifests, metrics, and the command-line entry point.
 *
 * ```ts
 * import { defineExperiment, runCli } from "../lib/experiments/mod.ts";
 * const spec = defineExperiment({
 *   name: "demo",
 *   model: "tiny",
 *   seed: 42,
 *   path: { type: "bouncingBall" },
 *   frames: { count: 30 },
 * });
 * export default spec;
 * if (import.meta.main) await runCli(spec, Deno.args);
 * ```
 *
 * @module
 */

export {
  defineExperiment,
  describeValue,
  type ExperimentInput,
  type ExplicitFrameInput,
  type FramesInput,
  type Injection,
  MAX_SEED,
  MAX_STEPS,
  PATH_TYPES,
  type PathSpec,
  type ResolvedExperiment,
  resolveExperiment,
  SpecError,
  type SpecOverrides,
} from "./spec.ts";
export { type GridColor, injectionGrid, type InjectionGridOptions } from "./grid.ts";
export {
  defaultRunDir,
  runExperiment,
  type RunOptions,
  type RunResult,
  specHash,
} from "./runner.ts";
export {
  type Manifest,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  type ManifestFrame,
  readManifest,
} from "./manifest.ts";
export { frameKey, type KeyContext, keyMaterial } from "./keys.ts";
export { meanColor, pearson, rmsDistance, summarize } from "./metrics.ts";
export { EXIT_USAGE, main, parseCliArgs, runCli, USAGE, UsageError } from "./cli.ts";
