/**
 * Runs an experiment: plan the frames, reuse what the output folder already holds, sample the
 * rest batch by batch (manifest rewritten after each), then metrics and pictures.
 *
 * @module
 */

import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canonicalJson } from "./canonical.ts";
import { sha256Hex } from "../util/hash.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { Progress, type ProgressWriter } from "../hub/progress.ts";
import type { PictureFrame, RunnerDeps, RunnerModel } from "./deps.ts";
import { frameKey, type KeyContext } from "./keys.ts";
import {
  type Manifest,
  type ManifestFrame,
  type ManifestOutputs,
  readManifest,
  reusableFrames,
  writeManifest,
} from "./manifest.ts";
import { meanColor, rmsDistance, summarize } from "./metrics.ts";
import { batchFrames, planFrames, type PlannedFrame } from "./plan.ts";
import { type ResolvedExperiment, resolveExperiment } from "./spec.ts";

/** Options of {@link runExperiment}. */
export interface RunOptions {
  /** Write the run exactly into this folder (resuming whatever it holds). */
  out?: string;
  /**
   * Root of default run folders (`<resultsDir>/<name>/<run id>/`); default: the project's
   * `results/` folder, wherever the command is run from.
   */
  resultsDir?: string;
  /** Where the networks run; default `cpu`. */
  device?: "cpu" | "cuda" | "auto";
  /** Intra-op threads; default: all cores. */
  threads?: number;
  /** Replacements for the real modules (tests). Missing entries use the real ones. */
  deps?: Partial<RunnerDeps>;
  /** Informational messages; default: a line on stderr. */
  log?: (message: string) => void;
  /** Where the progress line goes; default stderr. */
  progressWriter?: ProgressWriter;
  /** The clock for run ids and manifest times; default `new Date()`. */
  now?: () => Date;
}

/** What {@link runExperiment} returns. */
export interface RunResult {
  /** The run folder. */
  dir: string;
  /** The final manifest, as written to `dir/manifest.json`. */
  manifest: Manifest;
}

const encoder = new TextEncoder();

/** The project's `results/` folder. */
const PROJECT_RESULTS = fileURLToPath(new URL("../../results/", import.meta.url));

function stderrLog(message: string) {
  Deno.stderr.writeSync(encoder.encode(`${message}\n`));
}

/** `20250102T030405Z`: sortable, and valid in every file system. */
export function utcStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** SHA-256 of the canonical JSON of a resolved spec. */
export function specHash(spec: ResolvedExperiment): string {
  return sha256Hex(canonicalJson(spec));
}

/**
 * The default run folder: the latest `<resultsDir>/<name>/<stamp>-<hash8>` of this exact spec if
 * one exists (so an interrupted or repeated run resumes instead of starting over), else a new one.
 */
export async function defaultRunDir(
  resultsDir: string,
  spec: ResolvedExperiment,
  now: Date,
): Promise<string> {
  const short = specHash(spec).slice(0, 8);
  const parent = join(resultsDir, spec.name);
  const same: string[] = [];
  try {
    for await (const entry of Deno.readDir(parent)) {
      if (entry.isDirectory && new RegExp(`^\\d{8}T\\d{6}Z-${short}$`).test(entry.name)) {
        same.push(entry.name);
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  same.sort();
  return join(parent, same.at(-1) ?? `${utcStamp(now)}-${short}`);
}

/** Every dependency, so that a complete set of fakes never loads the real modules. */
const DEP_NAMES = Object.keys(
  {
    resolveModel: 0,
    loadModel: 0,
    sample: 0,
    onnxruntimeVersion: 0,
    paths: 0,
    imageToRgba: 0,
    encodePng: 0,
    decodePng: 0,
    contactSheet: 0,
    pathPlot: 0,
    encodeGif: 0,
    encodeMp4: 0,
    findFfmpeg: 0,
  } satisfies Record<keyof RunnerDeps, 0>,
) as (keyof RunnerDeps)[];

async function loadDefaultDeps(): Promise<RunnerDeps> {
  const { defaultDeps } = await import("./default_deps.ts");
  return defaultDeps();
}

async function runtimeInfo(model: RunnerModel, deps: RunnerDeps): Promise<Manifest["runtime"]> {
  const cpu = cpus();
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    onnxruntime: await deps.onnxruntimeVersion(),
    device: model.device,
    threads: model.threads,
    os: Deno.build.os,
    arch: Deno.build.arch,
    cpu: { model: cpu[0]?.model ?? "unknown", cores: cpu.length },
  };
}

function seedForSampler(seed: number | string): number | bigint {
  return typeof seed === "number" ? seed : BigInt(seed);
}

/**
 * Runs an experiment spec (as written, or already resolved) and returns the run folder and its
 * manifest.
 *
 * Frames whose content key is in the folder's manifest and whose PNG still has the recorded
 * SHA-256 are not recomputed. The manifest is rewritten atomically after every batch.
 *
 * @throws {SpecError} before any work for an invalid spec.
 */
export async function runExperiment(spec: unknown, options: RunOptions = {}): Promise<RunResult> {
  const injected = options.deps ?? {};
  const complete = DEP_NAMES.every((name) => injected[name] !== undefined);
  const deps = { ...(complete ? {} : await loadDefaultDeps()), ...injected } as RunnerDeps;
  const log = options.log ?? stderrLog;
  const now = options.now ?? (() => new Date());

  const resolved = resolveExperiment(spec, {}, { createPath: deps.paths.createPath });
  const plan = planFrames(resolved, deps.paths);
  const hash = specHash(resolved);
  const dir = options.out ??
    await defaultRunDir(options.resultsDir ?? PROJECT_RESULTS, resolved, now());
  // The model first: a model that is missing should not leave an empty run folder behind.
  const modelDir = await deps.resolveModel(resolved.model, log);
  const model = await deps.loadModel(modelDir, {
    device: options.device ?? "cpu",
    threads: options.threads,
    warn: log,
  });
  try {
    await Deno.mkdir(join(dir, "frames"), { recursive: true });
    return await runWithModel({ resolved, plan, hash, dir, model, deps, log, now, options });
  } finally {
    await model.release();
  }
}

interface RunContext {
  resolved: ResolvedExperiment;
  plan: PlannedFrame[];
  hash: string;
  dir: string;
  model: RunnerModel;
  deps: RunnerDeps;
  log: (message: string) => void;
  now: () => Date;
  options: RunOptions;
}

async function runWithModel(ctx: RunContext): Promise<RunResult> {
  const { resolved, plan, dir, model, deps, log, now } = ctx;
  const keyContext: KeyContext = {
    modelHashes: model.info.sha256,
    scheduler: model.info.scheduler ?? null,
    seed: String(resolved.seed),
    steps: resolved.steps,
    latentScale: resolved.latentScale ?? model.info.latentScale,
    eta: 0,
  };
  const keys = plan.map((frame) => frameKey(keyContext, frame));

  const previous = await readManifest(dir, log);
  const reusable = await reusableFrames(dir, previous);
  const entries: (ManifestFrame | undefined)[] = plan.map((frame, i) => {
    const old = reusable.get(keys[i]);
    return old ? toEntry(frame, keys[i], { ...old, computed: false }) : undefined;
  });

  // Frames with equal keys (a colour listed twice) are computed once.
  const firstOfKey = new Map<string, PlannedFrame>();
  for (const frame of plan) {
    if (!entries[frame.index] && !firstOfKey.has(keys[frame.index])) {
      firstOfKey.set(keys[frame.index], frame);
    }
  }
  const todo = [...firstOfKey.values()];
  const batches = batchFrames(todo, resolved.batch);

  const manifest: Manifest = {
    version: 1,
    status: "running",
    runId: dir.split(/[\\/]/).filter(Boolean).pop() ?? dir,
    specHash: ctx.hash,
    createdAt: previous?.createdAt ?? now().toISOString(),
    updatedAt: now().toISOString(),
    spec: resolved,
    model: {
      spec: resolved.model,
      dir: model.dir,
      info: model.info as unknown as Record<string, unknown>,
    },
    runtime: await runtimeInfo(model, deps),
    frames: [],
    summary: null,
    outputs: { contactSheet: null, pathPlot: null, video: { mp4: null, gif: null } },
    warnings: [],
  };
  const save = async () => {
    manifest.frames = entries.filter((e): e is ManifestFrame => e !== undefined);
    manifest.updatedAt = now().toISOString();
    await writeManifest(dir, manifest);
  };
  await save();

  const reused = plan.length - entries.filter((e) => !e).length;
  log(
    `${resolved.name}: ${plan.length} frames, ${reused} already in ${dir}, ` +
      `${todo.length} to compute in ${batches.length} batch(es) of ≤ ${resolved.batch}, ` +
      `${resolved.steps} steps, on ${model.device} (${model.threads} threads)`,
  );

  const size = model.imageSize;
  const pixels = new Map<number, Uint8Array>();
  const samplingStarted = performance.now();
  if (todo.length > 0) {
    const progress = new Progress({
      total: todo.length,
      unit: "frames",
      label: resolved.name,
      writer: ctx.options.progressWriter,
    });
    let done = 0;
    for (const batch of batches) {
      const started = performance.now();
      const { images } = await deps.sample(model, {
        seed: seedForSampler(resolved.seed),
        steps: resolved.steps,
        colors: batch.map((f) => f.color),
        scale: batch[0].injection.scale,
        window: batch[0].injection.window,
        mode: batch[0].injection.mode,
        latentScale: keyContext.latentScale,
        onStep: (k, steps) => progress.update(done + (batch.length * k) / steps),
      });
      const batchMs = performance.now() - started;
      const expected = batch.length * 3 * size * size;
      if (images.length !== expected) {
        throw new Error(
          `sampler returned ${images.length} values for ${batch.length} images of ` +
            `3×${size}×${size} (expected ${expected})`,
        );
      }
      for (let b = 0; b < batch.length; b++) {
        const rgba = deps.imageToRgba(images, b, size, size);
        const png = await deps.encodePng(rgba, size, size);
        const sha256 = sha256Hex(png);
        const file = `frames/${sha256}.png`;
        await writeFileAtomic(join(dir, file), png);
        const stored = {
          file,
          sha256,
          width: size,
          height: size,
          computed: true,
          timings: { sampleMs: batchMs / batch.length, batchMs, batchSize: batch.length },
          meanColor: meanColor(rgba),
        };
        const key = keys[batch[b].index];
        for (const frame of plan) {
          if (keys[frame.index] !== key || entries[frame.index]) continue;
          entries[frame.index] = toEntry(frame, key, stored);
          pixels.set(frame.index, rgba);
        }
      }
      fillDistances(entries, pixels);
      done += batch.length;
      progress.update(done);
      await save();
    }
    progress.finish();
  }
  const samplingMs = performance.now() - samplingStarted;

  const frames = await loadAllPixels(entries as ManifestFrame[], pixels, dir, deps);
  fillDistances(entries, pixels);
  manifest.frames = entries as ManifestFrame[];
  manifest.summary = {
    ...summarize(manifest.frames),
    frames: plan.length,
    computed: todo.length,
    reused: plan.length - manifest.frames.filter((f) => f.computed).length,
    samplingMs,
  };
  const pictures = await makePictures(resolved, frames, dir, deps, log);
  manifest.outputs = pictures.outputs;
  manifest.warnings.push(...pictures.warnings);
  manifest.status = "complete";
  await save();
  return { dir, manifest };
}

function toEntry(
  frame: PlannedFrame,
  key: string,
  stored: Pick<
    ManifestFrame,
    "file" | "sha256" | "width" | "height" | "computed" | "timings" | "meanColor"
  >,
): ManifestFrame {
  return {
    index: frame.index,
    t: frame.t,
    ...(frame.label !== undefined ? { label: frame.label } : {}),
    color: frame.color,
    injection: frame.injection,
    key,
    file: stored.file,
    sha256: stored.sha256,
    width: stored.width,
    height: stored.height,
    computed: stored.computed,
    timings: stored.timings,
    meanColor: stored.meanColor,
    // Filled from pixels: a reused frame's old neighbour may not be its neighbour now.
    distanceToPrevious: null,
  };
}

function fillDistances(entries: (ManifestFrame | undefined)[], pixels: Map<number, Uint8Array>) {
  for (let i = 1; i < entries.length; i++) {
    const entry = entries[i];
    if (!entry || entry.distanceToPrevious !== null) continue;
    const a = pixels.get(i - 1);
    const b = pixels.get(i);
    if (a && b) entry.distanceToPrevious = rmsDistance(a, b);
  }
}

async function loadAllPixels(
  entries: ManifestFrame[],
  pixels: Map<number, Uint8Array>,
  dir: string,
  deps: RunnerDeps,
): Promise<PictureFrame[]> {
  const frames: PictureFrame[] = [];
  for (const entry of entries) {
    let rgba = pixels.get(entry.index);
    if (!rgba) {
      const path = join(dir, entry.file);
      const image = await deps.decodePng(await Deno.readFile(path), path);
      if (image.width !== entry.width || image.height !== entry.height) {
        throw new Error(
          `${path} is ${image.width}×${image.height}, the manifest says ` +
            `${entry.width}×${entry.height}`,
        );
      }
      rgba = image.rgba;
      pixels.set(entry.index, rgba);
    }
    frames.push({
      rgba,
      width: entry.width,
      height: entry.height,
      color: entry.color,
      label: entry.label ?? String(entry.index),
    });
  }
  return frames;
}

/** `count` indices spread evenly over `0 … length-1`, first and last included. */
export function evenlySpaced(length: number, count: number): number[] {
  if (count >= length) return Array.from({ length }, (_, i) => i);
  if (count === 1) return [0];
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - 1)) / (count - 1)));
}

/** Pictures written by {@link makePictures}: their manifest entries and any warnings. */
interface PicturesResult {
  outputs: ManifestOutputs;
  warnings: string[];
}

async function makePictures(
  spec: ResolvedExperiment,
  frames: PictureFrame[],
  dir: string,
  deps: RunnerDeps,
  log: (message: string) => void,
): Promise<PicturesResult> {
  const outputs: ManifestOutputs = {
    contactSheet: null,
    pathPlot: null,
    video: { mp4: null, gif: null },
  };
  const warnings: string[] = [];
  if (frames.length === 0) return { outputs, warnings };
  const title = `${spec.name}  seed ${spec.seed}  ${spec.steps} steps`;
  const sheet = spec.outputs.contactSheet;
  if (sheet !== false) {
    const shown = evenlySpaced(frames.length, sheet.maxFrames ?? frames.length).map((i) =>
      frames[i]
    );
    const tileSize = sheet.tileSize ??
      (shown.length > 30 ? Math.min(128, frames[0].width) : undefined);
    const png = await deps.contactSheet(shown, { columns: sheet.columns, tileSize, title });
    await writeFileAtomic(join(dir, "contact_sheet.png"), png);
    outputs.contactSheet = "contact_sheet.png";
  }
  if (spec.outputs.pathPlot) {
    const fine = spec.path
      ? deps.paths.sampleUniformTime(deps.paths.createPath(spec.path), 1024).map((p) => p.color)
      : []; // explicit colours are not a path: dots only, no connecting line
    const png = await deps.pathPlot({
      fine: fine.map((c) => [c[0], c[1], c[2]] as const),
      points: frames.map((f) => ({ color: f.color })),
      title,
    });
    await writeFileAtomic(join(dir, "path_plot.png"), png);
    outputs.pathPlot = "path_plot.png";
  }
  const video = spec.outputs.video;
  if (video !== false) {
    const { width, height } = frames[0];
    const rgba = frames.map((f) => f.rgba);
    if (video.formats.includes("mp4")) {
      const ffmpeg = await deps.findFfmpeg();
      if (ffmpeg) {
        await deps.encodeMp4(rgba, width, height, {
          fps: video.fps,
          out: join(dir, "video.mp4"),
          ffmpeg,
        });
        outputs.video.mp4 = "video.mp4";
      } else {
        const warning = "ffmpeg not found: video.mp4 was not written (install ffmpeg or set " +
          "FFMPEG to its path, then run again: frames are reused); video.gif is written";
        log(`warning: ${warning}`);
        warnings.push(warning);
      }
    }
    // A GIF needs nothing outside the project, so a video is never missing altogether.
    if (video.formats.includes("gif") || outputs.video.mp4 === null) {
      await deps.encodeGif(rgba, width, height, { fps: video.fps, out: join(dir, "video.gif") });
      outputs.video.gif = "video.gif";
    }
  }
  return { outputs, warnings };
}
