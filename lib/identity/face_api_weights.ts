/**
 * Reading the weights that `@vladmandic/face-api` ships (`model/<name>-weights_manifest.json` plus
 * its binary shards) as named float32 tensors, decoded exactly as TensorFlow.js's
 * `io.decodeWeights` does (tfjs-core 4.22, the version face-api 1.7.15 bundles): the shards of a
 * group are one byte stream, weights follow each other in manifest order, and a uint8/uint16
 * quantised weight becomes `q * scale + min` computed in double precision and stored as float32.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../util/hash.ts";

/** The npm package the weights come from, as pinned in deno.json. */
export const FACE_API_PACKAGE = "@vladmandic/face-api";

/** One float32 tensor of a weights manifest, in TensorFlow's layout (e.g. HWIO filters). */
export interface NamedTensor {
  /** Name in the manifest, e.g. `conv32_1/conv1/conv/filters`. */
  name: string;
  /** Shape, outermost first. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
}

/** A decoded weights manifest. */
export interface FaceApiWeights {
  /** Tensors by manifest name. */
  tensors: Map<string, NamedTensor>;
  /** SHA-256 of the manifest and of every shard, by file name (relative to `model/`). */
  sha256: Record<string, string>;
  /** The manifest file read. */
  manifestPath: string;
}

/** Raised for a missing package, an unreadable manifest or shard, or an unsupported weight. */
export class FaceApiWeightsError extends Error {
  /** Creates a FaceApiWeightsError. */
  constructor(message: string) {
    super(message);
    this.name = "FaceApiWeightsError";
  }
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

/**
 * The folder of the installed `@vladmandic/face-api` package (the one holding its
 * `package.json`), found through Deno's resolution of the bare specifier, which with
 * `nodeModulesDir: auto` points into `node_modules/.deno/...`, or in Deno's npm cache otherwise.
 *
 * @throws {FaceApiWeightsError} when the package is not installed
 */
export function faceApiPackageDir(): string {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(FACE_API_PACKAGE));
  } catch (e) {
    throw new FaceApiWeightsError(
      `cannot resolve ${FACE_API_PACKAGE} (${(e as Error).message}): run \`deno install\``,
    );
  }
  // The entry point is dist/face-api.node.js; walk up to the folder with the package's manifest.
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(Deno.readTextFileSync(join(dir, "package.json")));
      if (pkg?.name === FACE_API_PACKAGE) return dir;
    } catch {
      // not this folder
    }
  }
  throw new FaceApiWeightsError(
    `${FACE_API_PACKAGE} resolves to ${entry}, but no folder above it holds its package.json: ` +
      "run `deno install`",
  );
}

/** Version of the installed `@vladmandic/face-api`, from its package.json. */
export function faceApiVersion(packageDir: string = faceApiPackageDir()): string {
  const path = join(packageDir, "package.json");
  try {
    return JSON.parse(Deno.readTextFileSync(path)).version;
  } catch (e) {
    throw new FaceApiWeightsError(`${path}: cannot read the version: ${(e as Error).message}`);
  }
}

/** Bytes per stored element of each manifest dtype (tfjs `DTYPE_VALUE_SIZE_MAP`). */
const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2 };

/**
 * Reads `model/<model>-weights_manifest.json` of the installed face-api and decodes every
 * float32 weight (plain or uint8/uint16-quantised) as tfjs does.
 *
 * @param model manifest prefix, e.g. `face_recognition_model`
 * @param packageDir the package folder (default: the installed one)
 * @throws {FaceApiWeightsError} naming the file for a missing or malformed manifest or shard
 */
export async function readFaceApiWeights(
  model: string,
  packageDir: string = faceApiPackageDir(),
): Promise<FaceApiWeights> {
  const modelDir = join(packageDir, "model");
  const manifestFile = `${model}-weights_manifest.json`;
  const manifestPath = join(modelDir, manifestFile);
  const manifestBytes = await readOrThrow(manifestPath);
  let groups: ManifestGroup[];
  try {
    groups = JSON.parse(new TextDecoder().decode(manifestBytes));
    if (!Array.isArray(groups)) throw new Error("expected an array of weight groups");
  } catch (e) {
    throw new FaceApiWeightsError(
      `${manifestPath}: not a weights manifest: ${(e as Error).message}`,
    );
  }
  const sha256: Record<string, string> = { [manifestFile]: sha256Hex(manifestBytes) };
  const tensors = new Map<string, NamedTensor>();
  for (const [g, group] of groups.entries()) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) {
      throw new FaceApiWeightsError(`${manifestPath}: group ${g} lacks "paths" or "weights"`);
    }
    const shards: Uint8Array[] = [];
    for (const file of group.paths) {
      const bytes = await readOrThrow(join(modelDir, file));
      sha256[file] = sha256Hex(bytes);
      shards.push(bytes);
    }
    const stream = concatBytes(shards);
    let offset = 0;
    for (const entry of group.weights) {
      const where = `${manifestPath}: weight "${entry?.name}"`;
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const stored = entry.quantization?.dtype ?? entry.dtype;
      const width = STORED_BYTES[stored];
      if (width === undefined) {
        throw new FaceApiWeightsError(`${where}: unsupported stored dtype ${stored}`);
      }
      const size = count * width;
      if (offset + size > stream.length) {
        throw new FaceApiWeightsError(
          `${where} needs bytes ${offset}..${offset + size}, but the shards ` +
            `${group.paths.join(", ")} hold only ${stream.length}`,
        );
      }
      const bytes = stream.slice(offset, offset + size);
      offset += size;
      if (entry.dtype !== "float32") continue; // not used by the networks we convert
      tensors.set(entry.name, {
        name: entry.name,
        shape: [...entry.shape],
        data: decodeFloat32(bytes, entry, where),
      });
    }
    if (offset !== stream.length) {
      throw new FaceApiWeightsError(
        `${manifestPath}: group ${g} describes ${offset} bytes, its shards hold ${stream.length}`,
      );
    }
  }
  return { tensors, sha256, manifestPath };
}

/** tfjs-core `decodeWeights` for one float32 weight. */
function decodeFloat32(bytes: Uint8Array, entry: ManifestEntry, where: string): Float32Array {
  const q = entry.quantization;
  if (!q) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  if (q.dtype !== "uint8" && q.dtype !== "uint16") {
    throw new FaceApiWeightsError(`${where}: unsupported quantization ${q.dtype}`);
  }
  if (typeof q.scale !== "number" || typeof q.min !== "number") {
    throw new FaceApiWeightsError(`${where}: ${q.dtype} quantization needs "scale" and "min"`);
  }
  const quantized = q.dtype === "uint8"
    ? bytes
    : new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const values = new Float32Array(quantized.length);
  for (let i = 0; i < quantized.length; i++) values[i] = quantized[i] * q.scale + q.min;
  return values;
}

async function readOrThrow(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new FaceApiWeightsError(
      `cannot read ${path}: ${(e as Error).message} (is ${FACE_API_PACKAGE} installed complete?)`,
    );
  }
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0].slice();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
