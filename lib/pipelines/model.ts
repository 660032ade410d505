/**
 * Loading a converted model (a folder with `model.json`, `unet.onnx`, `vqvae_decoder.onnx` and,
 * from converter version 3, `unet_loop.onnx`) into onnxruntime sessions on the chosen device.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { cpus } from "node:os";
import { CUDA_INSTALL_HINT, cudaProviderStatus } from "./cuda.ts";

/** File name of the fused denoising loop in a converted model folder (converter version 3+). */
export const FUSED_LOOP_FILE = "unet_loop.onnx";

/** Where the networks run. `auto` tries CUDA and falls back to the CPU with one warning. */
export type Device = "cpu" | "cuda" | "auto";

/** The contents of a converted model's `model.json`, as written by `convertDiffusers`. */
export interface ModelInfo {
  /** Always `"fluidity-model"`. */
  format: string;
  /** Version of the converter that wrote the folder. */
  converterVersion: string;
  /** Where the weights came from: a hub id or a folder, and the source files' SHA-256. */
  source: { id: string; revision?: string; sha256: Record<string, string> };
  /** SHA-256 of every file of the converted model, by file name. */
  sha256: Record<string, string>;
  /** The diffusers configs the graphs were built from. */
  unet: Record<string, unknown>;
  /** The VQModel config. */
  vqvae: Record<string, unknown>;
  /** The scheduler config. */
  scheduler: Record<string, unknown>;
  /** Latents are divided by this before decoding (1.0 for CompVis/ldm-celebahq-256). */
  latentScale: number;
  /** Latent channels, height = width of the latents, and the decoded image size. */
  latentChannels: number;
  /** Height (= width) of the latents. */
  latentSize: number;
  /** Height (= width) of decoded images. */
  imageSize: number;
  /** Floating-point precision of the weights in the graphs. */
  precision: "fp32" | "fp16";
}

/** Options of {@link loadModel}. */
export interface LoadOptions {
  /** `cpu` (default), `cuda`, or `auto`. */
  device?: Device;
  /** Intra-op threads for the CPU provider; default: all cores. */
  threads?: number;
  /** Called with the fallback message when `auto` cannot use CUDA; default `console.warn`. */
  warn?: (message: string) => void;
}

/** A converted model ready to sample from. */
export interface LoadedModel {
  /** The model folder. */
  dir: string;
  /** Its `model.json`. */
  info: ModelInfo;
  /**
   * The device the sessions run on: `cuda` means the CUDA provider was registered (onnxruntime
   * may still place operators CUDA lacks on the CPU); a failed CUDA setup never reports `cuda`.
   */
  device: "cpu" | "cuda";
  /** Intra-op thread count used for the CPU provider. */
  threads: number;
  /**
   * The step-by-step UNet session (`sample`, `timestep` → `eps`), created on first use: on CUDA
   * the fused loop is used instead, and loading both would hold the weights twice.
   */
  unet(): Promise<ort.InferenceSession>;
  /** The VQ decoder session (`latents` → `image`, `codes`). */
  decoder: ort.InferenceSession;
  /** Latent channels. */
  latentChannels: number;
  /** Latent height = width. */
  latentSize: number;
  /** Decoded image height = width. */
  imageSize: number;
  /** Whether the folder holds the fused denoising loop (`unet_loop.onnx`). */
  hasFusedLoop: boolean;
  /**
   * The fused denoising loop session (see `buildDenoiseLoopGraph`), created on first use on the
   * same device as the others.
   *
   * @throws {ModelLoadError} when the folder has no `unet_loop.onnx`
   */
  fusedLoop(): Promise<ort.InferenceSession>;
  /** Frees the sessions. */
  release(): Promise<void>;
}

/** Raised when a model folder is missing files or holds an unreadable `model.json`. */
export class ModelLoadError extends Error {
  /** Creates a ModelLoadError. */
  constructor(message: string) {
    super(message);
    this.name = "ModelLoadError";
  }
}

/** Reads and checks `model.json` in `dir`. */
export async function readModelInfo(dir: string): Promise<ModelInfo> {
  const path = join(dir, "model.json");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ModelLoadError(
        `${path} not found: ${dir} is not a converted model (run deno task model:convert or model:fetch)`,
      );
    }
    throw e;
  }
  let info: ModelInfo;
  try {
    info = JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (info?.format !== "fluidity-model") {
    throw new ModelLoadError(
      `${path}: "format" is ${JSON.stringify(info?.format)}, expected "fluidity-model"`,
    );
  }
  for (const key of ["latentScale", "latentChannels", "latentSize", "imageSize"] as const) {
    if (typeof info[key] !== "number" || !Number.isFinite(info[key]) || info[key] <= 0) {
      throw new ModelLoadError(
        `${path}: "${key}" must be a positive number, got ${JSON.stringify(info[key])}`,
      );
    }
  }
  return info;
}

/**
 * The onnxruntime session options of every model session (and of the benchmark, so that it
 * measures what runs): full graph optimisation, `threads` intra-op threads, sequential execution.
 */
export function sessionOptions(
  device: "cpu" | "cuda",
  threads: number,
): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: device === "cuda" ? [{ name: "cuda" }, "cpu"] : ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
  };
}

async function createSession(path: string, device: "cpu" | "cuda", threads: number) {
  try {
    await Deno.stat(path);
  } catch {
    throw new ModelLoadError(
      `${path} not found: the model folder is incomplete (re-run the conversion)`,
    );
  }
  try {
    return await ort.InferenceSession.create(path, sessionOptions(device, threads));
  } catch (e) {
    const hint = device === "cuda"
      ? ` (the CUDA provider is installed but could not start: it needs an NVIDIA GPU, CUDA 12 and cuDNN 9 libraries on the library path)`
      : "";
    throw new ModelLoadError(`cannot load ${path} on ${device}: ${(e as Error).message}${hint}`);
  }
}

/**
 * Loads a converted model with onnxruntime-node.
 *
 * CUDA needs onnxruntime-node's CUDA provider, which its install script fetches
 * (`ONNXRUNTIME_NODE_INSTALL=cuda12 deno install --allow-scripts=npm:onnxruntime-node`); with
 * `device: "cuda"` a missing or unusable provider is an error naming the fix, with `auto` it
 * falls back to the CPU and warns once.
 */
export async function loadModel(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  const info = await readModelInfo(dir);
  const requested = options.device ?? "cpu";
  if (!["cpu", "cuda", "auto"].includes(requested)) {
    throw new RangeError(`device ${JSON.stringify(requested)} is not one of cpu, cuda, auto`);
  }
  const threads = options.threads ?? cpus().length;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`threads must be a positive integer, got ${threads}`);
  }
  const warn = options.warn ?? console.warn;
  let device: "cpu" | "cuda" = "cpu";
  if (requested !== "cpu") {
    const status = cudaProviderStatus();
    if (status.available) {
      device = "cuda";
    } else if (requested === "cuda") {
      throw new ModelLoadError(
        `device "cuda" is not available: ${status.reason}; ${CUDA_INSTALL_HINT}`,
      );
    } else {
      warn(`CUDA is not available (${status.reason}); running on the CPU instead`);
    }
  }
  const loopPath = join(dir, FUSED_LOOP_FILE);
  const hasFusedLoop = await Deno.stat(loopPath).then((s) => s.isFile, () => false);
  const sessions = new Map<string, Promise<ort.InferenceSession>>();
  const open = (file: string) => {
    let session = sessions.get(file);
    if (!session) {
      session = createSession(join(dir, file), device, threads);
      sessions.set(file, session);
    }
    return session;
  };
  // Open now the session sampling will use (the fused loop on CUDA): it proves the device works,
  // so `device` is truthful and `auto` can still fall back.
  const primary = device === "cuda" && hasFusedLoop ? FUSED_LOOP_FILE : "unet.onnx";
  try {
    await open(primary);
  } catch (e) {
    if (requested !== "auto" || device === "cpu") throw e;
    warn(
      `CUDA is not available (${(e as Error).message.split("\n")[0]}); running on the CPU instead`,
    );
    device = "cpu";
    sessions.clear();
    await open("unet.onnx");
  }
  let decoder: ort.InferenceSession;
  try {
    decoder = await createSession(join(dir, "vqvae_decoder.onnx"), device, threads);
  } catch (e) {
    for (const session of sessions.values()) {
      await (await session.catch(() => undefined))?.release();
    }
    throw e;
  }
  return {
    dir,
    info,
    device,
    threads,
    unet: () => open("unet.onnx"),
    decoder,
    latentChannels: info.latentChannels,
    latentSize: info.latentSize,
    imageSize: info.imageSize,
    hasFusedLoop,
    fusedLoop() {
      if (!hasFusedLoop) {
        return Promise.reject(
          new ModelLoadError(
            `${loopPath} not found: the model was converted before the fused loop existed ` +
              `(converter version ${info.converterVersion}); re-run the conversion`,
          ),
        );
      }
      return open(FUSED_LOOP_FILE);
    },
    async release() {
      await decoder.release();
      for (const session of sessions.values()) {
        await (await session.catch(() => undefined))?.release();
      }
      sessions.clear();
    },
  };
}
