/**
 * An imperative builder for ONNX graphs: each helper appends one node (or a short, standard
 * sequence of nodes) and returns the name of the value it produces, so model code reads like the
 * PyTorch forward it mirrors. Names are scoped (`down_blocks.0.resnets.1/Conv`) and always unique.
 *
 * @module
 */

import { numel, type RawTensor, toFloat32 } from "../io/tensor.ts";
import {
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

/**
 * The default ONNX opset: 21 is the newest onnxruntime 1.30 runs on CPU for every operator we
 * use, and the first whose `GroupNormalization` takes per-channel scale and bias.
 */
export const DEFAULT_OPSET = 21;

/** The oldest opset the helpers target (reduce and split axes moved to inputs in opset 18). */
export const MIN_OPSET = 18;

/** Options of {@link GraphBuilder}. */
export interface GraphBuilderOptions {
  /** Graph name (default `"main"`). */
  name?: string;
  /** Default-domain opset, {@link MIN_OPSET} or newer (default {@link DEFAULT_OPSET}). */
  opset?: number;
}

/** Options of {@link GraphBuilder.conv}. */
export interface ConvOptions {
  /** Strides per spatial axis (default 1). */
  strides?: number[];
  /** Padding as ONNX orders it: all begins, then all ends (default 0). */
  pads?: number[];
  /** Dilations per spatial axis (default 1). */
  dilations?: number[];
  /** Number of groups (default 1). */
  group?: number;
}

/** Options of {@link GraphBuilder.groupNorm}. */
export interface GroupNormOptions {
  /** Number of channel groups; the channel count must be divisible by it. */
  groups: number;
  /** Variance epsilon, as `torch.nn.GroupNorm(eps=...)`. */
  epsilon: number;
  /** Per-channel scale (γ) value, shape [C]. */
  scale: string;
  /** Per-channel bias (β) value, shape [C]. */
  bias: string;
  /** Rank of the input (default 4, i.e. N,C,H,W). */
  rank?: number;
}

/** The largest constant (in elements) that is shared between identical requests. */
const SHARED_CONSTANT_LIMIT = 64;

/**
 * Builds one ONNX graph. Values are referred to by name (strings); every helper returns the name
 * of its output. Call {@link GraphBuilder.build} at the end to obtain an {@link OnnxGraph}.
 */
export class GraphBuilder {
  /** Default-domain opset the graph targets. */
  readonly opset: number;
  readonly #name: string;
  readonly #inputs: ValueInfo[] = [];
  readonly #outputs: ValueInfo[] = [];
  readonly #nodes: NodeDef[] = [];
  readonly #initializers = new Map<string, Initializer>();
  readonly #extraOpsets: Record<string, number> = {};
  readonly #metadata: Record<string, string> = {};
  readonly #usedNames = new Set<string>();
  readonly #sharedConstants = new Map<string, string>();
  readonly #scopes: string[] = [];

  /** @param options graph name and opset */
  constructor(options: GraphBuilderOptions = {}) {
    this.#name = options.name ?? "main";
    this.opset = options.opset ?? DEFAULT_OPSET;
    if (!Number.isInteger(this.opset) || this.opset < MIN_OPSET) {
      throw new RangeError(`opset must be an integer >= ${MIN_OPSET}, got ${options.opset}`);
    }
  }

  // ---------------------------------------------------------------- structure

  /**
   * Runs `body` with `name` as the scope of every node it creates: nodes are named
   * `<innermost scope>/<OpType>`, so scopes are meant to be absolute module paths such as
   * `down_blocks.0.resnets.1` (nesting only matters in that the inner one wins).
   */
  scope<T>(name: string, body: () => T): T {
    this.#scopes.push(name);
    try {
      return body();
    } finally {
      this.#scopes.pop();
    }
  }

  /** Declares a graph input and returns its name. Use strings in `shape` for dynamic dims. */
  input(name: string, elemType: ElemType, shape: Dim[]): string {
    this.#claim(name);
    this.#inputs.push({ name, elemType, shape: [...shape] });
    return name;
  }

  /**
   * Declares `value` as a graph output called `name` (an Identity node renames it if needed).
   */
  output(value: string, name: string, elemType: ElemType, shape?: Dim[]): void {
    if (value !== name) {
      this.#claim(name);
      this.#nodes.push({
        name: this.#uniqueName(`${name}/Identity`),
        opType: "Identity",
        domain: "",
        inputs: [value],
        outputs: [name],
        attributes: {},
      });
    }
    this.#outputs.push({ name, elemType, shape: shape ? [...shape] : undefined });
  }

  /**
   * Declares values defined in an enclosing graph, so that nodes of this (sub)graph may read
   * them and no new value takes their names (ONNX forbids a subgraph to shadow outer names).
   */
  outerScope(names: Iterable<string>): void {
    for (const name of names) this.#usedNames.add(name);
  }

  /**
   * Appends every node of `graph`, with its inputs bound to values of this graph, and returns
   * the value names of its outputs. Its initializers are not copied: the caller stores them
   * where they are visible (typically as outer-scope initializers of a loop body, declared with
   * {@link outerScope}). Value and node names are kept, so they must not collide with this
   * graph's.
   *
   * @param inputs value of this graph for every input of `graph`, by input name
   * @throws {RangeError} for an unbound input or a name collision
   */
  include(graph: Subgraph, inputs: Record<string, string>): Record<string, string> {
    const rename = new Map<string, string>();
    for (const input of graph.inputs) {
      const bound = inputs[input.name];
      if (bound === undefined || !this.#usedNames.has(bound)) {
        throw new RangeError(
          `include(${graph.name}): input "${input.name}" is not bound to a defined value`,
        );
      }
      rename.set(input.name, bound);
    }
    const initializerNames = new Set(graph.initializers.map((i) => i.name));
    for (const node of graph.nodes) {
      const nodeInputs = node.inputs.map((name) => rename.get(name) ?? name);
      for (const name of nodeInputs) {
        if (name !== "" && !this.#usedNames.has(name) && !initializerNames.has(name)) {
          throw new RangeError(
            `include(${graph.name}): node "${node.name}" reads undefined value "${name}"`,
          );
        }
      }
      for (const out of node.outputs) this.#claim(out);
      this.#usedNames.add(node.name);
      this.#nodes.push({ ...node, inputs: nodeInputs, outputs: [...node.outputs] });
    }
    return Object.fromEntries(
      graph.outputs.map((o) => [o.name, rename.get(o.name) ?? o.name]),
    );
  }

  /** Returns the finished graph as the body of a control-flow node (see {@link attr.graph}). */
  buildSubgraph(): Subgraph {
    if (this.#outputs.length === 0) throw new RangeError(`graph "${this.#name}" has no outputs`);
    return {
      name: this.#name,
      inputs: this.#inputs,
      outputs: this.#outputs,
      nodes: this.#nodes,
      initializers: [...this.#initializers.values()],
    };
  }

  /** Stores a key/value pair in the model's `metadata_props`. */
  setMetadata(key: string, value: string): void {
    this.#metadata[key] = value;
  }

  /** Declares an extra operator-set import, e.g. `("com.microsoft", 1)`. */
  importOpset(domain: string, version: number): void {
    this.#extraOpsets[domain] = version;
  }

  /**
   * Adds a named initializer. A {@link RawTensor} of any float dtype is stored as float32
   * (F32 data aligned in memory is referenced, not copied).
   *
   * @throws {RangeError} if the name is taken or the data does not fit the dims
   */
  initializer(name: string, value: RawTensor | Initializer["data"], dims?: number[]): string {
    let init: Initializer;
    if (ArrayBuffer.isView(value)) {
      if (!dims) throw new RangeError(`initializer "${name}": dims are required for typed arrays`);
      init = { name, elemType: elemTypeOf(value), dims: [...dims], data: value };
    } else {
      const shape = dims ?? value.shape;
      if (numel(shape) !== numel(value.shape)) {
        throw new RangeError(`initializer "${name}": dims [${shape}] do not fit [${value.shape}]`);
      }
      init = rawToInitializer(name, value, shape);
    }
    if (init.data.length !== numel(init.dims)) {
      throw new RangeError(
        `initializer "${name}": dims [${init.dims}] need ${
          numel(init.dims)
        } values, got ${init.data.length}`,
      );
    }
    this.#claim(name);
    this.#initializers.set(name, init);
    return name;
  }

  /** A float32 constant; small ones are shared between identical requests. */
  constFloat(values: readonly number[] | Float32Array, dims?: number[]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    return this.#constant(data, dims ?? [data.length]);
  }

  /** An int64 constant (shapes, axes, indices); small ones are shared. */
  constInt64(values: readonly number[], dims?: number[]): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    return this.#constant(data, dims ?? [data.length]);
  }

  /** Whether a value name is already used by an input, initializer or node output. */
  has(name: string): boolean {
    return this.#usedNames.has(name);
  }

  /** The initializer of that name, if any (useful for folding constants at build time). */
  getInitializer(name: string): Initializer | undefined {
    return this.#initializers.get(name);
  }

  /** Number of nodes added so far. */
  get nodeCount(): number {
    return this.#nodes.length;
  }

  /**
   * Appends a node of any operator and returns its output names.
   *
   * @param opType operator, e.g. `"Conv"`
   * @param inputs input names; `""` for an omitted optional input
   * @param attributes typed attributes (see {@link attr})
   * @param options number of outputs (default 1) and operator domain (default `""`)
   */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, Attribute> = {},
    options: { outputs?: number; domain?: string } = {},
  ): string[] {
    for (const input of inputs) {
      if (input !== "" && !this.#usedNames.has(input)) {
        throw new RangeError(`${opType}: input "${input}" is not defined in the graph`);
      }
    }
    const scope = this.#scopes.at(-1);
    const name = this.#uniqueName(scope ? `${scope}/${opType}` : opType);
    const count = options.outputs ?? 1;
    const outputs = count === 1 ? [name] : Array.from({ length: count }, (_, i) => {
      const out = `${name}:${i}`;
      this.#claim(out);
      return out;
    });
    this.#nodes.push({
      name,
      opType,
      domain: options.domain ?? "",
      inputs: [...inputs],
      outputs,
      attributes,
    });
    return outputs;
  }

  /** Returns the finished graph. The builder must not be used afterwards. */
  build(): OnnxGraph {
    if (this.#outputs.length === 0) throw new RangeError(`graph "${this.#name}" has no outputs`);
    return {
      name: this.#name,
      opset: this.opset,
      extraOpsets: { ...this.#extraOpsets },
      inputs: this.#inputs,
      outputs: this.#outputs,
      nodes: this.#nodes,
      initializers: [...this.#initializers.values()],
      metadata: { ...this.#metadata },
    };
  }

  // ---------------------------------------------------------------- elementwise

  /** `a + b` (numpy broadcasting). */
  add(a: string, b: string): string {
    return this.#op("Add", [a, b]);
  }

  /** `a - b`. */
  sub(a: string, b: string): string {
    return this.#op("Sub", [a, b]);
  }

  /** `a * b`. */
  mul(a: string, b: string): string {
    return this.#op("Mul", [a, b]);
  }

  /** `a / b`. */
  div(a: string, b: string): string {
    return this.#op("Div", [a, b]);
  }

  /** Elementwise maximum. */
  max(a: string, b: string): string {
    return this.#op("Max", [a, b]);
  }

  /** Logistic sigmoid. */
  sigmoid(x: string): string {
    return this.#op("Sigmoid", [x]);
  }

  /** SiLU (swish): `x * sigmoid(x)`, the form onnxruntime fuses. */
  silu(x: string): string {
    return this.mul(x, this.sigmoid(x));
  }

  /** Sine. */
  sin(x: string): string {
    return this.#op("Sin", [x]);
  }

  /** Cosine. */
  cos(x: string): string {
    return this.#op("Cos", [x]);
  }

  /** Natural exponential. */
  exp(x: string): string {
    return this.#op("Exp", [x]);
  }

  /** Square root. */
  sqrt(x: string): string {
    return this.#op("Sqrt", [x]);
  }

  /** Converts to another element type. */
  cast(x: string, to: ElemType): string {
    return this.#op("Cast", [x], { to: attr.int(ONNX_DATA_TYPE[to]) });
  }

  /** Passes a value through unchanged (useful to give it a scoped name). */
  identity(x: string): string {
    return this.#op("Identity", [x]);
  }

  // ---------------------------------------------------------------- linear algebra

  /** Batched matrix product with numpy broadcasting. */
  matmul(a: string, b: string): string {
    return this.#op("MatMul", [a, b]);
  }

  /**
   * `alpha * op(a) @ op(b) + beta * c` for 2-D `a` and `b`; `transB` suits PyTorch Linear
   * weights ([out, in]).
   */
  gemm(
    a: string,
    b: string,
    c?: string,
    options: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {},
  ): string {
    const attributes: Record<string, Attribute> = {};
    if (options.transA) attributes.transA = attr.int(1);
    if (options.transB) attributes.transB = attr.int(1);
    if (options.alpha !== undefined) attributes.alpha = attr.float(options.alpha);
    if (options.beta !== undefined) attributes.beta = attr.float(options.beta);
    return this.#op("Gemm", c ? [a, b, c] : [a, b], attributes);
  }

  /** PyTorch `nn.Linear` on a 2-D input: `x @ weight.T + bias`. */
  linear(x: string, weight: string, bias?: string): string {
    return this.gemm(x, weight, bias, { transB: true });
  }

  /** N-d convolution (weights [O, I/group, k...], optional bias [O]). */
  conv(x: string, weight: string, bias?: string, options: ConvOptions = {}): string {
    const attributes: Record<string, Attribute> = {};
    if (options.strides) attributes.strides = attr.ints(options.strides);
    if (options.pads) attributes.pads = attr.ints(options.pads);
    if (options.dilations) attributes.dilations = attr.ints(options.dilations);
    if (options.group && options.group !== 1) attributes.group = attr.int(options.group);
    return this.#op("Conv", bias ? [x, weight, bias] : [x, weight], attributes);
  }

  // ---------------------------------------------------------------- shapes

  /** The shape of `x` as an int64 vector. */
  shape(x: string, start?: number, end?: number): string {
    const attributes: Record<string, Attribute> = {};
    if (start !== undefined) attributes.start = attr.int(start);
    if (end !== undefined) attributes.end = attr.int(end);
    return this.#op("Shape", [x], attributes);
  }

  /**
   * Reshapes to a constant shape (0 copies the input dim, -1 is inferred) or to the shape held
   * in the int64 value named `shape`.
   */
  reshape(x: string, shape: readonly number[] | string): string {
    const s = typeof shape === "string" ? shape : this.constInt64(shape);
    return this.#op("Reshape", [x, s]);
  }

  /** Permutes axes. */
  transpose(x: string, perm: readonly number[]): string {
    return this.#op("Transpose", [x], { perm: attr.ints(perm) });
  }

  /** Inserts size-1 axes. */
  unsqueeze(x: string, axes: readonly number[]): string {
    return this.#op("Unsqueeze", [x, this.constInt64(axes)]);
  }

  /** Removes size-1 axes. */
  squeeze(x: string, axes: readonly number[]): string {
    return this.#op("Squeeze", [x, this.constInt64(axes)]);
  }

  /** Joins values along `axis`. */
  concat(values: readonly string[], axis: number): string {
    return this.#op("Concat", values, { axis: attr.int(axis) });
  }

  /** Splits along `axis` into pieces of the given sizes. */
  split(x: string, axis: number, sizes: readonly number[]): string[] {
    return this.node("Split", [x, this.constInt64(sizes)], { axis: attr.int(axis) }, {
      outputs: sizes.length,
    });
  }

  /** `x[starts:ends]` along `axes` (ONNX Slice with constant bounds). */
  slice(x: string, starts: number[], ends: number[], axes: number[]): string {
    return this.#op("Slice", [
      x,
      this.constInt64(starts),
      this.constInt64(ends),
      this.constInt64(axes),
    ]);
  }

  /** Pads with a constant value; `pads` lists all begins then all ends. */
  pad(x: string, pads: readonly number[], value = 0): string {
    return this.#op("Pad", [x, this.constInt64(pads), this.constFloat([value], [])]);
  }

  /** Broadcasts `x` to the shape held in the int64 value `shape`. */
  expand(x: string, shape: string): string {
    return this.#op("Expand", [x, shape]);
  }

  /** Rows of `data` selected by `indices` along `axis`. */
  gather(data: string, indices: string, axis = 0): string {
    return this.#op("Gather", [data, indices], { axis: attr.int(axis) });
  }

  /**
   * Nearest-neighbour upsampling by integer factors per axis, exactly as PyTorch's
   * `F.interpolate(mode="nearest", scale_factor=...)`: source index = floor(dst / scale).
   */
  resizeNearest(x: string, scales: readonly number[]): string {
    return this.#op("Resize", [x, "", this.constFloat(scales)], {
      mode: attr.string("nearest"),
      coordinate_transformation_mode: attr.string("asymmetric"),
      nearest_mode: attr.string("floor"),
    });
  }

  // ---------------------------------------------------------------- reductions

  /** Sum over `axes`. */
  reduceSum(x: string, axes: readonly number[], keepdims = true): string {
    return this.#op("ReduceSum", [x, this.constInt64(axes)], {
      keepdims: attr.int(keepdims ? 1 : 0),
    });
  }

  /** Mean over `axes`. */
  reduceMean(x: string, axes: readonly number[], keepdims = true): string {
    return this.#op("ReduceMean", [x, this.constInt64(axes)], {
      keepdims: attr.int(keepdims ? 1 : 0),
    });
  }

  /** Index of the minimum along `axis` (first one on ties, as `torch.argmin`); int64. */
  argMin(x: string, axis: number, keepdims = false): string {
    return this.#op("ArgMin", [x], {
      axis: attr.int(axis),
      keepdims: attr.int(keepdims ? 1 : 0),
    });
  }

  /** Softmax along `axis`. */
  softmax(x: string, axis = -1): string {
    return this.#op("Softmax", [x], { axis: attr.int(axis) });
  }

  // ---------------------------------------------------------------- normalisation

  /** InstanceNormalization over the axes after the second, with per-channel scale and bias. */
  instanceNorm(x: string, scale: string, bias: string, epsilon: number): string {
    return this.#op("InstanceNormalization", [x, scale, bias], { epsilon: attr.float(epsilon) });
  }

  /**
   * `torch.nn.GroupNorm` with affine parameters, written the way `torch.onnx.export` writes it:
   * reshape (N, C, ...) → (N, G, -1), InstanceNormalization with unit scale and zero bias,
   * reshape back, then multiply by γ and add β per channel.
   */
  groupNorm(x: string, options: GroupNormOptions): string {
    const { groups, epsilon } = options;
    const rank = options.rank ?? 4;
    const grouped = this.reshape(x, [0, groups, -1]);
    const normed = this.instanceNorm(
      grouped,
      this.constFloat(new Float32Array(groups).fill(1)),
      this.constFloat(new Float32Array(groups)),
      epsilon,
    );
    const restored = this.reshape(normed, this.shape(x));
    const trailing = Array.from({ length: rank - 2 }, (_, i) => i + 1);
    const scale = this.unsqueeze(options.scale, trailing);
    const bias = this.unsqueeze(options.bias, trailing);
    return this.add(this.mul(restored, scale), bias);
  }

  // ---------------------------------------------------------------- internals

  #op(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, Attribute> = {},
  ): string {
    return this.node(opType, inputs, attributes)[0];
  }

  #constant(data: Float32Array | BigInt64Array, dims: number[]): string {
    const elemType = data instanceof Float32Array ? "float32" : "int64";
    let key: string | undefined;
    if (data.length <= SHARED_CONSTANT_LIMIT) {
      key = `${elemType}[${dims}]:${Array.from(data as ArrayLike<number | bigint>).join(",")}`;
      const existing = this.#sharedConstants.get(key);
      if (existing) return existing;
    }
    const name = this.#uniqueName(`const_${elemType}_${dims.join("x") || "scalar"}`);
    this.#usedNames.delete(name);
    this.initializer(name, data, dims);
    if (key) this.#sharedConstants.set(key, name);
    return name;
  }

  #claim(name: string): void {
    if (this.#usedNames.has(name)) throw new RangeError(`value name "${name}" is already used`);
    this.#usedNames.add(name);
  }

  #uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.#usedNames.has(name); i++) name = `${base}_${i}`;
    this.#usedNames.add(name);
    return name;
  }
}

function elemTypeOf(data: InitializerData): ElemType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint16Array) return "float16";
  return "bool";
}

function rawToInitializer(name: string, t: RawTensor, dims: number[]): Initializer {
  switch (t.dtype) {
    case "F32":
    case "F16":
    case "BF16":
    case "F64":
      return { name, elemType: "float32", dims: [...dims], data: toFloat32(t) };
    case "I64": {
      const aligned = t.bytes.byteOffset % 8 === 0 ? t.bytes : t.bytes.slice();
      return {
        name,
        elemType: "int64",
        dims: [...dims],
        data: new BigInt64Array(aligned.buffer, aligned.byteOffset, numel(t.shape)),
      };
    }
    default:
      throw new TypeError(`initializer "${name}": unsupported dtype ${t.dtype}`);
  }
}
