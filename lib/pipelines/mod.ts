/**
 * The sampling pipeline: load a converted model, run the paper's colour-injection procedure.
 *
 * @example
 * ```ts
 * import { loadModel, resolveModel, sample } from "./mod.ts";
 * const model = await loadModel(await resolveModel("tiny"), { device: "cpu" });
 * const { images } = await sample(model, { seed: 0, steps: 50, colors: ["#ff0000"] });
 * await model.release();
 * ```
 *
 * @module
 */

export { ColorError, type ColorInput, parseColor, type Rgb, toHex } from "./colors.ts";
export {
  injectColor,
  type Injection,
  type InjectionMode,
  inWindow,
  validateWindow,
} from "./inject.ts";
export {
  CUDA_INSTALL_COMMAND,
  CUDA_INSTALL_HINT,
  CUDA_PROVIDER_FILES,
  type CudaProviderStatus,
  cudaProviderStatus,
} from "./cuda.ts";
export {
  type Device,
  FUSED_LOOP_FILE,
  type LoadedModel,
  loadModel,
  type LoadOptions,
  type ModelInfo,
  ModelLoadError,
  readModelInfo,
} from "./model.ts";
export { DEFAULT_CHUNK_SIZE, sample, type SampleOptions, type SampleResult } from "./sample.ts";
export {
  modelFolderName,
  ModelNotFoundError,
  modelsDir,
  resolveModel,
  type ResolveOptions,
  TINY_SOURCE,
} from "./resolve.ts";
