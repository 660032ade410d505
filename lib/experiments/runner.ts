/**
 * Runs an experiment: plan the frames, reuse what the output folder already holds, sample the
 * rest batch by batch (manifest rewritten after each), then metrics and pictures.
 *
 * @module
 */

import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { canonicalJson } from "../util/canonical.ts";
import { sha256Hex } from "../util/hash.ts";
import { Progress, type ProgressWriter } from "../hub/progress.ts";
import type { RunnerDeps, RunnerModel } from "./deps.ts";
import { frameKeys } from "./keys.ts";
import {
  type Manifest,
  MANIFEST_FILE,
  type ManifestFrame,
  readManifest,
  reusableFrames,
} from "./manifest.ts";
import { meanColor } from "./metrics.ts";
import { chooseBatch } from "./batch.ts";
import { batchFrames, planFrames, type PlannedFrame } from "./plan.ts";
import { isMultiSeed, type ResolvedExperiment, resolveExperiment, SpecError } from "./spec.ts";
import {
  emptyOutputs,
  fillDistances,
  gridIdentityNumbers,
  loadAllPixels,
  makePictures,
  runSummary,
  specWarnings,
} from "./finish.ts";
import {
  DiskFullError,
  firstMissingAncestor,
  isDiskFull,
  removeTempFiles,
  TEMP_FILE_PATTERN,
  type WriteFile,
  writeRunFile,
} from "./files.ts";
import { InterruptedError, throwIfInterrupted } from "./interrupt.ts";
import { acquireLock, type Lock } from "../util/lock.ts";
import { formatShard, inShard, isShard, type Shard, SHARD_ALLOWED } from "./shard.ts";
import { identityWanted, startRunIdentity } from "../identity/run_identity.ts";
import type { IdentitySummary } from "../identity/records.ts";
import { referenceKeys } from "../identity/tracker.ts";
import { writeReportOrWarn } from "../report/write.ts";

export { evenlySpaced } from "./finish.ts";

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
  /**
   * Render only this shard's frames (index mod count = index) into `out` (required), with a
   * shard manifest and no pictures; `deno task merge` joins the shards.
   */
  shard?: Shard;
  /** If another live process holds the run folder's lock, wait for it instead of failing. */
  wait?: boolean;
  /**
   * Stops the run when aborted (Ctrl-C): the batch in flight is abandoned, the manifest is
   * written with status `interrupted`, and an {@link InterruptedError} is thrown.
   */
  signal?: AbortSignal;
  /** Replacements for the real modules (tests). Missing entries use the real ones. */
  deps?: Partial<RunnerDeps>;
  /** Informational messages; default: a line on stderr. */
  log?: (message: string) => void;
  /** Where the progress line goes; default stderr. */
  progressWriter?: ProgressWriter;
  /** The clock for run ids and manifest times; default `new Date()`. */
  now?: () => Date;
  /** Writes frames and manifests (atomically); replaceable to simulate a full disk in tests. */
  writeFile?: WriteFile;
  /**
   * Identity numbers (face descriptors, `identity_plot.png`); default on unless the spec's
   * `outputs.identity` is false. `false` is `--no-identity`: the spec, its hash and the run
   * folder stay the same, and `deno task analyze` can add the numbers later.
   */
  identity?: boolean;
}

/** Name of the lock file inside a run folder. */
export const LOCK_FILE = ".lock";

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
    verifyModel: 0,
    loadModel: 0,
    sample: 0,
    onnxruntimeVersion: 0,
    paths: 0,
    imageToRgba: 0,
    encodePng: 0,
    decodePng: 0,
    contactSheet: 0,
    gridSheet: 0,
    pathPlot: 0,
    encodeGif: 0,
    encodeMp4: 0,
    findFfmpeg: 0,
    // loadEmbedder is optional: a complete set of fakes without it runs no identity.
  } satisfies Record<Exclude<keyof RunnerDeps, "loadEmbedder">, 0>,
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

/** A frame's decimal seed as the sampler takes it (a number where exact, as before grids). */
function seedForSampler(seed: string): number | bigint {
  const n = BigInt(seed);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** A model reference that resolves to nothing is a bad value of the spec's `model` field. */
async function resolveModelField(
  deps: RunnerDeps,
  model: string,
  log: (message: string) => void,
): Promise<string> {
  try {
    return await deps.resolveModel(model, log);
  } catch (e) {
    if (e instanceof Error && e.name === "ModelNotFoundError") {
      throw new SpecError(
        "model",
        model,
        'a hub id that was fetched (deno task model:fetch), a converted model folder, or "tiny"',
        e.message,
      );
    }
    throw e;
  }
}

/**
 * Runs an experiment spec (as written, or already resolved) and returns the run folder and its
 * manifest.
 *
 * Nothing is written before the spec, the shard and the model have passed their checks. The run
 * folder is then locked (`.lock`) for the duration of the run. Frames whose content key is in the
 * folder's manifest and whose PNG still has the recorded SHA-256 are not recomputed. The manifest
 * is rewritten atomically after every batch.
 *
 * @throws {SpecError} before any work for an invalid spec or an unknown model.
 * @throws {LockHeldError} if another live run holds the folder (and `wait` is not set).
 * @throws {InterruptedError} after `signal` aborted the run (the manifest says `interrupted`).
 * @throws {ManifestError} if the folder's manifest.json is damaged.
 * @throws {DiskFullError} if the disk filled up; finished frames are kept.
 */
export async function runExperiment(spec: unknown, options: RunOptions = {}): Promise<RunResult> {
  const injected = options.deps ?? {};
  const complete = DEP_NAMES.every((name) => injected[name] !== undefined);
  const deps = { ...(complete ? {} : await loadDefaultDeps()), ...injected } as RunnerDeps;
  const log = options.log ?? stderrLog;
  const now = options.now ?? (() => new Date());
  const signal = options.signal;

  const resolved = resolveExperiment(spec, {}, { createPath: deps.paths.createPath });
  const shard = options.shard;
  if (shard !== undefined) {
    if (!isShard(shard)) throw new SpecError("shard", shard, SHARD_ALLOWED);
    if (options.out === undefined) {
      throw new SpecError(
        "out",
        undefined,
        "a folder: a shard run needs --out (one folder per shard, e.g. results/x/shard-0)",
        "required by --shard",
      );
    }
  }
  const fullPlan = planFrames(resolved, deps.paths);
  const plan = shard ? fullPlan.filter((f) => inShard(f.index, shard)) : fullPlan;
  const hash = specHash(resolved);
  const dir = options.out ??
    await defaultRunDir(options.resultsDir ?? PROJECT_RESULTS, resolved, now());
  throwIfInterrupted(signal);
  // The model first: a model that is missing or damaged should not leave a run folder behind.
  const modelDir = await resolveModelField(deps, resolved.model, log);
  await deps.verifyModel(modelDir, log);
  throwIfInterrupted(signal);

  let created = await firstMissingAncestor(dir);
  await Deno.mkdir(join(dir, "frames"), { recursive: true });
  let lock: Lock | undefined;
  const progress = { wrote: false };
  try {
    lock = await acquireLock(join(dir, LOCK_FILE), {
      wait: options.wait,
      signal,
      log,
      what: `run folder ${dir}`,
      waitHint: "pass --wait to wait",
    });
    // Another run may have created the folder too and finished while we waited for the lock:
    // then it is that run's folder, which a failure of ours must never remove.
    if (created && await holdsResults(dir)) created = null;
    // The folder may have been removed and made again while we waited (see removeEmptyFolders).
    await Deno.mkdir(join(dir, "frames"), { recursive: true });
    const removed = await removeTempFiles(dir) + await removeTempFiles(join(dir, "frames"));
    if (removed > 0) {
      log(`removed ${removed} temporary file(s) left in ${dir} by an interrupted run`);
    }
    const model = await deps.loadModel(modelDir, {
      device: options.device ?? "cpu",
      threads: options.threads,
      warn: log,
    });
    const releases: (() => Promise<void>)[] = [];
    try {
      return await runWithModel({
        resolved,
        plan,
        planned: fullPlan.length,
        shard,
        hash,
        dir,
        model,
        deps,
        log,
        now,
        options,
        progress,
        releases,
      });
    } finally {
      for (const release of releases) await release();
      await model.release();
    }
  } catch (e) {
    // Nothing written yet into a folder this run created: leave no empty run folder behind.
    // Only empty folders go, one by one: another run may be waiting to use this one.
    if (lock && !progress.wrote && created) {
      await lock.release();
      lock = undefined;
      await removeEmptyFolders(dir, created);
    }
    throw e;
  } finally {
    await lock?.release();
  }
}

/** Removes `dir/frames`, `dir` and its parents up to `top`, each only while empty. */
async function removeEmptyFolders(dir: string, top: string): Promise<void> {
  const chain = [join(dir, "frames")];
  for (let d = dir;; d = dirname(d)) {
    chain.push(d);
    if (d === top || dirname(d) === d) break;
  }
  for (const folder of chain) {
    try {
      await Deno.remove(folder);
    } catch {
      return; // not empty (or gone): everything above it stays
    }
  }
}

/** Whether a run folder holds a manifest or any frame. */
async function holdsResults(dir: string): Promise<boolean> {
  if (await Deno.stat(join(dir, MANIFEST_FILE)).then(() => true, () => false)) return true;
  try {
    for await (const entry of Deno.readDir(join(dir, "frames"))) {
      if (!TEMP_FILE_PATTERN.test(entry.name)) return true;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return false;
}

interface RunContext {
  resolved: ResolvedExperiment;
  /** The frames this run renders (a shard's share, or all). */
  plan: PlannedFrame[];
  /** Frames in the whole experiment. */
  planned: number;
  shard: Shard | undefined;
  hash: string;
  dir: string;
  model: RunnerModel;
  deps: RunnerDeps;
  log: (message: string) => void;
  now: () => Date;
  options: RunOptions;
  /** Set once the run has written into its folder. */
  progress: { wrote: boolean };
  /** Frees what the run loaded besides the model (the face embedder). */
  releases: (() => Promise<void>)[];
}

async function runWithModel(ctx: RunContext): Promise<RunResult> {
  const { resolved, plan, dir, model, deps, log, now, shard, options } = ctx;
  const signal = options.signal;
  // Indexed by frame index; a shard leaves the other frames' slots empty.
  const keys = frameKeys(resolved, model.info, plan);
  const latentScale = resolved.latentScale ?? model.info.latentScale;
  const multiSeed = isMultiSeed(resolved);

  const warnings: string[] = [];
  const warn = (message: string) => {
    log(`warning: ${message}`);
    warnings.push(message);
  };
  for (const warning of specWarnings(resolved)) warn(warning);
  const previous = await readManifest(dir);
  const reusable = await reusableFrames(dir, previous, warn);
  const entries: (ManifestFrame | undefined)[] = new Array(ctx.planned).fill(undefined);
  for (const frame of plan) {
    const old = reusable.get(keys[frame.index]);
    if (old) {
      entries[frame.index] = toEntry(
        frame,
        keys[frame.index],
        { ...old, computed: false },
        multiSeed,
      );
    }
  }

  // Frames with equal keys (a colour listed twice) are computed once. The plan is seed-major, so
  // a batch (which never mixes seeds) is cut short only at the end of a seed's frames.
  const firstOfKey = new Map<string, PlannedFrame>();
  for (const frame of plan) {
    if (!entries[frame.index] && !firstOfKey.has(keys[frame.index])) {
      firstOfKey.set(keys[frame.index], frame);
    }
  }
  // Reference faces (no injection) first: the identity numbers of the other frames need them.
  const refKeys = referenceKeys(resolved, model.info, plan);
  const isRef = (f: PlannedFrame) => (refKeys.has(keys[f.index]) ? 1 : 0);
  const todo = [...firstOfKey.values()].sort((a, b) => isRef(b) - isRef(a));
  const batch = await chooseBatch(resolved.batch, {
    device: model.device,
    latentSize: model.latentSize,
    threads: model.threads,
  });
  const batches = batchFrames(todo, batch.size);

  const manifest: Manifest = {
    version: 1,
    status: "running",
    runId: dir.split(/[\\/]/).filter(Boolean).pop() ?? dir,
    specHash: ctx.hash,
    createdAt: previous?.createdAt ?? now().toISOString(),
    updatedAt: now().toISOString(),
    spec: resolved,
    ...(shard ? { shard } : {}),
    // Not the folder it was loaded from: a path on this machine, meaningless elsewhere (and in
    // committed snapshots). The spec as given and model.json's hashes identify the model.
    model: { spec: resolved.model, info: model.info as unknown as Record<string, unknown> },
    runtime: await runtimeInfo(model, deps),
    frames: [],
    summary: null,
    outputs: emptyOutputs(resolved),
    warnings,
  };
  const done = () => entries.filter((e) => e !== undefined).length;
  // Frames listed in the manifest on disk: what survives if this run stops now.
  let saved = 0;
  const diskAdvice = () =>
    `free some space (or choose another --out), then run the same command again: the ${saved} ` +
    `finished frame(s) in ${dir} are kept and will not be recomputed`;
  const write = (path: string, data: Uint8Array) =>
    writeRunFile(path, data, diskAdvice(), options.writeFile);
  // report.html is remade from the manifest just written, after every batch (a report opened
  // from the file system shows the frames so far on reload) and when the run completes or stops.
  // It never fails the run (see writeReportOrWarn), and a failure is said once, not per batch.
  // `written` is the manifest just saved; without it (after a stop, whose save may have failed)
  // the page is made from the file on disk.
  let reportWarned = false;
  const report = async (written?: Manifest) => {
    const quiet = reportWarned ? () => {} : log;
    const options_ = { write: options.writeFile, manifest: written };
    if (await writeReportOrWarn(dir, quiet, options_) === null) reportWarned = true;
  };
  const identity = await startRunIdentity(
    {
      spec: resolved,
      dir,
      model,
      deps,
      previous,
      write,
      log,
      device: options.device,
      threads: options.threads,
    },
    identityWanted(resolved, options.identity),
    shard !== undefined,
  );
  if (identity) ctx.releases.push(() => identity.release());
  // Keys still to be computed: a reference face among them is not rendered twice.
  const later = () => new Set(todo.filter((f) => !entries[f.index]).map((f) => keys[f.index]));
  const known = () => entries.filter((e): e is ManifestFrame => e !== undefined);
  const save = async () => {
    identity?.record(manifest);
    manifest.frames = entries.filter((e): e is ManifestFrame => e !== undefined);
    manifest.updatedAt = now().toISOString();
    await write(join(dir, MANIFEST_FILE), encoder.encode(JSON.stringify(manifest, null, 2) + "\n"));
    saved = manifest.frames.length;
    ctx.progress.wrote = true;
  };

  log(
    `${resolved.name}${shard ? ` shard ${formatShard(shard)}` : ""}: ${plan.length} frames, ` +
      `${done()} already in ${dir}, ${todo.length} to compute in ${batches.length} batch(es) of ` +
      `≤ ${batch.size} (${batch.source}), ${resolved.steps} steps, on ${model.device} (${model.threads} threads)`,
  );

  // Records a stop (status, error, the frames saved) in the manifest and report, then rethrows.
  const stop = (e: unknown) =>
    recordStop(e, manifest, save, dir, ctx.planned, plan.length, () => saved, diskAdvice, report);

  const size = model.imageSize;
  const pixels = new Map<number, Uint8Array>();
  const samplingStarted = performance.now();
  let progress: Progress | undefined;
  try {
    await save();
    if (identity && await identity.prepare(plan, known(), pixels, later()) > 0) await save();
    if (todo.length > 0) {
      progress = new Progress({
        total: todo.length,
        unit: "frames",
        label: resolved.name,
        writer: options.progressWriter,
      });
      let computed = 0;
      for (const batch of batches) {
        throwIfInterrupted(signal);
        const started = performance.now();
        const { images } = await deps.sample(model, {
          // A batch never mixes seeds (batchFrames): one initial noise for all of it.
          seed: seedForSampler(batch[0].seed),
          steps: resolved.steps,
          colors: batch.map((f) => f.color),
          scale: batch[0].injection.scale,
          window: batch[0].injection.window,
          mode: batch[0].injection.mode,
          latentScale,
          onStep: (k, steps) => {
            // Abandon the batch in flight: its frames are recomputed on resume.
            throwIfInterrupted(signal);
            progress?.update(computed + (batch.length * k) / steps);
          },
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
          await write(join(dir, file), png);
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
            entries[frame.index] = toEntry(frame, key, stored, multiSeed);
            pixels.set(frame.index, rgba);
          }
        }
        fillDistances(entries, pixels);
        if (identity) {
          await identity.prepare(plan, known(), pixels, later());
          await identity.describeBatch(known(), pixels);
        }
        computed += batch.length;
        progress.update(computed);
        await save();
        await report(manifest);
      }
      progress.finish();
    }
    throwIfInterrupted(signal);
  } catch (e) {
    // Close the progress line, so the message that follows starts on a line of its own.
    progress?.stop();
    await stop(e);
  }
  const samplingMs = performance.now() - samplingStarted;

  const frames = entries.filter((e): e is ManifestFrame => e !== undefined);
  let identitySummary: IdentitySummary | null | undefined;
  try {
    if (!shard) {
      // A shard has no neighbours' pixels and makes no pictures: merge does both.
      const pictureFrames = await loadAllPixels(frames, pixels, dir, deps.decodePng);
      fillDistances(entries, pixels);
      // Identity first: grid.png prints its numbers.
      const identityPlot = identity ? await identity.finish(plan, frames, pixels) : null;
      identitySummary = identity?.tracker.summary(frames);
      const pictures = await makePictures(
        resolved,
        pictureFrames,
        dir,
        deps,
        log,
        gridIdentityNumbers(frames, identitySummary),
      );
      manifest.outputs = pictures.outputs;
      if (identity) manifest.outputs.identityPlot = identityPlot;
      warnings.push(...pictures.warnings);
    }
    manifest.summary = runSummary(frames, plan.length, samplingMs);
    // A shard computes no identity numbers (merge has no model): nothing was summed above.
    if (identitySummary) manifest.summary.identity = identitySummary;
    if (identity) log(identity.costLine());
    manifest.status = "complete";
    await save();
  } catch (e) {
    // The frames are all saved; a failure while making the pictures is recorded like any other
    // (status "failed" or "interrupted"), and a full disk is reported as such.
    const error = !(e instanceof DiskFullError) && isDiskFull(e)
      ? new DiskFullError(dir, diskAdvice(), { cause: e })
      : e;
    await stop(error);
  }
  await report(manifest);
  return { dir, manifest };
}

/**
 * Records why sampling stopped in the manifest (`interrupted` or `failed`) and rethrows, with
 * what was saved and how to resume. Writing that manifest is best effort: on a full disk the
 * previous one (status `running`, consistent) stays.
 */
async function recordStop(
  e: unknown,
  manifest: Manifest,
  save: () => Promise<void>,
  dir: string,
  planned: number,
  shardFrames: number,
  saved: () => number,
  diskAdvice: () => string,
  report: () => Promise<unknown>,
): Promise<never> {
  const interrupted = e instanceof InterruptedError;
  manifest.status = interrupted ? "interrupted" : "failed";
  if (!interrupted) manifest.error = e instanceof Error ? e.message : String(e);
  await save().catch(() => {});
  // The report shows what was saved (best effort, like the manifest write above).
  await report();
  if (interrupted) {
    throw new InterruptedError(
      e.signal,
      `${saved()} of ${shardFrames} frame(s)${shardFrames !== planned ? " of this shard" : ""} ` +
        `are saved in ${dir} (manifest status "interrupted"); run the same command again to ` +
        "resume",
    );
  }
  // Say how many frames the manifest on disk holds now that the stop has been recorded.
  if (e instanceof DiskFullError) throw new DiskFullError(e.path, diskAdvice(), { cause: e.cause });
  throw e;
}

/**
 * The manifest entry of a planned frame. Only multi-seed runs record `seed` and `colorIndex`, so
 * single-seed manifests stay exactly as they were.
 */
function toEntry(
  frame: PlannedFrame,
  key: string,
  stored: Pick<
    ManifestFrame,
    "file" | "sha256" | "width" | "height" | "computed" | "timings" | "meanColor"
  >,
  multiSeed: boolean,
): ManifestFrame {
  return {
    index: frame.index,
    ...(multiSeed ? { seed: frame.seed, colorIndex: frame.colorIndex } : {}),
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
