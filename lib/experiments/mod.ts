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
  isMultiSeed,
  MAX_FRAMES,
  MAX_GRID_FRAMES,
  MAX_SEED,
  MAX_STEPS,
  parseSeedsText,
  PATH_TYPES,
  type PathSpec,
  type ResolvedExperiment,
  resolveExperiment,
  runSeeds,
  type SeedInput,
  type SeedsInput,
  SpecError,
  type SpecOverrides,
} from "./spec.ts";
export { planFrames, type PlannedFrame, type SeedGrid, seedGrid } from "./plan.ts";
export { type FrameGrid, frameGrid, type GridPosition } from "./seed_grid.ts";
export { type GridColor, injectionGrid, type InjectionGridOptions } from "./grid.ts";
export {
  defaultRunDir,
  LOCK_FILE,
  runExperiment,
  type RunOptions,
  type RunResult,
  specHash,
} from "./runner.ts";
export {
  type Manifest,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  ManifestError,
  type ManifestFrame,
  type ManifestIdentity,
  readManifest,
} from "./manifest.ts";
export {
  checkManifestJson,
  FRAME_FILE_RULE,
  frameFileName,
  isFrameFileOf,
  ManifestFormatError,
  manifestSchema,
  parseManifestText,
} from "./manifest_schema.ts";
export { MergeError, type MergeOptions, mergeShards } from "./merge.ts";
export { formatShard, inShard, parseShard, type Shard } from "./shard.ts";
export { acquireLock, type Lock, LockHeldError, type LockHolder } from "../util/lock.ts";
export { InterruptedError, SIGNAL_EXIT_CODES } from "./interrupt.ts";
export { DiskFullError } from "./files.ts";
export { ModelFileError, verifyModelFiles } from "../pipelines/model_files.ts";
export { frameKey, frameKeys, type KeyContext, keyContextFor, keyMaterial } from "./keys.ts";
export { meanColor, pearson, previousOnPath, rmsDistance, summarize } from "./metrics.ts";
export { EXIT_USAGE, main, parseCliArgs, reportError, runCli, USAGE, UsageError } from "./cli.ts";
