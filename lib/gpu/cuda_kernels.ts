/**
 * The CUDA execution provider's registered kernels for every operator our graphs emit, and the
 * check that a graph uses only those.
 *
 * Source: onnxruntime's generated kernel list `docs/OperatorKernels.md`, section "Operators
 * implemented by CUDAExecutionProvider" (microsoft/onnxruntime, read at main-branch commit
 * 001d12d2, which lists registrations up to opset 25). Every registration below covers opset 21
 * or older, which onnxruntime supports since 1.18, so onnxruntime-node 1.30.0 has them too (its
 * CUDA provider library itself is downloaded separately, see `lib/pipelines/cuda.ts`). The file
 * is generated from the kernel registries ("Do not modify directly"), so it is what the provider
 * can take.
 * Columns: the ONNX operator version the node has at our opset (from ONNX's operator changelog),
 * the CUDA registration covering it, and the types of the input the registration is typed on.
 *
 * A node can still land on the CPU when its kernel exists: onnxruntime moves small shape
 * computations there on purpose (see `GetCpuPreferredNodes` in
 * `onnxruntime/core/framework/fallback_cpu_capability.cc`); `deno task gpu-check` counts what
 * really happens from onnxruntime's own placement log.
 *
 * @module
 */

import type { ElemType, OnnxGraph } from "../onnx/graph.ts";
import { type NodeSignature, nodeSignatures } from "./node_types.ts";

/** The default-domain opset our graphs are written for (`GraphBuilder`'s default). */
export const KERNEL_TABLE_OPSET = 21;

/** One CUDA kernel registration. */
export interface CudaKernel {
  /** Operator domain (`ai.onnx` or `com.microsoft`). */
  domain: string;
  /** Operator type. */
  op: string;
  /**
   * The operator's version in effect at opset {@link KERNEL_TABLE_OPSET} (contrib operators: 1):
   * the version onnxruntime looks a kernel up by.
   */
  since: number;
  /** The CUDA registration's opset range as OperatorKernels.md prints it. */
  registered: string;
  /** First and last opset of that registration (`Infinity` for "n+"). */
  range: readonly [number, number];
  /** Types the registration accepts for the node's first input (our element-type names). */
  types: readonly ElemType[];
}

const ALL: readonly ElemType[] = ["float32", "float16", "int32", "int64", "bool"];
const FLOATS: readonly ElemType[] = ["float32", "float16"];
const NUMBERS: readonly ElemType[] = ["float32", "float16", "int32", "int64"];

function k(
  domain: string,
  op: string,
  since: number,
  range: readonly [number, number],
  types: readonly ElemType[],
): CudaKernel {
  const registered = range[1] === Infinity
    ? `${range[0]}+`
    : range[0] === range[1]
    ? `${range[0]}`
    : `[${range[0]}, ${range[1]}]`;
  return { domain, op, since, registered, range, types };
}

/**
 * The registrations we rely on (CUDAExecutionProvider, OperatorKernels.md). `types` lists only
 * the element types our graphs can have that the registration accepts (the document's
 * `tensor(float)` is our `float32`).
 */
export const CUDA_KERNELS: readonly CudaKernel[] = [
  k("ai.onnx", "Add", 14, [14, Infinity], NUMBERS),
  k("ai.onnx", "ArgMin", 13, [13, Infinity], FLOATS),
  k("ai.onnx", "Cast", 21, [21, 22], ALL),
  k("ai.onnx", "Clip", 13, [13, Infinity], ["float32", "float16", "int64"]),
  k("ai.onnx", "Concat", 13, [13, Infinity], ALL),
  k("ai.onnx", "Conv", 11, [11, 21], FLOATS),
  k("ai.onnx", "Cos", 7, [7, Infinity], FLOATS),
  k("ai.onnx", "Div", 14, [14, Infinity], NUMBERS),
  k("ai.onnx", "Expand", 13, [13, Infinity], ALL),
  k("ai.onnx", "Gather", 13, [13, Infinity], ALL),
  k("ai.onnx", "Gemm", 13, [13, Infinity], FLOATS),
  k("ai.onnx", "Identity", 21, [19, Infinity], ALL),
  k("ai.onnx", "InstanceNormalization", 6, [6, Infinity], FLOATS),
  // Loop's first input is the trip count M (tensor(int64)); the carried values may be any type.
  k("ai.onnx", "Loop", 21, [19, Infinity], ["int64"]),
  k("ai.onnx", "MatMul", 13, [13, Infinity], FLOATS),
  k("ai.onnx", "Max", 13, [13, Infinity], NUMBERS),
  k("ai.onnx", "Mul", 14, [14, Infinity], NUMBERS),
  k("ai.onnx", "ReduceSum", 13, [13, Infinity], NUMBERS),
  k("ai.onnx", "Reshape", 21, [21, 22], ALL),
  k("ai.onnx", "Resize", 19, [19, Infinity], ["float32", "float16", "int32"]),
  k("ai.onnx", "Shape", 21, [21, 22], ALL),
  k("ai.onnx", "Sigmoid", 13, [13, Infinity], FLOATS),
  k("ai.onnx", "Sin", 7, [7, Infinity], FLOATS),
  k("ai.onnx", "Sqrt", 13, [13, Infinity], FLOATS),
  k("ai.onnx", "Squeeze", 21, [21, 22], ALL),
  k("ai.onnx", "Sub", 14, [14, Infinity], NUMBERS),
  k("ai.onnx", "Transpose", 21, [21, 22], ALL),
  k("ai.onnx", "Unsqueeze", 21, [21, 22], ALL),
  // com.microsoft contrib operators (same document, "Operator Domain: com.microsoft").
  k("com.microsoft", "MultiHeadAttention", 1, [1, Infinity], FLOATS),
];

/** A node whose operator, version or input type the CUDA provider has no kernel for. */
export interface UncoveredNode {
  /** The node. */
  node: NodeSignature;
  /** Why it is not covered. */
  reason: string;
}

/** Outcome of {@link checkCudaCoverage}. */
export interface CudaCoverage {
  /** Every node checked. */
  nodes: NodeSignature[];
  /** The nodes without a CUDA kernel (empty when the whole graph can run on CUDA). */
  uncovered: UncoveredNode[];
  /** Distinct (domain, op, input type) seen, with node counts and whether inside a Loop body. */
  ops: { domain: string; op: string; inputType: string; count: number; inLoop: boolean }[];
}

/** The kernel registration for a domain and operator, if the table has one. */
export function cudaKernelFor(domain: string, op: string): CudaKernel | undefined {
  return CUDA_KERNELS.find((kernel) => kernel.domain === domain && kernel.op === op);
}

/**
 * Checks every node of `graph` (recursively into Loop bodies) against {@link CUDA_KERNELS}: its
 * operator must have a registration covering the version it has at the graph's opset, for the
 * type of its first input.
 */
export function checkCudaCoverage(graph: OnnxGraph): CudaCoverage {
  const nodes = nodeSignatures(graph);
  const uncovered: UncoveredNode[] = [];
  const ops = new Map<string, CudaCoverage["ops"][number]>();
  for (const node of nodes) {
    const key = `${node.domain}:${node.op}:${node.inputType}`;
    const seen = ops.get(key);
    if (seen) {
      seen.count++;
      seen.inLoop ||= node.inLoop;
    } else {
      const { domain, op, inputType, inLoop } = node;
      ops.set(key, { domain, op, inputType, count: 1, inLoop });
    }
    const kernel = cudaKernelFor(node.domain, node.op);
    if (!kernel) {
      uncovered.push({
        node,
        reason: `no CUDA kernel is registered for ${node.domain}:${node.op}`,
      });
    } else if (node.domain === "ai.onnx" && graph.opset !== KERNEL_TABLE_OPSET) {
      uncovered.push({
        node,
        reason: `the graph targets opset ${graph.opset}; the table is written for opset ` +
          `${KERNEL_TABLE_OPSET} (check the operator versions again)`,
      });
    } else if (node.inputType === "unknown" || !kernel.types.includes(node.inputType)) {
      uncovered.push({
        node,
        reason: `CUDA registers ${node.domain}:${node.op} ${kernel.registered} for ${
          kernel.types.join(", ")
        }, not ${node.inputType}`,
      });
    }
  }
  return { nodes, uncovered, ops: [...ops.values()] };
}
