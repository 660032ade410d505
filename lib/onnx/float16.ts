/**
 * Converting a float32 {@link OnnxGraph} to float16 weights and arithmetic, for GPUs (the usual
 * way to halve the memory and use tensor cores). Graph inputs and outputs keep their float32
 * type — Cast nodes are inserted at the boundary — and nodes that must keep float32 precision
 * (chosen by a predicate) run in float32 with their own Casts around them.
 *
 * @module
 */

import { floatToHalf } from "../io/tensor.ts";
import { attr, type Initializer, type NodeDef, ONNX_DATA_TYPE, type OnnxGraph } from "./graph.ts";

/** Options of {@link convertToFloat16}. */
export interface Float16Options {
  /** Nodes for which this returns true compute in float32 (default: none). */
  keepFloat32?: (node: NodeDef) => boolean;
}

type Kind = "float32" | "float16" | "other";

/** Inputs that read no values (only shapes): they accept either float type. */
const SHAPE_ONLY: Readonly<Record<string, readonly number[]>> = { Shape: [0] };

/** Inputs that ONNX types as float32 whatever the data type (Resize roi and scales). */
const ALWAYS_FLOAT32: Readonly<Record<string, readonly number[]>> = { Resize: [1, 2] };

/** Operators whose outputs are integers whatever their input type. */
const INTEGER_OUTPUT = new Set(["Shape", "ArgMin", "ArgMax", "Size"]);

/**
 * Returns a float16 version of `graph`: float32 initializers become float16 (an initializer read
 * both by float16 and by kept-float32 nodes is stored in both types), float32 values crossing
 * between float16 and float32 nodes go through Cast nodes, `Cast(to=float)` inside float16 nodes
 * casts to float16, and float32 graph outputs computed in float16 are cast back. The input graph
 * is not modified; unconverted integer tensors are shared with it.
 */
export function convertToFloat16(graph: OnnxGraph, options: Float16Options = {}): OnnxGraph {
  const keep = options.keepFloat32 ?? (() => false);
  const initializers = new Map(graph.initializers.map((i) => [i.name, i]));
  const kinds = new Map<string, Kind>();
  for (const input of graph.inputs) kinds.set(input.name, kindOf(input.elemType));
  for (const init of graph.initializers) kinds.set(init.name, kindOf(init.elemType));

  // Which float types each float32 initializer is read as, so it is converted only once.
  const wanted = new Map<string, Set<Kind>>();
  const modes = graph.nodes.map((node) => (keep(node) ? "float32" : "float16") as Kind);
  graph.nodes.forEach((node, n) => {
    node.inputs.forEach((name, i) => {
      if (initializers.get(name)?.elemType !== "float32") return;
      const need = required(node, i, modes[n]);
      if (need === "other") return;
      if (!wanted.has(name)) wanted.set(name, new Set());
      wanted.get(name)!.add(need);
    });
  });
  const outInits: Initializer[] = [];
  const renamed = new Map<string, string>(); // initializer name → its float16 copy
  for (const init of graph.initializers) {
    const types = wanted.get(init.name);
    if (!types?.has("float16")) {
      outInits.push(init);
    } else if (types.has("float32")) {
      outInits.push(init);
      const copy = `${init.name}/float16`;
      outInits.push(toHalf(init, copy));
      renamed.set(init.name, copy);
      kinds.set(copy, "float16");
    } else {
      outInits.push(toHalf(init, init.name));
      kinds.set(init.name, "float16");
    }
  }

  const used = new Set<string>([
    ...graph.inputs.map((i) => i.name),
    ...outInits.map((i) => i.name),
    ...graph.nodes.flatMap((n) => [n.name, ...n.outputs]),
  ]);
  const unique = (base: string) => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
  const casts = new Map<string, string>();
  const nodes: NodeDef[] = [];
  const castTo = (value: string, to: Kind): string => {
    const key = `${value}\u0000${to}`;
    let out = casts.get(key);
    if (!out) {
      out = unique(`${value}/to_${to}`);
      nodes.push(castNode(unique(`${value}/Cast_${to}`), value, out, to));
      casts.set(key, out);
      kinds.set(out, to);
    }
    return out;
  };

  graph.nodes.forEach((node, n) => {
    const mode = modes[n];
    const inputs = node.inputs.map((name, i) => {
      if (name === "") return name;
      const need = required(node, i, mode);
      if (need === "other") return name;
      if (renamed.has(name) && need === "float16") return renamed.get(name)!;
      const have = kinds.get(name);
      if (have === undefined) {
        throw new RangeError(`convertToFloat16: node "${node.name}" reads unknown value "${name}"`);
      }
      return have !== "other" && have !== need ? castTo(name, need) : name;
    });
    const attributes = { ...node.attributes };
    let outKind: Kind;
    if (node.opType === "Cast" && node.domain === "") {
      const to = attributes.to?.value;
      outKind = to === ONNX_DATA_TYPE.float32 || to === ONNX_DATA_TYPE.float16 ? mode : "other";
      if (outKind !== "other") attributes.to = attr.int(ONNX_DATA_TYPE[outKind]);
    } else if (INTEGER_OUTPUT.has(node.opType)) {
      outKind = "other";
    } else {
      const first = inputs[0] ? kinds.get(inputs[0]) : undefined;
      outKind = first === "float32" || first === "float16" ? first : "other";
    }
    for (const out of node.outputs) kinds.set(out, outKind);
    nodes.push({ ...node, inputs, attributes });
  });

  // Float32 graph outputs computed in float16: the producer writes a float16 value that one
  // last Cast turns back into the declared output.
  for (const output of graph.outputs) {
    if (output.elemType !== "float32" || kinds.get(output.name) !== "float16") continue;
    const half = unique(`${output.name}/float16`);
    for (const node of nodes) {
      node.outputs = node.outputs.map((o) => (o === output.name ? half : o));
      node.inputs = node.inputs.map((i) => (i === output.name ? half : i));
    }
    nodes.push(castNode(unique(`${output.name}/Cast_float32`), half, output.name, "float32"));
  }

  return {
    ...graph,
    nodes,
    initializers: outInits,
    metadata: { ...graph.metadata, precision: "fp16" },
  };
}

function kindOf(elemType: string): Kind {
  return elemType === "float32" || elemType === "float16" ? elemType : "other";
}

/** The float type input `i` of `node` must have when the node computes in `mode`. */
function required(node: NodeDef, i: number, mode: Kind): Kind {
  if (node.domain === "" && SHAPE_ONLY[node.opType]?.includes(i)) return "other";
  if (node.domain === "" && ALWAYS_FLOAT32[node.opType]?.includes(i)) return "float32";
  return mode;
}

function toHalf(init: Initializer, name: string): Initializer {
  const src = init.data as Float32Array;
  const data = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) data[i] = floatToHalf(src[i]);
  return { name, elemType: "float16", dims: [...init.dims], data };
}

function castNode(name: string, input: string, output: string, to: Kind): NodeDef {
  return {
    name,
    opType: "Cast",
    domain: "",
    inputs: [input],
    outputs: [output],
    attributes: { to: attr.int(ONNX_DATA_TYPE[to as "float32" | "float16"]) },
  };
}
