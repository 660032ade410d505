/**
 * The GPU checks: the CUDA provider's kernel table and the coverage check of our graphs,
 * onnxruntime's node placement read from its verbose log, the device-vs-CPU tolerances, and
 * `deno task gpu-check` as a function.
 *
 * @module
 */

export {
  checkCudaCoverage,
  CUDA_KERNELS,
  type CudaCoverage,
  type CudaKernel,
  cudaKernelFor,
  KERNEL_TABLE_OPSET,
  type UncoveredNode,
} from "./cuda_kernels.ts";
export { type NodeSignature, nodeSignatures } from "./node_types.ts";
export {
  type CpuPlacementSummary,
  ortErrors,
  ortLogMessage,
  parsePlacementLog,
  type PlacedNode,
  type SessionPlacement,
  SHAPE_OPS,
  summarizeCpuPlacement,
} from "./placement.ts";
export { compareToReference, type Comparison, type Tolerance, TOLERANCES } from "./compare.ts";
export {
  type Environment,
  formatGpuCheck,
  GPU_CHECK_EXIT,
  type GpuCheckOptions,
  type GpuCheckReport,
  type ModelCheck,
  runGpuCheck,
  type ThroughputCheck,
} from "./check.ts";
