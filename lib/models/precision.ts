/**
 * The precision option of the model graph builders: fp32 graphs as built, or fp16 graphs made by
 * {@link convertToFloat16} with the numerically delicate parts of each model kept in float32.
 *
 * @module
 */

import { convertToFloat16 } from "../onnx/float16.ts";
import type { OnnxGraph } from "../onnx/graph.ts";

/** Precision of a model graph's weights and arithmetic (inputs and outputs stay float32). */
export type Precision = "fp32" | "fp16";

/**
 * Returns `graph` unchanged for `"fp32"` (or undefined), else its float16 conversion in which
 * the nodes of the given scopes (node names `<scope>/...`) stay float32.
 *
 * @throws {RangeError} for an unknown precision
 */
export function applyPrecision(
  graph: OnnxGraph,
  precision: Precision | undefined,
  float32Scopes: readonly string[],
): OnnxGraph {
  if (precision === undefined || precision === "fp32") return graph;
  if (precision !== "fp16") {
    throw new RangeError(`precision must be "fp32" or "fp16", got ${JSON.stringify(precision)}`);
  }
  return convertToFloat16(graph, {
    keepFloat32: (node) => float32Scopes.some((s) => node.name.startsWith(`${s}/`)),
  });
}
