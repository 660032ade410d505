/**
 * Counting the floating-point work of an {@link OnnxGraph}: shapes are inferred node by node from
 * concrete input shapes (small int64 values such as `Shape` → `Reshape` chains are evaluated so
 * dynamic reshapes resolve), and the multiply-adds of Conv, MatMul and Gemm (and of the two
 * products inside `com.microsoft.MultiHeadAttention`) are added up. One
 * multiply-add counts as two FLOPs, the convention GFLOP/s figures of GEMM libraries use, so the
 * result can be set against a MatMul benchmark directly.
 *
 * @module
 */

import type { Attribute, NodeDef, OnnxGraph } from "../onnx/graph.ts";

/** What {@link countFlops} returns. */
export interface FlopCount {
  /** 2 × multiply-adds of every Conv, MatMul and Gemm node. */
  total: number;
  /** The same split by operator type (only operators that contribute). */
  byOp: Record<string, number>;
  /** The inferred shape of every value (inputs, initializers, node outputs). */
  shapes: Map<string, number[]>;
}

/** Largest int64 tensor whose values are tracked (shapes, axes, indices). */
const VALUE_LIMIT = 64;

/**
 * Infers shapes through `graph` for the given input shapes and counts 2 × the multiply-adds of
 * its Conv, MatMul and Gemm nodes.
 *
 * @param inputShapes concrete shape of every graph input, by name
 * @throws {RangeError} naming the node when an input is missing, an operator is unsupported or
 *   shapes do not fit
 */
export function countFlops(
  graph: OnnxGraph,
  inputShapes: Readonly<Record<string, readonly number[]>>,
): FlopCount {
  const shapes = new Map<string, number[]>();
  const values = new Map<string, number[]>();
  for (const input of graph.inputs) {
    const shape = inputShapes[input.name];
    if (!shape) throw new RangeError(`countFlops: no shape given for graph input "${input.name}"`);
    shapes.set(input.name, [...shape]);
  }
  for (const init of graph.initializers) {
    shapes.set(init.name, [...init.dims]);
    if (init.data.length <= VALUE_LIMIT && !(init.data instanceof Uint16Array)) {
      values.set(init.name, Array.from(init.data as ArrayLike<number | bigint>, Number));
    }
  }
  const byOp: Record<string, number> = {};
  let total = 0;
  for (const node of graph.nodes) {
    const ctx = new NodeContext(node, shapes, values);
    const flops = inferNode(ctx);
    if (flops > 0) {
      byOp[node.opType] = (byOp[node.opType] ?? 0) + flops;
      total += flops;
    }
  }
  return { total, byOp, shapes };
}

/** Access to one node's inputs and attributes, with errors that name the node. */
class NodeContext {
  constructor(
    readonly node: NodeDef,
    readonly shapes: Map<string, number[]>,
    readonly values: Map<string, number[]>,
  ) {}

  fail(message: string): never {
    throw new RangeError(`countFlops: node "${this.node.name}" (${this.node.opType}): ${message}`);
  }

  has(i: number): boolean {
    return i < this.node.inputs.length && this.node.inputs[i] !== "";
  }

  shape(i: number): number[] {
    const name = this.node.inputs[i];
    const s = name ? this.shapes.get(name) : undefined;
    if (!s) this.fail(`shape of input ${i} ("${name}") is unknown`);
    return s;
  }

  value(i: number): number[] {
    const name = this.node.inputs[i];
    const v = name ? this.values.get(name) : undefined;
    if (!v) this.fail(`input ${i} ("${name}") must be a constant or a computable shape value`);
    return v;
  }

  int(name: string, fallback: number): number {
    const a = this.node.attributes[name];
    return a && a.kind === "int" ? a.value : fallback;
  }

  ints(name: string): readonly number[] | undefined {
    const a: Attribute | undefined = this.node.attributes[name];
    return a && a.kind === "ints" ? a.value : undefined;
  }

  set(shape: number[], value?: number[], output = 0): void {
    const name = this.node.outputs[output];
    this.shapes.set(name, shape);
    if (value && value.length <= VALUE_LIMIT) this.values.set(name, value);
  }
}

const ELEMENTWISE_UNARY = new Set([
  "Identity",
  "Sigmoid",
  "Sin",
  "Cos",
  "Exp",
  "Sqrt",
  "Cast",
  "Relu",
  "Neg",
  "Erf",
  "Tanh",
  "Softmax",
  "InstanceNormalization",
  "GroupNormalization",
  "LayerNormalization",
]);

const BROADCAST_BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => Math.trunc(a / b),
  Max: Math.max,
  Min: Math.min,
};

/** Sets the node's output shapes and returns its FLOPs. */
function inferNode(ctx: NodeContext): number {
  const { node } = ctx;
  const op = node.opType;
  if (node.domain === "com.microsoft" && op === "MultiHeadAttention") return attention(ctx);
  if (node.domain !== "" && node.domain !== "ai.onnx") {
    ctx.fail(`operator domain "${node.domain}" is not supported`);
  }
  if (ELEMENTWISE_UNARY.has(op)) {
    ctx.set([...ctx.shape(0)], op === "Identity" ? ctx.values.get(node.inputs[0]) : undefined);
    return 0;
  }
  if (op in BROADCAST_BINARY) {
    const shape = broadcast(ctx, ctx.shape(0), ctx.shape(1));
    const a = ctx.values.get(node.inputs[0]);
    const b = ctx.values.get(node.inputs[1]);
    const f = BROADCAST_BINARY[op];
    const value = a && b && a.length === b.length ? a.map((x, i) => f(x, b[i])) : undefined;
    ctx.set(shape, value);
    return 0;
  }
  switch (op) {
    case "Conv":
      return conv(ctx);
    case "MatMul":
      return matmul(ctx);
    case "Gemm":
      return gemm(ctx);
    case "Shape": {
      const s = ctx.shape(0);
      const start = normAxis(ctx.int("start", 0), s.length, true);
      const end = normAxis(ctx.int("end", s.length), s.length, true);
      const value = s.slice(start, end);
      ctx.set([value.length], value);
      return 0;
    }
    case "Reshape":
      ctx.set(reshape(ctx, ctx.shape(0), ctx.value(1)));
      return 0;
    case "Transpose": {
      const s = ctx.shape(0);
      const perm = ctx.ints("perm") ?? s.map((_, i) => s.length - 1 - i);
      ctx.set(perm.map((p) => s[p]));
      return 0;
    }
    case "Unsqueeze": {
      const s = ctx.shape(0);
      const rank = s.length + ctx.value(1).length;
      const axes = new Set(ctx.value(1).map((a) => normAxis(a, rank)));
      const out: number[] = [];
      for (let i = 0, j = 0; i < rank; i++) out.push(axes.has(i) ? 1 : s[j++]);
      ctx.set(out, ctx.values.get(node.inputs[0]));
      return 0;
    }
    case "Squeeze": {
      const s = ctx.shape(0);
      const axes = ctx.has(1)
        ? new Set(ctx.value(1).map((a) => normAxis(a, s.length)))
        : new Set(s.flatMap((d, i) => d === 1 ? [i] : []));
      ctx.set(s.filter((_, i) => !axes.has(i)), ctx.values.get(node.inputs[0]));
      return 0;
    }
    case "Concat": {
      const inputs = node.inputs.map((_, i) => ctx.shape(i));
      const axis = normAxis(ctx.int("axis", 0), inputs[0].length);
      const out = [...inputs[0]];
      out[axis] = inputs.reduce((n, s) => n + s[axis], 0);
      const vals = node.inputs.map((n) => ctx.values.get(n));
      const value = inputs[0].length === 1 && vals.every((v) => v) ? vals.flat() as number[] : [];
      ctx.set(out, value.length ? value : undefined);
      return 0;
    }
    case "Split": {
      const s = ctx.shape(0);
      const axis = normAxis(ctx.int("axis", 0), s.length);
      const sizes = ctx.has(1)
        ? ctx.value(1)
        : node.outputs.map(() => s[axis] / node.outputs.length);
      sizes.forEach((size, i) => ctx.set(s.map((d, k) => k === axis ? size : d), undefined, i));
      return 0;
    }
    case "Slice": {
      const s = ctx.shape(0);
      const starts = ctx.value(1);
      const ends = ctx.value(2);
      const axes = ctx.has(3) ? ctx.value(3) : starts.map((_, i) => i);
      const steps = ctx.has(4) ? ctx.value(4) : starts.map(() => 1);
      const out = [...s];
      const src = ctx.values.get(node.inputs[0]);
      let value: number[] | undefined;
      axes.forEach((a, i) => {
        const axis = normAxis(a, s.length);
        if (steps[i] !== 1) ctx.fail("only step 1 is supported");
        const begin = clampIndex(starts[i], s[axis]);
        const end = clampIndex(ends[i], s[axis]);
        out[axis] = Math.max(0, end - begin);
        if (src && s.length === 1) value = src.slice(begin, end);
      });
      ctx.set(out, value);
      return 0;
    }
    case "Pad": {
      const s = ctx.shape(0);
      const pads = ctx.value(1);
      ctx.set(s.map((d, i) => d + pads[i] + pads[i + s.length]));
      return 0;
    }
    case "Expand":
      ctx.set(broadcast(ctx, ctx.shape(0), ctx.value(1)));
      return 0;
    case "Gather": {
      const data = ctx.shape(0);
      const indices = ctx.shape(1);
      const axis = normAxis(ctx.int("axis", 0), data.length);
      const src = ctx.values.get(node.inputs[0]);
      const idx = ctx.values.get(node.inputs[1]);
      const value = src && idx && data.length === 1
        ? idx.map((i) => src[i < 0 ? i + src.length : i])
        : undefined;
      ctx.set([...data.slice(0, axis), ...indices, ...data.slice(axis + 1)], value);
      return 0;
    }
    case "Resize": {
      const s = ctx.shape(0);
      if (ctx.has(3)) {
        ctx.set([...ctx.value(3)]);
      } else {
        const scales = ctx.value(2);
        ctx.set(s.map((d, i) => Math.floor(d * scales[i])));
      }
      return 0;
    }
    case "ReduceSum":
    case "ReduceMean":
    case "ReduceMax": {
      const s = ctx.shape(0);
      const axes = ctx.has(1) ? ctx.value(1).map((a) => normAxis(a, s.length)) : s.map((_, i) => i);
      const keep = ctx.int("keepdims", 1) === 1;
      ctx.set(
        keep ? s.map((d, i) => axes.includes(i) ? 1 : d) : s.filter((_, i) => !axes.includes(i)),
      );
      return 0;
    }
    case "ArgMin":
    case "ArgMax": {
      const s = ctx.shape(0);
      const axis = normAxis(ctx.int("axis", 0), s.length);
      const keep = ctx.int("keepdims", 1) === 1;
      ctx.set(keep ? s.map((d, i) => i === axis ? 1 : d) : s.filter((_, i) => i !== axis));
      return 0;
    }
    default:
      ctx.fail("operator is not supported by the shape inference");
  }
}

function conv(ctx: NodeContext): number {
  const x = ctx.shape(0);
  const w = ctx.shape(1);
  const spatial = x.length - 2;
  if (w.length !== x.length) ctx.fail(`weight rank ${w.length} does not match input rank`);
  const group = ctx.int("group", 1);
  if (x[1] !== w[1] * group) ctx.fail(`input has ${x[1]} channels, weight expects ${w[1] * group}`);
  const strides = ctx.ints("strides") ?? Array(spatial).fill(1);
  const dilations = ctx.ints("dilations") ?? Array(spatial).fill(1);
  const pads = ctx.ints("pads") ?? Array(2 * spatial).fill(0);
  if (ctx.node.attributes.auto_pad && ctx.node.attributes.auto_pad.value !== "NOTSET") {
    ctx.fail("auto_pad is not supported");
  }
  const out = [x[0], w[0]];
  for (let i = 0; i < spatial; i++) {
    const k = (w[i + 2] - 1) * dilations[i] + 1;
    out.push(Math.floor((x[i + 2] + pads[i] + pads[i + spatial] - k) / strides[i]) + 1);
  }
  ctx.set(out);
  const kernel = w.slice(1).reduce((a, b) => a * b, 1);
  return 2 * product(out) * kernel;
}

function matmul(ctx: NodeContext): number {
  let a = ctx.shape(0);
  let b = ctx.shape(1);
  const vecA = a.length === 1;
  const vecB = b.length === 1;
  if (vecA) a = [1, a[0]];
  if (vecB) b = [b[0], 1];
  const [m, k] = a.slice(-2);
  const [k2, n] = b.slice(-2);
  if (k !== k2) ctx.fail(`inner dimensions differ: [${a}] @ [${b}]`);
  const batch = broadcast(ctx, a.slice(0, -2), b.slice(0, -2));
  const out = [...batch, ...(vecA ? [] : [m]), ...(vecB ? [] : [n])];
  ctx.set(out);
  return 2 * product(batch) * m * k * n;
}

/**
 * `com.microsoft.MultiHeadAttention` with separate q [B, S, D], k [B, L, D], v [B, L, Dv]: its
 * two batched products q·kᵀ and softmax·v are counted like the MatMuls they replace.
 */
function attention(ctx: NodeContext): number {
  const q = ctx.shape(0);
  const k = ctx.shape(1);
  const v = ctx.shape(2);
  if (q.length !== 3 || k.length !== 3 || v.length !== 3) {
    ctx.fail(`only 3-D q, k, v are supported, got [${q}], [${k}], [${v}]`);
  }
  const [batch, queries, width] = q;
  const keys = k[1];
  if (k[2] !== width || v[1] !== keys) ctx.fail(`q [${q}], k [${k}], v [${v}] do not fit`);
  ctx.set([batch, queries, v[2]]);
  return 2 * batch * queries * keys * (width + v[2]);
}

function gemm(ctx: NodeContext): number {
  const a = ctx.shape(0);
  const b = ctx.shape(1);
  if (a.length !== 2 || b.length !== 2) ctx.fail(`needs 2-D inputs, got [${a}] and [${b}]`);
  const [m, k] = ctx.int("transA", 0) ? [a[1], a[0]] : a;
  const [k2, n] = ctx.int("transB", 0) ? [b[1], b[0]] : b;
  if (k !== k2) ctx.fail(`inner dimensions differ: ${k} vs ${k2}`);
  ctx.set([m, n]);
  return 2 * m * k * n;
}

function reshape(ctx: NodeContext, input: number[], target: number[]): number[] {
  const out = target.map((d, i) => d === 0 ? input[i] : d);
  const known = out.reduce((n, d) => d === -1 ? n : n * d, 1);
  const inferred = out.indexOf(-1);
  if (inferred >= 0) out[inferred] = product(input) / known;
  if (product(out) !== product(input) || !out.every(Number.isInteger)) {
    ctx.fail(`cannot reshape [${input}] to [${target}]`);
  }
  return out;
}

function broadcast(ctx: NodeContext, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) ctx.fail(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

function normAxis(axis: number, rank: number, clamp = false): number {
  const a = axis < 0 ? axis + rank : axis;
  return clamp ? Math.min(Math.max(a, 0), rank) : a;
}

function clampIndex(i: number, size: number): number {
  const j = i < 0 ? i + size : i;
  return Math.min(Math.max(j, 0), size);
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
