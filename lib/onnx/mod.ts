/**
 * A small ONNX graph builder and serializer (protobuf encoding by onnx-proto).
 *
 * @example
 * ```ts
 * import { GraphBuilder, serializeModel } from "./mod.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", ["batch", 4]);
 * b.output(b.sigmoid(x), "y", "float32", ["batch", 4]);
 * const { model } = serializeModel(b.build());
 * ```
 *
 * @module
 */

export {
  attr,
  type Attribute,
  type Dim,
  type ElemType,
  type Initializer,
  type InitializerData,
  type NodeDef,
  ONNX_DATA_TYPE,
  type OnnxGraph,
  type Subgraph,
  type ValueInfo,
} from "./graph.ts";
export {
  type ConvOptions,
  DEFAULT_OPSET,
  GraphBuilder,
  type GraphBuilderOptions,
  type GroupNormOptions,
  MIN_OPSET,
} from "./graph_builder.ts";
export { convertToFloat16, type Float16Options } from "./float16.ts";
export {
  type DataLocation,
  type SavedModel,
  saveModel,
  type SaveOptions,
  type SerializedModel,
  serializeModel,
  type SerializeOptions,
} from "./serialize.ts";
