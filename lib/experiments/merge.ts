/**
 * Joining shard runs (`--shard i/n`, one folder each) into one run folder whose manifest equals
 * the one a single process would have written: same frames, files, hashes, keys, distances,
 * summary and pictures; only timings, timestamps, the runtime and the `mergedFrom` list of
 * sources differ.
 *
 * Nothing is taken on trust: every shard must come from the same resolved spec and the same model
 * files, every frame must sit in the right shard with the content key the spec gives it, and every
 * PNG must still have its recorded SHA-256 and decode at its recorded size. Missing frames are
 * listed by shard, and nothing is written (the output folder is not even created) until every
 * shard and every frame has passed. Manifests are read with the one schema (`readManifest`).
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { canonicalJson } from "../util/canonical.ts";
import { sha256Hex } from "../util/hash.ts";
import {
  fillDistances,
  loadAllPixels,
  makePictures,
  type PictureDeps,
  runSummary,
  specWarnings,
} from "./finish.ts";
import { removeTempFiles, writeRunFile } from "./files.ts";
import { writeReportOrWarn } from "../report/write.ts";
import { throwIfInterrupted } from "./interrupt.ts";
import { frameKeys } from "./keys.ts";
import { acquireLock, type Lock } from "../util/lock.ts";
import {
  type Manifest,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  type ManifestFrame,
  readManifest,
} from "./manifest.ts";
import { planFrames } from "./plan.ts";
import { LOCK_FILE, type RunResult, specHash } from "./runner.ts";
import { formatIndices, formatShard, isShard, type Shard } from "./shard.ts";
import { describeValue, resolveExperiment, SpecError } from "./spec.ts";

/** Shards that cannot be merged (different specs or models, missing or damaged frames). */
export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MergeError";
  }
}

/** Options of {@link mergeShards}. */
export interface MergeOptions {
  /** Replacements for the picture functions (tests). Missing entries use the real ones. */
  deps?: Partial<PictureDeps>;
  /** Informational messages; default: a line on stderr. */
  log?: (message: string) => void;
  /** The clock for `updatedAt`; default `new Date()`. */
  now?: () => Date;
  /** Wait for the output folder's lock instead of failing. */
  wait?: boolean;
  /** Stops the merge when aborted (between frames). */
  signal?: AbortSignal;
}

interface LoadedShard {
  dir: string;
  manifest: Manifest;
  shard: Shard;
}

const PICTURE_DEP_NAMES: (keyof PictureDeps)[] = [
  "paths",
  "decodePng",
  "contactSheet",
  "gridSheet",
  "pathPlot",
  "encodeGif",
  "encodeMp4",
  "findFfmpeg",
];

async function pictureDeps(injected: Partial<PictureDeps>): Promise<PictureDeps> {
  if (PICTURE_DEP_NAMES.every((name) => injected[name] !== undefined)) {
    return injected as PictureDeps;
  }
  const { defaultPictureDeps } = await import("./picture_deps.ts");
  return { ...defaultPictureDeps(), ...injected };
}

/** Which top-level spec fields differ, for messages: `seed (42 vs 43), steps (…)`. */
function specDifferences(a: unknown, b: unknown): string {
  const x = (a ?? {}) as Record<string, unknown>;
  const y = (b ?? {}) as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  const differing = fields.filter((f) => {
    try {
      return canonicalJson(x[f]) !== canonicalJson(y[f]);
    } catch {
      return true;
    }
  });
  return differing.map((f) => `${f} (${describeValue(x[f])} vs ${describeValue(y[f])})`)
    .join(", ") || "fields in a way not shown here";
}

async function loadShard(dir: string): Promise<LoadedShard | string> {
  let isDir = false;
  try {
    isDir = (await Deno.stat(dir)).isDirectory;
  } catch {
    return "no such folder";
  }
  if (!isDir) return "not a folder";
  const manifest = await readManifest(dir);
  if (!manifest) return `no ${MANIFEST_FILE} (the shard has not started)`;
  if (!isShard(manifest.shard)) {
    throw new MergeError(
      `${join(dir, MANIFEST_FILE)} is not a shard run (no valid "shard" field): merge joins ` +
        "folders written with --shard i/n",
    );
  }
  return { dir, manifest, shard: manifest.shard };
}

function checkSameRun(shards: LoadedShard[]): void {
  const [first] = shards;
  const seen = new Map<number, string>();
  for (const s of shards) {
    if (s.manifest.specHash !== first.manifest.specHash) {
      throw new MergeError(
        `${s.dir} and ${first.dir} are shards of different experiment specs (spec hash ` +
          `${s.manifest.specHash.slice(0, 8)} vs ${first.manifest.specHash.slice(0, 8)}; ` +
          `they differ in ${specDifferences(s.manifest.spec, first.manifest.spec)}): merge ` +
          "only the shards of one run, started with the same spec file and options",
      );
    }
    const a = canonicalJson(s.manifest.model?.info?.sha256 ?? null);
    const b = canonicalJson(first.manifest.model?.info?.sha256 ?? null);
    if (a !== b) {
      throw new MergeError(
        `${s.dir} and ${first.dir} were computed with different model files (SHA-256 in ` +
          `model.json: ${a.slice(0, 80)} vs ${b.slice(0, 80)}): their frames do not belong ` +
          "to one run; compute every shard with the same converted model",
      );
    }
    if (s.shard.count !== first.shard.count) {
      throw new MergeError(
        `${s.dir} is shard ${formatShard(s.shard)} but ${first.dir} is shard ` +
          `${formatShard(first.shard)}: every shard of a run must use the same n in --shard i/n`,
      );
    }
    const other = seen.get(s.shard.index);
    if (other !== undefined) {
      throw new MergeError(
        `${other} and ${s.dir} are both shard ${formatShard(s.shard)}: give each shard once`,
      );
    }
    seen.set(s.shard.index, s.dir);
  }
}

/**
 * Merges shard folders into `out` and returns it with the merged manifest.
 *
 * @throws {MergeError} when the shards do not belong together, a frame is missing, misplaced or
 *   damaged (naming the shard, frame and file and what to run).
 * @throws {ManifestError} when a shard's manifest.json is damaged.
 * @throws {LockHeldError} when another process holds `out`'s lock (and `wait` is not set).
 */
export async function mergeShards(
  out: string,
  shardDirs: readonly string[],
  options: MergeOptions = {},
): Promise<RunResult> {
  const log = options.log ?? ((m: string) => console.error(m));
  const now = options.now ?? (() => new Date());
  if (shardDirs.length === 0) throw new MergeError("no shard folders given");
  const outAbs = resolve(out);
  for (const dir of shardDirs) {
    if (resolve(dir) === outAbs) {
      throw new MergeError(
        `the output folder ${out} is also given as a shard folder: merge into another folder ` +
          "(e.g. the shards' parent)",
      );
    }
  }

  const shards: LoadedShard[] = [];
  const absent = new Map<string, string>();
  for (const dir of shardDirs) {
    const loaded = await loadShard(dir);
    if (typeof loaded === "string") absent.set(dir, loaded);
    else shards.push(loaded);
  }
  if (shards.length === 0) {
    throw new MergeError(
      `none of the folders holds a shard run: ${
        [...absent].map(([d, why]) => `${d}: ${why}`).join("; ")
      }`,
    );
  }
  checkSameRun(shards);
  const first = shards[0];
  const count = first.shard.count;

  const deps = await pictureDeps(options.deps ?? {});
  let resolved;
  try {
    resolved = resolveExperiment(first.manifest.spec, {}, {
      createPath: deps.paths.createPath,
    });
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    throw new MergeError(`${join(first.dir, MANIFEST_FILE)} holds an invalid spec: ${e.message}`);
  }
  if (specHash(resolved) !== first.manifest.specHash) {
    throw new MergeError(
      `${join(first.dir, MANIFEST_FILE)}: its spec does not have its recorded spec hash (edited ` +
        "by hand?); run the shard again into a fresh folder",
    );
  }
  const plan = planFrames(resolved, deps.paths);
  const info = first.manifest.model.info as unknown as {
    sha256: Record<string, string>;
    scheduler?: unknown;
    latentScale: number;
  };
  const keys = frameKeys(resolved, info, plan);

  const found: { entry: ManifestFrame; from: LoadedShard }[] = [];
  for (const s of shards) {
    for (const entry of s.manifest.frames) {
      const where = `${join(s.dir, MANIFEST_FILE)}, frame ${describeValue(entry?.index)}`;
      const index = entry?.index;
      if (!Number.isInteger(index) || index < 0 || index >= plan.length) {
        throw new MergeError(`${where}: not a frame of this run (${plan.length} frames)`);
      }
      if (index % count !== s.shard.index) {
        throw new MergeError(
          `${where}: belongs to shard ${index % count}/${count}, not ${formatShard(s.shard)}`,
        );
      }
      if (entry.key !== keys[index]) {
        throw new MergeError(
          `${where}: its content key is not the one the spec and model give this frame; the ` +
            "shard folder holds frames of another run: run the shard again into a fresh folder",
        );
      }
      if (found[index]) {
        throw new MergeError(`${where}: listed twice`);
      }
      found[index] = { entry, from: s };
    }
  }

  const missing = plan.map((f) => f.index).filter((i) => !found[i]);
  if (missing.length > 0) {
    const byShard = new Map<number, number[]>();
    for (const i of missing) byShard.set(i % count, [...(byShard.get(i % count) ?? []), i]);
    const lines = [...byShard].sort(([a], [b]) => a - b).map(([index, frames]) => {
      const s = shards.find((x) => x.shard.index === index);
      const source = s ? `${s.dir} (status ${s.manifest.status})` : "no folder given" +
        (absent.size > 0
          ? ` (not found: ${[...absent].map(([d, w]) => `${d}: ${w}`).join("; ")})`
          : "");
      return `  shard ${index}/${count}, ${source}: frames ${formatIndices(frames)}`;
    });
    throw new MergeError(
      `${missing.length} of ${plan.length} frames are missing:\n${lines.join("\n")}\n` +
        "Run those shards (again: they resume where they stopped), then merge again.",
    );
  }

  // Every frame is read, hashed and decoded before anything is written: a refused merge leaves
  // the output folder as it was (not even created). The bytes written are the bytes checked.
  const checked: { entry: ManifestFrame; bytes: Uint8Array }[] = [];
  const entries: ManifestFrame[] = [];
  const pixels = new Map<number, Uint8Array>();
  for (const { entry, from } of found) {
    throwIfInterrupted(options.signal);
    const source = join(from.dir, entry.file);
    const bytes = await Deno.readFile(source).catch((e) => {
      throw new MergeError(
        `cannot read ${source} (frame ${entry.index}): ${(e as Error).message}; run shard ` +
          `${formatShard(from.shard)} again (it recomputes the frame), then merge again`,
      );
    });
    if (sha256Hex(bytes) !== entry.sha256) {
      throw new MergeError(
        `${source} (frame ${entry.index}) is damaged: its SHA-256 is not the one in the ` +
          `shard's manifest; run shard ${formatShard(from.shard)} again (it recomputes the ` +
          "frame), then merge again",
      );
    }
    const image = await deps.decodePng(bytes, source);
    if (image.width !== entry.width || image.height !== entry.height) {
      throw new MergeError(
        `${source} is ${image.width}×${image.height}, its manifest says ` +
          `${entry.width}×${entry.height}`,
      );
    }
    pixels.set(entry.index, image.rgba);
    checked.push({ entry, bytes });
    entries.push({ ...entry, distanceToPrevious: null });
  }

  await Deno.mkdir(join(out, "frames"), { recursive: true });
  let lock: Lock | undefined;
  try {
    lock = await acquireLock(join(out, LOCK_FILE), {
      wait: options.wait,
      signal: options.signal,
      log,
      what: `run folder ${out}`,
      waitHint: "pass --wait to wait",
    });
    await removeTempFiles(out);
    await removeTempFiles(join(out, "frames"));
    const advice = "free some space and merge again (frames already copied are kept)";
    for (const { entry, bytes } of checked) {
      throwIfInterrupted(options.signal);
      const target = join(out, entry.file);
      const existing = await Deno.readFile(target).catch(() => null);
      if (!existing || sha256Hex(existing) !== entry.sha256) {
        await writeRunFile(target, bytes, advice);
      }
    }
    fillDistances(entries, pixels);
    const pictureFrames = await loadAllPixels(entries, pixels, out, deps.decodePng);
    const pictures = await makePictures(resolved, pictureFrames, out, deps, log);
    const samplingMs = shards.reduce((sum, s) => sum + (s.manifest.summary?.samplingMs ?? 0), 0);
    const manifest: Manifest = {
      version: MANIFEST_VERSION,
      status: "complete",
      runId: basename(outAbs),
      specHash: first.manifest.specHash,
      createdAt: shards.map((s) => s.manifest.createdAt).sort()[0],
      updatedAt: now().toISOString(),
      spec: resolved,
      // What identifies the model; a first-release shard's `dir` (a machine's path) is dropped.
      model: { spec: first.manifest.model.spec, info: first.manifest.model.info },
      runtime: first.manifest.runtime,
      mergedFrom: [...shards].sort((a, b) => a.shard.index - b.shard.index).map((s) => ({
        dir: s.dir,
        shard: s.shard,
        runtime: s.manifest.runtime,
      })),
      frames: entries,
      summary: runSummary(entries, plan.length, samplingMs),
      outputs: pictures.outputs,
      warnings: [...specWarnings(resolved), ...pictures.warnings],
    };
    await writeRunFile(
      join(out, MANIFEST_FILE),
      new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"),
      advice,
    );
    // The merged run's page, as a single-process run has one (a failure to write it only warns).
    await writeReportOrWarn(out, log, { manifest });
    return { dir: out, manifest };
  } finally {
    await lock?.release();
  }
}
