/**
 * safetensors reading and writing: 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw data. The reader validates the header as the
 * reference implementation does, so a damaged file fails with a message instead of yielding
 * garbage, and returns tensors as views into the file's bytes (no second copy).
 *
 * @module
 */

import { writeFileAtomic } from "../util/atomic.ts";
import { type DType, DTYPE_SIZE, numel, type RawTensor } from "./tensor.ts";

/** Tensors and free-form metadata of one safetensors file. */
export interface SafetensorsFile {
  /** Tensors in header order. */
  tensors: Map<string, RawTensor>;
  /** The header's `__metadata__` (string to string), or `{}`. */
  metadata: Record<string, string>;
}

/** Raised for any malformed safetensors input; the message names the file and the problem. */
export class SafetensorsError extends Error {
  /**
   * Creates a SafetensorsError.
   *
   * @param source file name or label used in the message
   */
  constructor(source: string, problem: string) {
    super(`${source}: not a valid safetensors file: ${problem}`);
    this.name = "SafetensorsError";
  }
}

/** The largest header we accept, as the reference implementation does (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Parses a safetensors file held in memory. Tensors are views into `bytes`.
 *
 * @param bytes the whole file
 * @param source a name for error messages
 * @throws {SafetensorsError} on a truncated file, bad JSON, unknown dtype, bad shape, or byte
 *   ranges that are out of range, overlap, leave gaps, or disagree with dtype × shape.
 */
export function parseSafetensors(bytes: Uint8Array, source = "<memory>"): SafetensorsFile {
  if (bytes.byteLength < 8) {
    throw new SafetensorsError(
      source,
      `file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = dv.getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      source,
      `header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes`,
    );
  }
  const hl = Number(headerLen);
  if (8 + hl > bytes.byteLength) {
    throw new SafetensorsError(
      source,
      `header length ${hl} runs past the end of the file (${bytes.byteLength} bytes): truncated?`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + hl)),
    );
  } catch (e) {
    throw new SafetensorsError(source, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError(source, "header is not a JSON object");
  }
  const data = bytes.subarray(8 + hl);
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new SafetensorsError(source, "__metadata__ is not an object");
      }
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") {
          throw new SafetensorsError(source, `__metadata__.${k} is not a string`);
        }
        metadata[k] = v;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== "object" || info === null) {
      throw new SafetensorsError(source, `entry "${name}" is not an object`);
    }
    if (typeof info.dtype !== "string" || !(info.dtype in DTYPE_SIZE)) {
      throw new SafetensorsError(
        source,
        `tensor "${name}" has unsupported dtype ${JSON.stringify(info.dtype)} (supported: ${
          Object.keys(DTYPE_SIZE).join(", ")
        })`,
      );
    }
    if (
      !Array.isArray(info.shape) ||
      !info.shape.every((d) => Number.isSafeInteger(d) && d >= 0)
    ) {
      throw new SafetensorsError(
        source,
        `tensor "${name}" has invalid shape ${JSON.stringify(info.shape)}`,
      );
    }
    const off = info.data_offsets;
    if (
      !Array.isArray(off) || off.length !== 2 ||
      !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]
    ) {
      throw new SafetensorsError(
        source,
        `tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`,
      );
    }
    const dtype = info.dtype as DType;
    const shape = info.shape as number[];
    const want = numel(shape) * DTYPE_SIZE[dtype];
    if (off[1] - off[0] !== want) {
      throw new SafetensorsError(
        source,
        `tensor "${name}" (${dtype}, shape [${shape}]) needs ${want} bytes but data_offsets span ${
          off[1] - off[0]
        }`,
      );
    }
    if (off[1] > data.byteLength) {
      throw new SafetensorsError(
        source,
        `tensor "${name}" ends at byte ${
          off[1]
        } of a ${data.byteLength}-byte data section: truncated?`,
      );
    }
    entries.push({ name, dtype, shape, begin: off[0], end: off[1] });
  }
  // The format requires the ranges to tile the data section exactly: no overlap, no gap.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) {
      throw new SafetensorsError(
        source,
        `tensor "${e.name}" overlaps the tensor before it (starts at ${e.begin}, previous ends at ${cursor})`,
      );
    }
    if (e.begin > cursor) {
      throw new SafetensorsError(
        source,
        `gap of ${e.begin - cursor} bytes before tensor "${e.name}"`,
      );
    }
    cursor = e.end;
  }
  if (cursor !== data.byteLength) {
    throw new SafetensorsError(
      source,
      `data section is ${data.byteLength} bytes but tensors cover ${cursor}`,
    );
  }
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes: data.subarray(e.begin, e.end) });
  }
  return { tensors, metadata };
}

/** Reads and parses a safetensors file from disk. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return parseSafetensors(await Deno.readFile(path), path);
}

/**
 * Serialises tensors to the safetensors format. Data is laid out in the given order and the
 * header padded with spaces to a multiple of 8 bytes, as the reference writer does.
 */
export function encodeSafetensors(
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of list) {
    if (name === "__metadata__") {
      throw new RangeError(`"__metadata__" is reserved, not a tensor name`);
    }
    const size = numel(t.shape) * DTYPE_SIZE[t.dtype];
    if (t.bytes.byteLength !== size) {
      throw new RangeError(
        `tensor "${name}": ${t.dtype} [${t.shape}] needs ${size} bytes, has ${t.bytes.byteLength}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let pos = 8 + json.byteLength;
  for (const [, t] of list) {
    out.set(t.bytes, pos);
    pos += t.bytes.byteLength;
  }
  return out;
}

/** Writes tensors to `path` atomically (temporary file in the same folder, then rename). */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
