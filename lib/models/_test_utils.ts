/**
 * Shared pieces of the model tests: the reference fixtures and running a graph with
 * onnxruntime-node on the CPU.
 *
 * @module
 */

import ort from "onnxruntime-node";
import { readSafetensors } from "../io/safetensors.ts";
import type { RawTensor } from "../io/tensor.ts";
import type { OnnxGraph } from "../onnx/graph.ts";
import { serializeModel } from "../onnx/serialize.ts";

/** The diffusers reference data folder. */
export const REFERENCE = new URL("../testdata/ldm-reference/", import.meta.url).pathname;

/** Reads a JSON file of the reference data. */
export async function referenceJson(path: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(`${REFERENCE}${path}`));
}

/** Reads the tensors of a safetensors file of the reference data. */
export async function referenceTensors(path: string): Promise<Map<string, RawTensor>> {
  return (await readSafetensors(`${REFERENCE}${path}`)).tensors;
}

/** Runs a graph once (in-memory model, CPU) and returns its outputs. */
export async function runGraph(
  graph: OnnxGraph,
  feeds: Record<string, ort.Tensor>,
  threads = 1,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(serializeModel(graph).model, {
    intraOpNumThreads: threads,
  });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Largest absolute elementwise difference (Infinity if any value is NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Infinity;
    if (d > worst) worst = d;
  }
  return worst;
}
