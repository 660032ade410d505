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
  type ValueInfo,
} from "./graph.ts";

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
}

/** Encoded model bytes plus, with external data, the contents of the data file. */
export interface SerializedModel {
  /** The ONNX protobuf. */
  model: Uint8Array;
  /** The external-data file's bytes, when {@link SerializeOptions.externalData} was given. */
  data?: Uint8Array;
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
  let dataSize = 0;
  if (location !== undefined) {
    for (const init of graph.initializers) {
      const size = init.data.byteLength;
      if (size < threshold || !isFloat(init)) continue;
      const align = size >= PAGE_ALIGN_THRESHOLD ? PAGE_SIZE : SMALL_ALIGN;
      dataSize = Math.ceil(dataSize / align) * align;
      offsets.set(init.name, dataSize);
      dataSize += size;
    }
  }
  const data = location !== undefined ? new Uint8Array(dataSize) : undefined;

  const initializer = graph.initializers.map((init) => {
    const raw = bytesOf(init);
    const offset = offsets.get(init.name);
    const base = { name: init.name, dims: init.dims, dataType: ONNX_DATA_TYPE[init.elemType] };
    if (offset === undefined || data === undefined) {
      return onnx.TensorProto.create({ ...base, rawData: raw });
    }
    data.set(raw, offset);
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
    graph: {
      name: graph.name,
      input: graph.inputs.map(valueInfoProto),
      output: graph.outputs.map(valueInfoProto),
      initializer,
      node: graph.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        domain: n.domain,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes).map(([name, a]) => attributeProto(name, a)),
      })),
    },
  });
  return { model: onnx.ModelProto.encode(model).finish(), data };
}

/**
 * Writes a model to `path`; with `externalData` its initializers go to `<basename>.data` beside
 * it (the data file is written first, so a model file never points at a missing data file).
 *
 * @returns the paths written
 */
export async function saveModel(
  path: string,
  graph: OnnxGraph,
  options: { externalData?: boolean; sizeThreshold?: number } = {},
): Promise<{ modelPath: string; dataPath?: string }> {
  const location = options.externalData ? `${basename(path)}.data` : undefined;
  const { model, data } = serializeModel(graph, {
    externalData: location,
    sizeThreshold: options.sizeThreshold,
  });
  let dataPath: string | undefined;
  if (location !== undefined && data) {
    dataPath = join(dirname(path), location);
    await writeAtomic(dataPath, data);
  }
  await writeAtomic(path, model);
  return { modelPath: path, dataPath };
}

async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
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

function attributeProto(name: string, a: OnnxGraph["nodes"][number]["attributes"][string]) {
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
  }
}
