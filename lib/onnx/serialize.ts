/**
 * Encodes an {@link OnnxGraph} as ONNX protobuf bytes (through onnx-proto's generated encoder),
 * optionally moving large initializers to one external-data file, the ONNX convention for models
 * whose weights would make the protobuf unwieldy (the real UNet holds 1.1 GB of weights).
 * {@link saveModel} streams that file to disk tensor by tensor, hashing as it writes, so the
 * weights are never copied into one buffer nor read back to be hashed.
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
import { createHash, type Hash } from "node:crypto";
import { writeChunksAtomic, writeFileAtomic } from "../util/atomic.ts";

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
  const encoded = encodeModel(graph, options);
  let data: Uint8Array | undefined;
  if (options.externalData !== undefined && !options.omitData) {
    data = new Uint8Array(encoded.dataSize);
    for (const piece of encoded.pieces) data.set(piece.bytes, piece.offset);
  }
  return { model: encoded.model, data, layout: encoded.layout };
}

/** One tensor's bytes and where they go in the external-data file. */
interface DataPiece {
  offset: number;
  /** A view of the initializer's own memory (not a copy). */
  bytes: Uint8Array;
}

/** The model protobuf, plus the external-data file as pieces to write (not yet assembled). */
interface EncodedModel {
  model: Uint8Array;
  layout: Map<string, DataLocation>;
  /** Size of the external-data file, bytes. */
  dataSize: number;
  /** In increasing offset order, not overlapping; the gaps are zero padding. */
  pieces: DataPiece[];
}

function encodeModel(graph: OnnxGraph, options: SerializeOptions): EncodedModel {
  const threshold = options.sizeThreshold ?? 1024;
  const location = options.externalData;
  if (
    location !== undefined && (location === "" || location.includes("/") || location.includes("\\"))
  ) {
    throw new RangeError(`externalData must be a plain file name, got "${location}"`);
  }

  // Lay out the external file first: every offset is known before any byte is placed.
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
  const pieces: DataPiece[] = [];

  const initializer = graph.initializers.map((init) => {
    const raw = bytesOf(init);
    const offset = offsets.get(init.name);
    const base = { name: init.name, dims: init.dims, dataType: ONNX_DATA_TYPE[init.elemType] };
    if (offset === undefined || location === undefined) {
      return onnx.TensorProto.create({ ...base, rawData: raw });
    }
    if (!options.omitData) pieces.push({ offset, bytes: raw });
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
  pieces.sort((a, b) => a.offset - b.offset);
  return { model: onnx.ModelProto.encode(model).finish(), layout, dataSize, pieces };
}

/** Largest write of the external-data file: bounds what the runtime copies per call. */
const DATA_CHUNK_BYTES = 8 << 20;
/** Zero padding between tensors is shorter than the largest alignment. */
const ZEROS = new Uint8Array(PAGE_SIZE);

/**
 * The external-data file's bytes in order, as views of the tensors (in chunks of at most
 * {@link DATA_CHUNK_BYTES}) and the zero padding between them, each fed to `hash` as it goes.
 */
function* dataChunks(encoded: EncodedModel, hash: Hash): Generator<Uint8Array> {
  let position = 0;
  const emit = (chunk: Uint8Array) => {
    hash.update(chunk);
    position += chunk.byteLength;
    return chunk;
  };
  for (const { offset, bytes } of encoded.pieces) {
    while (position < offset) yield emit(ZEROS.subarray(0, Math.min(PAGE_SIZE, offset - position)));
    for (let at = 0; at < bytes.byteLength; at += DATA_CHUNK_BYTES) {
      yield emit(bytes.subarray(at, at + DATA_CHUNK_BYTES));
    }
  }
  while (position < encoded.dataSize) {
    yield emit(ZEROS.subarray(0, Math.min(PAGE_SIZE, encoded.dataSize - position)));
  }
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

/** What {@link saveModel} wrote. */
export interface SavedModel {
  /** The model file. */
  modelPath: string;
  /** The external-data file it references (written now, or the shared one). */
  dataPath?: string;
  /** Offset and length of every externally stored initializer, by name. */
  layout: Map<string, DataLocation>;
  /**
   * Lower-case hex SHA-256 of each file written now, by file name (the model file and, unless
   * shared, its data file), computed from the bytes as they were written.
   */
  sha256: Record<string, string>;
}

/**
 * Writes a model to `path`; with `externalData` its initializers go to `<basename>.data` beside
 * it (the data file is written first, so a model file never points at a missing data file). The
 * data file is streamed tensor by tensor from the graph's own memory and hashed on the way, so
 * writing a model costs no second copy of its weights and no read-back.
 *
 * @returns the paths written, the external-data layout and the SHA-256 of the files written
 * @throws {RangeError} when `sharedData`'s layout does not match the graph's initializers
 */
export async function saveModel(
  path: string,
  graph: OnnxGraph,
  options: SaveOptions = {},
): Promise<SavedModel> {
  const shared = options.sharedData;
  const location = shared
    ? shared.file
    : options.externalData
    ? `${basename(path)}.data`
    : undefined;
  const encoded = encodeModel(graph, {
    externalData: location,
    sizeThreshold: options.sizeThreshold,
    omitData: shared !== undefined,
  });
  if (shared) checkSameLayout(encoded.layout, shared.layout, path, shared.file);
  const sha256: Record<string, string> = {};
  let dataPath: string | undefined;
  if (location !== undefined) dataPath = join(dirname(path), location);
  if (dataPath !== undefined && !shared) {
    const hash = createHash("sha256");
    await writeChunksAtomic(dataPath, dataChunks(encoded, hash));
    sha256[basename(dataPath)] = hash.digest("hex");
  }
  await writeFileAtomic(path, encoded.model);
  sha256[basename(path)] = createHash("sha256").update(encoded.model).digest("hex");
  return { modelPath: path, dataPath, layout: encoded.layout, sha256 };
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
