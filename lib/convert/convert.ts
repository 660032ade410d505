/**
 * Conversion of a diffusers LDM checkpoint (the `CompVis/ldm-celebahq-256` layout: `unet/`,
 * `vqvae/`, `scheduler/`) into the folder the sampler loads: `unet.onnx`, `unet_loop.onnx` (the
 * fused denoising loop, sharing unet.onnx's weights file), `vqvae_decoder.onnx` (plus
 * external-data files for large weights) and `model.json`, which records the configs, the
 * SHA-256 of every source and output file, and the latent scale.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { findWeightsFile, parseCheckpoint } from "../io/checkpoint.ts";
import type { RawTensor } from "../io/tensor.ts";
import {
  buildDenoiseLoopGraph,
  buildUnetGraph,
  buildVqDecoderGraph,
  LDM_CELEBAHQ_UNET_CONFIG,
  LDM_CELEBAHQ_VQVAE_CONFIG,
  parseUnetConfig,
  parseVqModelConfig,
  type Precision,
  randomWeights,
  unetParameterShapes,
  vqDecoderParameterShapes,
} from "../models/mod.ts";
import { saveModel } from "../onnx/mod.ts";
import { FUSED_LOOP_FILE, type ModelInfo, readModelInfo } from "../pipelines/model.ts";
import { describeFiles, verifyModelFiles, writeVerifiedRecord } from "../pipelines/model_files.ts";
import { canonicalJson } from "../util/canonical.ts";
import { parseDDIMConfig } from "../schedulers/mod.ts";
import { readFileWithSha256, sha256File } from "../util/hash.ts";
import { replaceDirAtomic, writeTextFileAtomic } from "../util/atomic.ts";
import { acquireLock } from "../util/lock.ts";
import { normalizeKeys } from "./keys.ts";

/** Bumped whenever converted graphs could differ for the same source. */
export const CONVERTER_VERSION = "3";

/** The paper's model: its latents must be decoded unscaled (see {@link defaultLatentScale}). */
export const COMPVIS_CELEBAHQ = "CompVis/ldm-celebahq-256";

/** Weights above this many bytes go to an external-data file beside the `.onnx`. */
const EXTERNAL_DATA_BYTES = 64 * 1024 * 1024;

/** Options of {@link convertDiffusers}. */
export interface ConvertOptions {
  /** Divide latents by this before decoding; default from {@link defaultLatentScale}. */
  latentScale?: number;
  /** Where the checkpoint came from (hub id, optionally `@revision`), recorded in model.json. */
  sourceId?: string;
  /** Receives one line per stage. */
  log?: (line: string) => void;
  /**
   * Precision of the graphs' weights and arithmetic (default `fp32`). `fp16` halves the files
   * and suits GPUs (tensor cores); onnxruntime's CPU float16 kernels are slow, so on the CPU
   * keep fp32. Inputs and outputs stay float32 either way.
   */
  precision?: Precision;
  /**
   * Keep `outDir` as it is when it already holds a conversion of exactly these source files by
   * this converter version, with the same precision and latent scale, and its files intact
   * (`resolveModel`, `model:fetch`). Default false: always rebuild.
   */
  reuse?: boolean;
}

/** Raised for a source folder that cannot be converted; the message names the file or field. */
export class ConvertError extends Error {
  /** Creates a ConvertError. */
  constructor(message: string) {
    super(message);
    this.name = "ConvertError";
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ConvertError(
        `${path} not found: not a diffusers LDM folder (need unet/, vqvae/, scheduler/)`,
      );
    }
    throw e;
  }
  try {
    const value = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new Error("not a JSON object");
    }
    return value;
  } catch (e) {
    throw new ConvertError(`${path} is not a valid config: ${(e as Error).message}`);
  }
}

/**
 * The latent scale to decode with. diffusers' stock LDMPipeline divides by the VQ config's
 * `scaling_factor` (0.18215 by default), which breaks the faces of CompVis/ldm-celebahq-256
 * (diffusers issue #6725): that model was trained on unscaled latents, so its scale is 1.0 whatever
 * its config says. The model is recognised by its architecture (so a clone or a re-saved config
 * is recognised too) or by its hub id; any other model gets diffusers' value.
 */
export function defaultLatentScale(
  configs: { unet: Record<string, unknown>; vqvae: Record<string, unknown> },
  source: { id?: string; dir?: string } = {},
): { value: number; reason: string } {
  const names = [source.id ?? "", source.dir ?? ""].join(" ");
  const named = names.includes(COMPVIS_CELEBAHQ) ||
    names.includes("models--CompVis--ldm-celebahq-256");
  if (named || isCompVisCelebahq(configs.unet, configs.vqvae)) {
    return {
      value: 1,
      reason: `${COMPVIS_CELEBAHQ} decodes unscaled latents (diffusers issue #6725)`,
    };
  }
  const factor = configs.vqvae.scaling_factor;
  if (typeof factor === "number" && Number.isFinite(factor) && factor > 0) {
    return { value: factor, reason: "vqvae config scaling_factor" };
  }
  return { value: DIFFUSERS_SCALING_FACTOR, reason: "diffusers' default VQModel scaling_factor" };
}

/** `VQModel`'s default `scaling_factor` in diffusers. */
const DIFFUSERS_SCALING_FACTOR = 0.18215;

/** The configuration fields that identify the architecture of a component. */
const ARCHITECTURE_FIELDS: Readonly<Record<"unet" | "vqvae", readonly string[]>> = {
  unet: [
    "block_out_channels",
    "down_block_types",
    "up_block_types",
    "layers_per_block",
    "sample_size",
    "in_channels",
  ],
  vqvae: ["block_out_channels", "latent_channels", "num_vq_embeddings", "layers_per_block"],
};

/** Whether the configs describe CompVis/ldm-celebahq-256's networks. */
function isCompVisCelebahq(unet: Record<string, unknown>, vqvae: Record<string, unknown>): boolean {
  const same = (
    a: Record<string, unknown>,
    b: Record<string, unknown>,
    fields: readonly string[],
  ) => fields.every((f) => JSON.stringify(a[f]) === JSON.stringify(b[f]));
  return same(unet, LDM_CELEBAHQ_UNET_CONFIG, ARCHITECTURE_FIELDS.unet) &&
    same(vqvae, LDM_CELEBAHQ_VQVAE_CONFIG, ARCHITECTURE_FIELDS.vqvae);
}

/** Everything needed to write a converted model folder. */
export interface ModelParts {
  /** Raw diffusers configs. */
  unetConfig: Record<string, unknown>;
  /** VQModel config. */
  vqvaeConfig: Record<string, unknown>;
  /** Scheduler config. */
  schedulerConfig: Record<string, unknown>;
  /** UNet weights under current diffusers names. */
  unetWeights: ReadonlyMap<string, RawTensor>;
  /** VQModel weights under current diffusers names (encoder tensors are ignored). */
  vqvaeWeights: ReadonlyMap<string, RawTensor>;
  /** Recorded as model.json's `source`. */
  source: ModelInfo["source"];
  /** Latent scale to record. */
  latentScale: number;
  /** Why that latent scale (recorded beside it). */
  latentScaleReason: string;
  /** Precision of the graphs (default `fp32`). */
  precision?: Precision;
}

function checkLatentScale(value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ConvertError(`latentScale must be a number > 0, got ${value}`);
  }
}

/**
 * Runs `fn` holding the conversion lock of `outDir`: two conversions into one folder
 * (model:convert, model:fetch, resolveModel) take turns, and leftovers of a conversion that was
 * killed (`<name>.partial-*`, `<name>.old-*`) are removed first.
 */
export async function withConversionLock<T>(
  outDir: string,
  log: (line: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const target = resolve(outDir);
  const parent = dirname(target);
  await Deno.mkdir(parent, { recursive: true });
  const lock = await acquireLock(join(parent, `.${basename(target)}.convert.lock`), {
    wait: true,
    log,
    what: `the conversion into ${target}`,
  });
  try {
    for await (const entry of Deno.readDir(parent)) {
      const rest = entry.name.startsWith(basename(target))
        ? entry.name.slice(basename(target).length)
        : "";
      if (entry.isDirectory && /^\.(partial|old)-[0-9a-f]{8}$/.test(rest)) {
        await Deno.remove(join(parent, entry.name), { recursive: true }).catch(() => {});
      }
    }
    return await fn();
  } finally {
    await lock.release();
  }
}

/**
 * Builds both graphs and writes the model folder. The folder is assembled under a temporary name
 * and renamed into place, so `outDir` holds either the previous model or the complete new one.
 * Callers hold the conversion lock ({@link withConversionLock}).
 */
export async function writeModelFolder(
  outDir: string,
  parts: ModelParts,
  log: (line: string) => void = () => {},
): Promise<ModelInfo> {
  checkLatentScale(parts.latentScale);
  const unetConfig = parseUnetConfig(parts.unetConfig, "unet/config.json");
  const vqConfig = parseVqModelConfig(parts.vqvaeConfig, "vqvae/config.json");
  let scheduler;
  try {
    scheduler = parseDDIMConfig(parts.schedulerConfig).config;
  } catch (e) {
    throw new ConvertError(`scheduler/scheduler_config.json: ${(e as Error).message}`);
  }
  const precision = parts.precision ?? "fp32";
  if (precision !== "fp32" && precision !== "fp16") {
    throw new ConvertError(`precision must be "fp32" or "fp16", got ${JSON.stringify(precision)}`);
  }
  const target = resolve(outDir);
  await Deno.mkdir(dirname(target), { recursive: true });
  const staging = `${target}.partial-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(staging, { recursive: true });
  try {
    log(`building unet.onnx (${precision})`);
    const unetGraph = buildUnetGraph(unetConfig, parts.unetWeights, { precision });
    const unetFile = join(staging, "unet.onnx");
    const unetSaved = await saveModel(unetFile, unetGraph, {
      externalData: weightBytes(unetGraph.initializers) > EXTERNAL_DATA_BYTES,
    });
    // Hashed by the writer from the bytes it wrote: 1.2 GB is not read back.
    const written: Record<string, string> = { ...unetSaved.sha256 };
    log(`building ${FUSED_LOOP_FILE}`);
    const loopGraph = buildDenoiseLoopGraph(unetGraph, {
      predictionType: scheduler.prediction_type,
      clipSample: scheduler.clip_sample ? scheduler.clip_sample_range : null,
    });
    // The loop's body reads the UNet's weights: with external data it points into unet.onnx.data
    // (same names, same offsets) rather than storing a second copy.
    const loopSaved = await saveModel(join(staging, FUSED_LOOP_FILE), loopGraph, {
      sharedData: unetSaved.dataPath
        ? { file: basename(unetSaved.dataPath), layout: unetSaved.layout }
        : undefined,
    });
    Object.assign(written, loopSaved.sha256);
    log("building vqvae_decoder.onnx");
    const vqGraph = buildVqDecoderGraph(vqConfig, parts.vqvaeWeights, { precision });
    const vqSaved = await saveModel(join(staging, "vqvae_decoder.onnx"), vqGraph, {
      externalData: weightBytes(vqGraph.initializers) > EXTERNAL_DATA_BYTES,
    });
    Object.assign(written, vqSaved.sha256);
    const sha256: Record<string, string> = {};
    for (const name of Object.keys(written).sort((a, b) => a.localeCompare(b))) {
      sha256[name] = written[name];
    }
    const latentSize = squareSize(unetConfig.sampleSize);
    const info: ModelInfo & { latentScaleReason: string } = {
      format: "fluidity-model",
      converterVersion: CONVERTER_VERSION,
      source: parts.source,
      sha256,
      unet: parts.unetConfig,
      vqvae: parts.vqvaeConfig,
      scheduler: parts.schedulerConfig,
      latentScale: parts.latentScale,
      latentScaleReason: parts.latentScaleReason,
      latentChannels: unetConfig.inChannels,
      latentSize,
      imageSize: latentSize * 2 ** (vqConfig.blockOutChannels.length - 1),
      precision,
    };
    await writeTextFileAtomic(join(staging, "model.json"), JSON.stringify(info, null, 2) + "\n");
    // The hashes are those of the bytes just written: the first run need not hash them again.
    await writeVerifiedRecord(staging, await describeFiles(staging, sha256));
    await replaceDirAtomic(staging, target);
    log(`wrote ${target}`);
    return info;
  } catch (e) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw e;
  }
}

/** The sampler draws square latents: the config must say how large. */
function squareSize(sampleSize: number | [number, number] | null): number {
  if (typeof sampleSize === "number") return sampleSize;
  if (Array.isArray(sampleSize) && sampleSize[0] === sampleSize[1]) return sampleSize[0];
  throw new ConvertError(
    `unet/config.json: "sample_size" must be one number (square latents), got ${
      JSON.stringify(sampleSize)
    }`,
  );
}

function weightBytes(initializers: readonly { data: ArrayBufferView }[]): number {
  let total = 0;
  for (const init of initializers) total += init.data.byteLength;
  return total;
}

/**
 * Converts a diffusers LDM folder (`unet/`, `vqvae/`, `scheduler/` with config.json and
 * `diffusion_pytorch_model.safetensors` or `.bin`, current or early-diffusers key names) into
 * `outDir`.
 *
 * @returns the model.json written
 * @throws {ConvertError} naming the missing or invalid file; config errors name the field
 */
export function convertDiffusers(
  srcDir: string,
  outDir: string,
  options: ConvertOptions = {},
): Promise<ModelInfo> {
  const log = options.log ?? (() => {});
  return withConversionLock(outDir, log, () => convertLocked(srcDir, outDir, options, log));
}

async function convertLocked(
  srcDir: string,
  outDir: string,
  options: ConvertOptions,
  log: (line: string) => void,
): Promise<ModelInfo> {
  const unetConfig = await readJson(join(srcDir, "unet", "config.json"));
  const vqvaeConfig = await readJson(join(srcDir, "vqvae", "config.json"));
  const schedulerConfig = await readJson(join(srcDir, "scheduler", "scheduler_config.json"));
  const sourceFiles: Record<string, string> = {};
  const weightBytes = new Map<string, { file: string; bytes: Uint8Array }>();
  for (const component of ["unet", "vqvae"]) {
    const file = await findWeightsFile(join(srcDir, component));
    log(`reading ${file}`);
    // Read once: the same bytes are hashed and parsed (tensors are views into them).
    const { bytes, sha256 } = await readFileWithSha256(file);
    sourceFiles[`${component}/${basename(file)}`] = sha256;
    weightBytes.set(component, { file, bytes });
  }
  for (const name of ["unet/config.json", "vqvae/config.json", "scheduler/scheduler_config.json"]) {
    sourceFiles[name] = await sha256File(join(srcDir, name));
  }
  const id = options.sourceId ?? resolve(srcDir);
  const scale = options.latentScale !== undefined
    ? { value: options.latentScale, reason: "set by the user" }
    : defaultLatentScale({ unet: unetConfig, vqvae: vqvaeConfig }, { id, dir: resolve(srcDir) });
  const precision = options.precision ?? "fp32";
  if (options.reuse) {
    const existing = await reusableConversion(outDir, sourceFiles, scale.value, precision);
    if (existing) {
      log(`${outDir} is up to date`);
      return existing;
    }
  }
  const load = (component: string) => {
    const { file, bytes } = weightBytes.get(component)!;
    return normalizeKeys(parseCheckpoint(bytes, file));
  };
  log(`converting ${srcDir} into ${outDir}`);
  return await writeModelFolder(outDir, {
    unetConfig,
    vqvaeConfig,
    schedulerConfig,
    unetWeights: load("unet"),
    vqvaeWeights: load("vqvae"),
    source: { id, sha256: sourceFiles },
    latentScale: scale.value,
    latentScaleReason: scale.reason,
    precision: options.precision,
  }, log);
}

/**
 * The model.json of `outDir` when it is a conversion of exactly `sourceFiles` by this converter
 * with this latent scale and precision, and every file it lists is intact; else undefined.
 */
async function reusableConversion(
  outDir: string,
  sourceFiles: Record<string, string>,
  latentScale: number,
  precision: Precision,
): Promise<ModelInfo | undefined> {
  let info: ModelInfo;
  try {
    info = await readModelInfo(outDir);
    await verifyModelFiles(outDir);
  } catch {
    return undefined;
  }
  const same = info.converterVersion === CONVERTER_VERSION &&
    canonicalJson(info.source?.sha256 ?? {}) === canonicalJson(sourceFiles) &&
    info.latentScale === latentScale && (info.precision ?? "fp32") === precision;
  return same ? info : undefined;
}

/** Options of {@link buildRandomModel}. */
export interface RandomModelOptions {
  /** Seed of the random weights. */
  seed: number;
  /** Raw configs; a missing scheduler config means the CompVis DDIM settings. */
  unetConfig: Record<string, unknown>;
  /** VQModel config. */
  vqvaeConfig: Record<string, unknown>;
  /** Scheduler config. */
  schedulerConfig: Record<string, unknown>;
  /** Latent scale (default 1). */
  latentScale?: number;
  /** Precision of the graphs (default `fp32`). */
  precision?: Precision;
}

/**
 * Writes a model folder with the given architecture and seeded random weights: the full-size
 * CompVis networks can be benchmarked, and the whole pipeline run, without the download.
 */
export async function buildRandomModel(
  outDir: string,
  options: RandomModelOptions,
  log?: (line: string) => void,
): Promise<ModelInfo> {
  const unet = parseUnetConfig(options.unetConfig, "unet config");
  const vq = parseVqModelConfig(options.vqvaeConfig, "vqvae config");
  return await withConversionLock(outDir, log ?? (() => {}), () =>
    writeModelFolder(outDir, {
      unetConfig: options.unetConfig,
      vqvaeConfig: options.vqvaeConfig,
      schedulerConfig: options.schedulerConfig,
      unetWeights: randomWeights(unetParameterShapes(unet), options.seed),
      vqvaeWeights: randomWeights(vqDecoderParameterShapes(vq), options.seed + 1),
      source: { id: `random-weights:seed=${options.seed}`, sha256: {} },
      latentScale: options.latentScale ?? 1,
      latentScaleReason: "random-weight model",
      precision: options.precision,
    }, log));
}
