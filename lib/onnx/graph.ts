/**
 * Plain-data description of an ONNX graph: what {@link GraphBuilder} produces and
 * `serializeModel` encodes. Kept free of protobuf types so that other code (FLOP counters,
 * converters, tests) can walk nodes and initializers without decoding anything.
 *
 * @module
 */

/** Element types used by our graphs, named as ONNX-runtime-node names tensor types. */
export type ElemType = "float32" | "float16" | "int64" | "int32" | "bool";

/** ONNX `TensorProto.DataType` code of each {@link ElemType}. */
export const ONNX_DATA_TYPE: Readonly<Record<ElemType, number>> = {
  float32: 1,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};

/** A dimension: a fixed size, or a symbolic name such as `"batch"` for a dynamic one. */
export type Dim = number | string;

/** Name, element type and (optionally partial) shape of a graph input or output. */
export interface ValueInfo {
  /** Value name as seen by the runtime. */
  name: string;
  /** Element type. */
  elemType: ElemType;
  /** Shape, outermost first; omitted when unknown. */
  shape?: Dim[];
}

/** A typed node attribute (ONNX distinguishes ints from floats, JavaScript does not). */
export type Attribute =
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "string"; value: string }
  | { kind: "ints"; value: readonly number[] }
  | { kind: "floats"; value: readonly number[] }
  | { kind: "graph"; value: Subgraph };

/**
 * The body of a control-flow node (`Loop`, `If`, `Scan`): a graph without opset or metadata of
 * its own. It may read values of the enclosing graphs (outer-scope initializers, inputs and node
 * outputs) by name, which is how a loop body uses weights stored once in the main graph.
 */
export interface Subgraph {
  /** Graph name. */
  name: string;
  /** Inputs, in the order the control-flow operator passes them. */
  inputs: ValueInfo[];
  /** Outputs, in the order the control-flow operator expects them. */
  outputs: ValueInfo[];
  /** Nodes in topological order. */
  nodes: NodeDef[];
  /** Constants local to the body (stored inline). */
  initializers: Initializer[];
}

/** Constructors for {@link Attribute} values. */
export const attr = {
  /** An INT attribute. */
  int: (value: number): Attribute => ({ kind: "int", value }),
  /** A FLOAT attribute. */
  float: (value: number): Attribute => ({ kind: "float", value }),
  /** A STRING attribute. */
  string: (value: string): Attribute => ({ kind: "string", value }),
  /** An INTS attribute. */
  ints: (value: readonly number[]): Attribute => ({ kind: "ints", value }),
  /** A FLOATS attribute. */
  floats: (value: readonly number[]): Attribute => ({ kind: "floats", value }),
  /** A GRAPH attribute (the body of `Loop`, the branches of `If`). */
  graph: (value: Subgraph): Attribute => ({ kind: "graph", value }),
} as const;

/** One operator application. */
export interface NodeDef {
  /** Unique node name (scoped, e.g. `down_blocks.0.resnets.1/Conv`). */
  name: string;
  /** Operator type, e.g. `"Conv"`. */
  opType: string;
  /** Operator domain; `""` is the default ONNX domain. */
  domain: string;
  /** Input value names; `""` marks an omitted optional input. */
  inputs: string[];
  /** Output value names. */
  outputs: string[];
  /** Attributes by name. */
  attributes: Record<string, Attribute>;
}

/** Typed-array storage of an initializer, matching its {@link ElemType}. */
export type InitializerData = Float32Array | BigInt64Array | Int32Array | Uint16Array | Uint8Array;

/** A constant tensor stored in the model (weights, shapes, lookup tables). */
export interface Initializer {
  /** Value name; checkpoint tensors keep their checkpoint key. */
  name: string;
  /** Element type; `data` must be the matching typed array (`Uint16Array` bits for float16). */
  elemType: ElemType;
  /** Dimensions. */
  dims: number[];
  /** Values in row-major order, `numel(dims)` of them. */
  data: InitializerData;
}

/** A complete graph plus the opset it targets. */
export interface OnnxGraph {
  /** Graph name. */
  name: string;
  /** Version of the default ONNX operator set the nodes are written for. */
  opset: number;
  /** Additional operator-set imports (domain → version), e.g. `{"com.microsoft": 1}`. */
  extraOpsets: Record<string, number>;
  /** Runtime inputs (initializers are not listed here). */
  inputs: ValueInfo[];
  /** Graph outputs. */
  outputs: ValueInfo[];
  /** Nodes in topological order. */
  nodes: NodeDef[];
  /** Constant tensors. */
  initializers: Initializer[];
  /** Free-form key/value metadata stored in the model (`metadata_props`). */
  metadata: Record<string, string>;
}
