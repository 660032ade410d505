/**
 * Tensor files: safetensors (read and write) and PyTorch checkpoints (read, through a restricted
 * unpickler that cannot run code).
 *
 * @module
 */

export {
  type DType,
  DTYPE_SIZE,
  f32Tensor,
  floatToHalf,
  halfToFloat,
  i64Tensor,
  numel,
  type RawTensor,
  toBigInt64,
  toFloat32,
} from "./tensor.ts";
export {
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  SafetensorsError,
  type SafetensorsFile,
  writeSafetensors,
} from "./safetensors.ts";
export {
  parseTorchCheckpoint,
  readTorchCheckpoint,
  TorchCheckpointError,
} from "./torch_checkpoint.ts";
export { findWeightsFile, loadCheckpoint, parseCheckpoint } from "./checkpoint.ts";
export { PickleError } from "./pickle.ts";
export { ZipError } from "./zip.ts";
