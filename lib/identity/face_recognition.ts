/**
 * The real {@link FaceEmbedder}: face-api's `face_recognition_model` (dlib's ResNet-34-style face
 * descriptor, 128-D) converted once from the weights `@vladmandic/face-api` ships into an ONNX
 * graph cached under the models folder, and run on onnxruntime like the diffusion model.
 *
 * The cache folder (default `<models>/face-api-recognition/`) holds `face_recognition.onnx` and
 * `face_net.json` (source package and version, SHA-256 of the weight files and of the graph,
 * converter version). It is reused while all of that still matches; otherwise it is rebuilt under
 * a temporary name and renamed into place, holding the conversion lock, so concurrent processes
 * take turns and a killed conversion leaves nothing half-written.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { withConversionLock } from "../convert/convert.ts";
import { saveModel } from "../onnx/serialize.ts";
import { cudaProviderStatus } from "../pipelines/cuda.ts";
import { sessionOptions } from "../pipelines/model.ts";
import { modelsDir } from "../pipelines/resolve.ts";
import { replaceDirAtomic, writeTextFileAtomic } from "../util/atomic.ts";
import { canonicalJson } from "../util/canonical.ts";
import { sha256File } from "../util/hash.ts";
import {
  DESCRIPTOR_LENGTH,
  type EmbedderInfo,
  type FaceEmbedder,
  SAME_PERSON_THRESHOLD,
} from "./embedder.ts";
import {
  FACE_API_PACKAGE,
  faceApiPackageDir,
  faceApiVersion,
  readFaceApiWeights,
} from "./face_api_weights.ts";
import { cropFaces, type FaceBox } from "./face_crop.ts";
import {
  buildFaceRecognitionGraph,
  FACE_NET_INPUT,
  FACE_NET_INPUT_SIZE,
  FACE_NET_OUTPUT,
} from "./face_recognition_graph.ts";

/** Bumped whenever the converted graph could differ for the same weights. */
export const FACE_NET_CONVERTER_VERSION = "1";

/** Manifest prefix of the recognition net in face-api's `model/` folder. */
export const FACE_RECOGNITION_MODEL = "face_recognition_model";

/** File names in the cache folder. */
const GRAPH_FILE = "face_recognition.onnx";
const INFO_FILE = "face_net.json";

/**
 * The crop taken from a CelebA-HQ-aligned face, as fractions of the image side: the box face-api's
 * own pipeline (SSD detection, 68-point landmarks, `FaceLandmarks.align()` = the landmarks'
 * bounding box padded by 20 %) gives on faces aligned the CelebA-HQ way — the median over the 22
 * faces of face-api's demo photos, mapped into the CelebA-HQ frame and kept symmetric
 * (`lib/identity/derive_face_box.ts` computes it; the README says why and how).
 */
export const CELEBAHQ_FACE_BOX: Readonly<FaceBox> = {
  x: 0.162,
  y: 0.313,
  width: 0.676,
  height: 0.653,
};

/** Human-readable name recorded in {@link EmbedderInfo}. */
export const FACE_NET_NAME = "face-api face_recognition_model (ResNet-34, 128-D)";

/** Options of {@link loadFaceEmbedder}. */
export interface FaceEmbedderOptions {
  /** Intra-op threads of the CPU provider (default: all cores). */
  threads?: number;
  /** `cpu` (default), `cuda`, or `auto` (CUDA when available, else the CPU with a log line). */
  device?: "cpu" | "cuda" | "auto";
  /** Progress and fallback messages (default: none). */
  log?: (message: string) => void;
  /** Cache folder of the converted graph (default `<models>/face-api-recognition`). */
  cacheDir?: string;
  /** Crop box (default {@link CELEBAHQ_FACE_BOX}). */
  box?: FaceBox;
}

/** The contents of `face_net.json`. */
export interface FaceNetCacheInfo {
  /** Always `"fluidity-face-net"`. */
  format: string;
  /** {@link FACE_NET_CONVERTER_VERSION} of the converter that wrote it. */
  converterVersion: string;
  /** npm package and version the weights came from. */
  source: string;
  /** SHA-256 of the package's manifest and weight shards, by file name. */
  sourceSha256: Record<string, string>;
  /** SHA-256 of the converted graph. */
  sha256: Record<string, string>;
}

/** Default cache folder of the converted recognition net. */
export function defaultFaceNetDir(): string {
  return join(modelsDir(), "face-api-recognition");
}

/**
 * Converts face-api's recognition net into `dir` unless an intact conversion of the same weights
 * by this converter is already there. Returns the path of the graph and its cache info.
 */
export async function convertFaceRecognitionNet(
  dir: string = defaultFaceNetDir(),
  log: (message: string) => void = () => {},
): Promise<{ graphPath: string; info: FaceNetCacheInfo }> {
  const target = resolve(dir);
  const packageDir = faceApiPackageDir();
  const source = `${FACE_API_PACKAGE}@${faceApiVersion(packageDir)}`;
  const graphPath = join(target, GRAPH_FILE);
  const weights = await readFaceApiWeights(FACE_RECOGNITION_MODEL, packageDir);
  const cached = await reusableConversion(target, source, weights.sha256);
  if (cached) return { graphPath, info: cached };
  return await withConversionLock(target, log, async () => {
    // Another process may have converted while we waited for the lock.
    const again = await reusableConversion(target, source, weights.sha256);
    if (again) return { graphPath, info: again };
    log(`converting ${source} ${FACE_RECOGNITION_MODEL} into ${target}`);
    const staging = `${target}.partial-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.mkdir(staging, { recursive: true });
    try {
      const graph = buildFaceRecognitionGraph(weights.tensors);
      graph.metadata.source = source;
      await saveModel(join(staging, GRAPH_FILE), graph);
      const info: FaceNetCacheInfo = {
        format: "fluidity-face-net",
        converterVersion: FACE_NET_CONVERTER_VERSION,
        source,
        sourceSha256: weights.sha256,
        sha256: { [GRAPH_FILE]: await sha256File(join(staging, GRAPH_FILE)) },
      };
      await writeTextFileAtomic(join(staging, INFO_FILE), JSON.stringify(info, null, 2) + "\n");
      await replaceDirAtomic(staging, target);
      return { graphPath, info };
    } catch (e) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      throw e;
    }
  });
}

async function reusableConversion(
  dir: string,
  source: string,
  sourceSha256: Record<string, string>,
): Promise<FaceNetCacheInfo | undefined> {
  let info: FaceNetCacheInfo;
  try {
    info = JSON.parse(await Deno.readTextFile(join(dir, INFO_FILE)));
    if (
      info?.format !== "fluidity-face-net" ||
      info.converterVersion !== FACE_NET_CONVERTER_VERSION || info.source !== source ||
      canonicalJson(info.sourceSha256 ?? {}) !== canonicalJson(sourceSha256)
    ) return undefined;
    for (const [file, sha] of Object.entries(info.sha256 ?? {})) {
      if (await sha256File(join(dir, file)) !== sha) return undefined;
    }
    return info.sha256?.[GRAPH_FILE] ? info : undefined;
  } catch {
    return undefined;
  }
}

/** A short description of the preprocessing, recorded in {@link EmbedderInfo}. */
export function describePreprocessing(box: FaceBox): string {
  const f = (v: number) => String(Math.round(v * 1e4) / 1e4);
  return `[0,1] -> bytes as PNG frames; crop x=${f(box.x)} y=${f(box.y)} w=${f(box.width)} ` +
    `h=${
      f(box.height)
    } of the side (face-api clipAtImageBorders + floor); padToSquare(centered); ` +
    `resizeBilinear to ${FACE_NET_INPUT_SIZE}x${FACE_NET_INPUT_SIZE} (alignCorners=false); ` +
    `minus mean RGB [122.782,117.001,104.298], /255`;
}

/** Largest batch handed to onnxruntime at once (bounds memory for long runs). */
const MAX_BATCH = 16;

/**
 * Loads face-api's recognition net on onnxruntime (converting it first if needed).
 *
 * @throws {RangeError} for a bad `device`, `threads` or `box`
 * @throws {Error} when `device: "cuda"` cannot be used (naming the fix)
 */
export async function loadFaceEmbedder(options: FaceEmbedderOptions = {}): Promise<FaceEmbedder> {
  const log = options.log ?? (() => {});
  const requested = options.device ?? "cpu";
  if (!["cpu", "cuda", "auto"].includes(requested)) {
    throw new RangeError(`device ${JSON.stringify(requested)} is not one of cpu, cuda, auto`);
  }
  const threads = options.threads ?? cpus().length;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`threads must be a positive integer, got ${threads}`);
  }
  const box = { ...(options.box ?? CELEBAHQ_FACE_BOX) };
  for (const key of ["x", "y", "width", "height"] as const) {
    const value = box[key];
    const ok = Number.isFinite(value) && (key === "x" || key === "y" || value > 0);
    if (!ok) {
      throw new RangeError(
        `box.${key} must be a finite number${key === "x" || key === "y" ? "" : " > 0"} ` +
          `(a fraction of the image side), got ${value}`,
      );
    }
  }
  const { graphPath, info: cache } = await convertFaceRecognitionNet(
    options.cacheDir ?? defaultFaceNetDir(),
    log,
  );
  let device: "cpu" | "cuda" = "cpu";
  if (requested !== "cpu") {
    const status = cudaProviderStatus();
    if (status.available) device = "cuda";
    else if (requested === "cuda") {
      throw new Error(`device "cuda" is not available for the face embedder: ${status.reason}`);
    } else log(`CUDA is not available (${status.reason}); the face embedder runs on the CPU`);
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(graphPath, sessionOptions(device, threads));
  } catch (e) {
    if (requested !== "auto" || device === "cpu") throw e;
    log(`CUDA failed for the face embedder (${(e as Error).message.split("\n")[0]}); using CPU`);
    device = "cpu";
    session = await ort.InferenceSession.create(graphPath, sessionOptions(device, threads));
  }
  const info: EmbedderInfo = {
    name: FACE_NET_NAME,
    source: cache.source,
    sha256: cache.sha256[GRAPH_FILE],
    dimension: DESCRIPTOR_LENGTH,
    threshold: SAME_PERSON_THRESHOLD,
    preprocessing: describePreprocessing(box),
  };
  return {
    info,
    async embed(images: Float32Array, count: number, size: number): Promise<Float32Array> {
      const pixels = cropFaces(images, count, size, box, FACE_NET_INPUT_SIZE);
      return await runFaceNet(session, pixels, count);
    },
    async release() {
      await session.release();
    },
  };
}

/**
 * Runs the converted graph on `count` face-net inputs (NCHW, 150×150, RGB 0..255, as
 * {@link cropFaces} makes them); returns `count` × 128 floats.
 */
export async function runFaceNet(
  session: ort.InferenceSession,
  pixels: Float32Array,
  count: number,
): Promise<Float32Array> {
  const per = 3 * FACE_NET_INPUT_SIZE * FACE_NET_INPUT_SIZE;
  if (pixels.length !== count * per) {
    throw new RangeError(`pixels holds ${pixels.length} floats, expected ${count} × ${per}`);
  }
  const out = new Float32Array(count * DESCRIPTOR_LENGTH);
  for (let start = 0; start < count; start += MAX_BATCH) {
    const n = Math.min(MAX_BATCH, count - start);
    const input = new ort.Tensor("float32", pixels.subarray(start * per, (start + n) * per), [
      n,
      3,
      FACE_NET_INPUT_SIZE,
      FACE_NET_INPUT_SIZE,
    ]);
    const result = await session.run({ [FACE_NET_INPUT]: input });
    const descriptor = result[FACE_NET_OUTPUT];
    out.set(descriptor.data as Float32Array, start * DESCRIPTOR_LENGTH);
    descriptor.dispose();
  }
  return out;
}
