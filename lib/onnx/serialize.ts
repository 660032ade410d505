/**
 * Encodes an {@link OnnxGraph} as ONNX protobuf bytes (through onnx-proto's generated encoder),
 * optionally moving large initializers to one external-data file, the ONNX convention for models
 * whose weights would make the protobuf unwieldy (the real UNet holds 1.1 GB of weights).
 *
 * @module
 */

import onnxProto from "onnx-proto";
import { basename, dirname, join } from "node:path";
import {
  type Dim,
  type Initializer,
  ONNX_DATA_TYPE,
  type OnnxGraph,
  type Subgraph,
  type ValueInfo,
} from "./graph.ts";
import { writeFileAtomic } from "../util/atomic.ts";

const { onnx } = onnxProto;

/** Options of {@link serializeModel}. */
export interface SerializeOptions {
  /**
   * File name (relative to the model file, usually `<model>.onnx.data`) to put initializers in;
   * when omitted everything is stored inside the model.
   */
  externalData?: string;
  /**
   * Float initializers smaller than this many bytes stay inside the model (default 1024);
   * integer ones (shapes, axes) always do.
   */
  sizeThreshold?: number;
  /** Producer name recorded in the model (default `"fluidity"`). */
  producerName?: string;
  /**
   * Lay out and reference the external data without building its bytes: for a second model that
   * points into a data file already written for another one (see {@link saveModel}'s `sharedData`).
   */
  omitData?: boolean;
}

/** Where an initializer lives in the external-data file. */
export interface DataLocation {
  /** Byte offset in the file. */
  offset: number;
  /** Byte length. */
  length: number;
}

/** Encoded model bytes plus, with external data, the contents of the data file. */
export interface SerializedModel {
  /** The ONNX protobuf. */
  model: Uint8Array;
  /**
   * The external-data file's bytes, when {@link SerializeOptions.externalData} was given (and
   * not {@link SerializeOptions.omitData}).
   */
  data?: Uint8Array;
  /** Offset and length of every externally stored initializer, by name. */
  layout: Map<string, DataLocation>;
}

/** Tensors at least this large are page-aligned in the data file so the runtime can map them. */
const PAGE_ALIGN_THRESHOLD = 1 << 20;
const PAGE_SIZE = 4096;
const SMALL_ALIGN = 64;

/** ONNX IR version that goes with each opset (opset 21 came with IR 10). */
function irVersionFor(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  return 8;
}

/**
 * Encodes a graph as an ONNX model.
 *
 * @example
 * ```ts
 * const { model, data } = serializeModel(graph, { externalData: "unet.onnx.data" });
 * await Deno.writeFile("unet.onnx", model);
 * await Deno.writeFile("unet.onnx.data", data!);
 * ```
 */
export function serializeModel(graph: OnnxGraph, options: SerializeOptions = {}): SerializedModel {
  const threshold = options.sizeThreshold ?? 1024;
  const location = options.externalData;
  if (
    location !== undefined && (location === "" || location.includes("/") || location.includes("\\"))
  ) {
    throw new RangeError(`externalData must be a plain file name, got "${location}"`);
  }

  // Lay out the external file first so its buffer is allocated once at its final size.
  const offsets = new Map<string, number>();
  const layout = new Map<string, DataLocation>();
  let dataSize = 0;
  if (location !== undefined) {
    for (const init of graph.initializers) {
      const size = init.data.byteLength;
      if (size < threshold || !isFloat(init)) continue;
      const align = size >= PAGE_ALIGN_THRESHOLD ? PAGE_SIZE : SMALL_ALIGN;
      dataSize = Math.ceil(dataSize / align) * align;
      offsets.set(init.name, dataSize);
      layout.set(init.name, { offset: dataSize, length: size });
      dataSize += size;
    }
  }
  const data = location !== undefined && !options.omitData ? new Uint8Array(dataSize) : undefined;

  const initializer = graph.initializers.map((init) => {
    const raw = bytesOf(init);
    const offset = offsets.get(init.name);
    const base = { name: init.name, dims: init.dims, dataType: ONNX_DATA_TYPE[init.elemType] };
    if (offset === undefined || location === undefined) {
      return onnx.TensorProto.create({ ...base, rawData: raw });
    }
    data?.set(raw, offset);
    return onnx.TensorProto.create({
      ...base,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: "location", value: location },
        { key: "offset", value: String(offset) },
        { key: "length", value: String(raw.byteLength) },
      ],
    });
  });

  const model = onnx.ModelProto.create({
    irVersion: irVersionFor(graph.opset),
    producerName: options.producerName ?? "fluidity",
    opsetImport: [
      { domain: "", version: graph.opset },
      ...Object.entries(graph.extraOpsets).map(([domain, version]) => ({ domain, version })),
    ],
    metadataProps: Object.entries(graph.metadata).map(([key, value]) => ({ key, value })),
    graph: graphProto(graph, initializer),
  });
  return { model: onnx.ModelProto.encode(model).finish(), data, layout };
}

/** A GraphProto; subgraph initializers are always stored inline. */
function graphProto(
  graph: Subgraph,
  initializer?: onnxProto.onnx.ITensorProto[],
): onnxProto.onnx.IGraphProto {
  return {
    name: graph.name,
    input: graph.inputs.map(valueInfoProto),
    output: graph.outputs.map(valueInfoProto),
    initializer: initializer ??
      graph.initializers.map((init) =>
        onnx.TensorProto.create({
          name: init.name,
          dims: init.dims,
          dataType: ONNX_DATA_TYPE[init.elemType],
          rawData: bytesOf(init),
        })
      ),
    node: graph.nodes.map((n) => ({
      name: n.name,
      opType: n.opType,
      domain: n.domain,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attributes).map(([name, a]) => attributeProto(name, a)),
    })),
  };
}

/** Options of {@link saveModel}. */
export interface SaveOptions {
  /** Move large float initializers to `<basename>.data` beside the model. */
  externalData?: boolean;
  /** See {@link SerializeOptions.sizeThreshold}. */
  sizeThreshold?: number;
  /**
   * Reference an external-data file already written for another model of the same folder
   * (its file name) instead of writing one: the initializers must sit at the offsets given in
   * `layout`, which is checked, so both models read the same bytes.
   */
  sharedData?: { file: string; layout: ReadonlyMap<string, DataLocation> };
}

/**
 * Writes a model to `path`; with `externalData` its initializers go to `<basename>.data` beside
 * it (the data file is written first, so a model file never points at a missing data file).
 *
 * @returns the paths written and the external-data layout
 * @throws {RangeError} when `sharedData`'s layout does not match the graph's initializers
 */
export async function saveModel(
  path: string,
  graph: OnnxGraph,
  options: SaveOptions = {},
): Promise<{ modelPath: string; dataPath?: string; layout: Map<string, DataLocation> }> {
  const shared = options.sharedData;
  const location = shared
    ? shared.file
    : options.externalData
    ? `${basename(path)}.data`
    : undefined;
  const { model, data, layout } = serializeModel(graph, {
    externalData: location,
    sizeThreshold: options.sizeThreshold,
    omitData: shared !== undefined,
  });
  if (shared) checkSameLayout(layout, shared.layout, path, shared.file);
  let dataPath: string | undefined;
  if (location !== undefined) dataPath = join(dirname(path), location);
  if (dataPath !== undefined && data) await writeFileAtomic(dataPath, data);
  await writeFileAtomic(path, model);
  return { modelPath: path, dataPath, layout };
}

function checkSameLayout(
  got: ReadonlyMap<string, DataLocation>,
  want: ReadonlyMap<string, DataLocation>,
  path: string,
  file: string,
): void {
  const differs = got.size !== want.size ||
    [...got].some(([name, at]) => {
      const other = want.get(name);
      return other === undefined || other.offset !== at.offset || other.length !== at.length;
    });
  if (differs) {
    throw new RangeError(
      `${path}: its initializers do not lie where ${file} holds them (different set or order)`,
    );
  }
}

/**
 * Integer tensors always stay inline: they hold shapes and axes, which onnxruntime's shape
 * inference reads while loading and cannot take from external data.
 */
function isFloat(init: Initializer): boolean {
  return init.elemType === "float32" || init.elemType === "float16";
}

function bytesOf(init: Initializer): Uint8Array {
  return new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength);
}

function dimProto(d: Dim) {
  return typeof d === "number" ? { dimValue: d } : { dimParam: d };
}

function valueInfoProto(v: ValueInfo) {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_DATA_TYPE[v.elemType],
        shape: v.shape ? { dim: v.shape.map(dimProto) } : undefined,
      },
    },
  };
}

function attributeProto(
  name: string,
  a: OnnxGraph["nodes"][number]["attributes"][string],
): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case "int":
      return { name, type: T.INT, i: a.value };
    case "float":
      return { name, type: T.FLOAT, f: a.value };
    case "string":
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case "ints":
      return { name, type: T.INTS, ints: [...a.value] };
    case "floats":
      return { name, type: T.FLOATS, floats: [...a.value] };
    case "graph":
      return { name, type: T.GRAPH, g: graphProto(a.value) };
  }
}
