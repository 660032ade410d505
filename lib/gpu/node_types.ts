/**
 * The element type every node of one of our graphs reads, found by walking the graph (and the
 * bodies of its `Loop` nodes, which read outer-scope values by name). Our graphs carry types only
 * on their inputs, outputs and initializers, so intermediate types are propagated by the rule of
 * each operator we emit; an operator without a rule is reported rather than guessed.
 *
 * @module
 */

import {
  type ElemType,
  type NodeDef,
  ONNX_DATA_TYPE,
  type OnnxGraph,
  type Subgraph,
} from "../onnx/graph.ts";

/** One node as a kernel lookup sees it. */
export interface NodeSignature {
  /** Operator domain, `"ai.onnx"` for the default one. */
  domain: string;
  /** Operator type. */
  op: string;
  /** Element type of the node's first input (the `T` its kernel is registered for). */
  inputType: ElemType | "unknown";
  /** Node name, prefixed by the names of the `Loop` nodes it sits in (`loop_node>name`). */
  path: string;
  /** Whether the node is inside a `Loop` body. */
  inLoop: boolean;
}

const ONNX_TYPE_NAME = new Map<number, ElemType>(
  Object.entries(ONNX_DATA_TYPE).map(([name, code]) => [code, name as ElemType]),
);

/** Operators whose outputs have a fixed type whatever they read. */
const FIXED_OUTPUT: Readonly<Record<string, ElemType>> = {
  Shape: "int64",
  ArgMin: "int64",
  ArgMax: "int64",
  Equal: "bool",
  Less: "bool",
  Greater: "bool",
};

/**
 * Operators whose outputs have their first input's type (data movement, elementwise arithmetic,
 * normalisation, convolution, attention): the rule for everything else we emit.
 */
const SAME_AS_FIRST_INPUT = new Set([
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Max",
  "Sqrt",
  "Sin",
  "Cos",
  "Sigmoid",
  "Identity",
  "Reshape",
  "Transpose",
  "Unsqueeze",
  "Squeeze",
  "Concat",
  "Gather",
  "Expand",
  "Gemm",
  "MatMul",
  "Conv",
  "InstanceNormalization",
  "ReduceSum",
  "Resize",
  "Clip",
  "MultiHeadAttention",
]);

function domainName(domain: string): string {
  return domain === "" ? "ai.onnx" : domain;
}

/**
 * Lists every node of `graph`, recursing into `Loop`/`If`/`Scan` bodies, with the element type
 * of its first input.
 */
export function nodeSignatures(graph: OnnxGraph): NodeSignature[] {
  const types = new Map<string, ElemType>();
  for (const v of [...graph.inputs, ...graph.outputs]) types.set(v.name, v.elemType);
  for (const init of graph.initializers) types.set(init.name, init.elemType);
  const out: NodeSignature[] = [];
  walk(graph.nodes, types, "", false, out);
  return out;
}

function walk(
  nodes: readonly NodeDef[],
  outer: ReadonlyMap<string, ElemType>,
  prefix: string,
  inLoop: boolean,
  out: NodeSignature[],
): void {
  const types = new Map(outer);
  for (const node of nodes) {
    const first = node.inputs.find((i) => i !== "");
    const inputType = first === undefined ? "unknown" : types.get(first) ?? "unknown";
    out.push({
      domain: domainName(node.domain),
      op: node.opType,
      inputType,
      path: prefix + node.name,
      inLoop,
    });
    for (const attribute of Object.values(node.attributes)) {
      if (attribute.kind !== "graph") continue;
      walkSubgraph(attribute.value, types, `${prefix}${node.name}>`, out);
    }
    const outputTypes = outputTypesOf(node, types);
    node.outputs.forEach((name, i) => {
      const t = outputTypes[i];
      if (name !== "" && t !== undefined) types.set(name, t);
    });
  }
}

function walkSubgraph(
  body: Subgraph,
  outer: ReadonlyMap<string, ElemType>,
  prefix: string,
  out: NodeSignature[],
): void {
  const scope = new Map(outer);
  for (const v of [...body.inputs, ...body.outputs]) scope.set(v.name, v.elemType);
  for (const init of body.initializers) scope.set(init.name, init.elemType);
  walk(body.nodes, scope, prefix, true, out);
}

/** The element types of a node's outputs, by the operator's typing rule; undefined if unknown. */
function outputTypesOf(
  node: NodeDef,
  types: ReadonlyMap<string, ElemType>,
): (ElemType | undefined)[] {
  const input = (i: number) => types.get(node.inputs[i] ?? "");
  if (node.opType === "Cast") {
    const to = node.attributes.to;
    return [to?.kind === "int" ? ONNX_TYPE_NAME.get(to.value) : undefined];
  }
  if (node.opType === "Loop") {
    // Loop(M, cond, v_initial...) → v_final...: the carried values keep their types.
    return node.inputs.slice(2).map((_, i) => input(i + 2));
  }
  const fixed = FIXED_OUTPUT[node.opType];
  if (fixed) return node.outputs.map(() => fixed);
  if (SAME_AS_FIRST_INPUT.has(node.opType)) return node.outputs.map(() => input(0));
  return node.outputs.map(() => undefined);
}
