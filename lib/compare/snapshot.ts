/**
 * Snapshot regression checks: the bundled experiments, run on the tiny model with a few frames
 * and steps, must reproduce the reference runs stored in `snapshots/<name>/` (`manifest.json`
 * and `frames/`) within the tolerance.
 *
 * `snapshots/snapshots.json` lists what is checked and how it is run:
 *
 * ```json
 * { "model": "tiny", "frames": 3, "steps": 10, "threads": 1,
 *   "experiments": [{ "name": "colors", "file": "experiments/colors.ts" }] }
 * ```
 *
 * (`frames`, `steps`, `threads` may also be given per experiment, and `batch` to override the
 * spec's batch size.)
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { encodePng } from "../render/png.ts";
import { replaceDirAtomic, writeFileAtomic } from "../util/atomic.ts";
import { formatChange, type JsonChange } from "./deep_diff.ts";
import { compareRuns, FAILING_STATUSES, type RunComparison } from "./manifest_diff.ts";
import { openRun, RunOpenError } from "./run_folder.ts";
import { sideBySide } from "./side_by_side.ts";
import { DEFAULT_TOLERANCE, type Tolerance } from "./tolerance.ts";

/** The repository root (two folders above this file). */
export const REPO_ROOT: string = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** Default snapshots folder. */
export const SNAPSHOTS_DIR: string = join(REPO_ROOT, "snapshots");

/** Name of the config file inside the snapshots folder. */
export const CONFIG_FILE = "snapshots.json";

/** One experiment under snapshot, with its run settings resolved. */
export interface SnapshotEntry {
  /** Name; the reference lives in `<snapshots>/<name>/`. */
  name: string;
  /** Experiment file, absolute. */
  file: string;
  /** `--model`. */
  model: string;
  /** `--frames`. */
  frames: number;
  /** `--steps`. */
  steps: number;
  /** `--threads`. */
  threads: number;
  /** `--batch`; default: the spec's. */
  batch?: number;
}

const positiveInt = z.number().int().positive();
const configSchema = z.strictObject({
  model: z.string().min(1).default("tiny"),
  frames: positiveInt.default(3),
  steps: positiveInt.default(10),
  threads: positiveInt.default(1),
  experiments: z.array(z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, "letters, digits, - and _"),
    file: z.string().min(1),
    frames: positiveInt.optional(),
    steps: positiveInt.optional(),
    threads: positiveInt.optional(),
    batch: positiveInt.optional(),
  })).min(1),
});

/**
 * Reads `<snapshotsDir>/snapshots.json`. Experiment files are resolved against the repository
 * root.
 * @throws {Error} naming the file and the bad field
 */
export async function readSnapshotConfig(snapshotsDir = SNAPSHOTS_DIR): Promise<SnapshotEntry[]> {
  const path = join(snapshotsDir, CONFIG_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`${path}: cannot read the snapshot list: ${(e as Error).message}`);
  }
  const result = configSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${path}: ${issue.path.join(".") || "(top level)"}: ${issue.message}`);
  }
  const config = result.data;
  return config.experiments.map((e) => ({
    name: e.name,
    file: resolve(REPO_ROOT, e.file),
    model: config.model,
    frames: e.frames ?? config.frames,
    steps: e.steps ?? config.steps,
    threads: e.threads ?? config.threads,
    ...(e.batch !== undefined ? { batch: e.batch } : {}),
  }));
}

/** Runs one experiment into `out` (a fresh folder). Throws with the runner's messages on failure. */
export type SnapshotRenderer = (entry: SnapshotEntry, out: string) => Promise<void>;

/**
 * Runs the experiment in this process through the runner's command-line entry point, with the
 * entry's settings as flags, so a snapshot run is exactly `deno task run <file> --model tiny
 * --frames N --steps S --threads T --out DIR`.
 */
export const runInProcess: SnapshotRenderer = async (entry, out) => {
  const { main } = await import("../experiments/cli.ts");
  const module = await import(pathToFileURL(entry.file).href) as { default?: unknown };
  if (module.default === undefined) throw new Error(`${entry.file} has no default export`);
  const messages: string[] = [];
  const code = await main(module.default, [
    "--model",
    entry.model,
    "--frames",
    String(entry.frames),
    "--steps",
    String(entry.steps),
    "--threads",
    String(entry.threads),
    ...(entry.batch !== undefined ? ["--batch", String(entry.batch)] : []),
    "--out",
    out,
  ], {
    out: () => {},
    err: (line) => messages.push(line),
    runner: {
      log: (line) => messages.push(line),
      progressWriter: { writeSync: (bytes) => bytes.length, isTerminal: () => false },
    },
  });
  if (code !== 0) {
    throw new Error(`${entry.name}: the run failed (exit ${code}):\n${messages.join("\n")}`);
  }
};

/** Outcome of checking one snapshot. */
export interface SnapshotResult {
  /** Experiment name. */
  name: string;
  /** `pass`, `fail` (frames differ or are missing), `no-reference`, or `error` (run failed). */
  status: "pass" | "fail" | "no-reference" | "error";
  /** Reference folder. */
  referenceDir: string;
  /** Folder of the new run. */
  runDir: string;
  /** The comparison (reference = A, new run = B), when both exist. */
  comparison: RunComparison | null;
  /** Diff pictures written for failing frames. */
  diffImages: string[];
  /** The error message for `error` and `no-reference`. */
  error: string | null;
}

/** Options shared by {@link checkSnapshots} and {@link updateSnapshots}. */
export interface SnapshotOptions {
  /** Folder with `snapshots.json` and the references; default {@link SNAPSHOTS_DIR}. */
  snapshotsDir?: string;
  /** Only these experiments (by name); default all in the config. */
  names?: string[];
  /** Limits; default {@link DEFAULT_TOLERANCE}. */
  tolerance?: Tolerance;
  /** Where new runs (`runs/<name>`) and diff pictures (`diff/<name>/<index>.png`) go. */
  workDir: string;
  /** How experiments are run; default {@link runInProcess}. */
  render?: SnapshotRenderer;
  /** Progress messages; default none. */
  log?: (message: string) => void;
}

async function selectEntries(options: SnapshotOptions): Promise<SnapshotEntry[]> {
  const entries = await readSnapshotConfig(options.snapshotsDir);
  if (!options.names?.length) return entries;
  const known = new Set(entries.map((e) => e.name));
  const unknown = options.names.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new RangeError(
      `no snapshot named ${unknown.join(", ")} (known: ${[...known].join(", ")})`,
    );
  }
  return entries.filter((e) => options.names!.includes(e.name));
}

/**
 * Compares a new run against a reference folder; writes `reference | new | diff` pictures of
 * failing frames into `diffDir` (as `<index>.png`).
 */
export async function compareToReference(
  referenceDir: string,
  runDir: string,
  diffDir: string,
  tolerance: Tolerance = DEFAULT_TOLERANCE,
): Promise<{ comparison: RunComparison; diffImages: string[] }> {
  const diffImages: string[] = [];
  const comparison = await compareRuns(await openRun(referenceDir), await openRun(runDir), {
    tolerance,
    labels: ["reference", "new run"],
    onDifferent: async ({ frame, imageA, imageB, diffImage }) => {
      const picture = sideBySide(
        imageA,
        imageB,
        diffImage ? { width: imageA.width, height: imageA.height, rgba: diffImage } : null,
      );
      await Deno.mkdir(diffDir, { recursive: true });
      const path = join(diffDir, `${frame.index}.png`);
      await writeFileAtomic(path, await encodePng(picture.rgba, picture.width, picture.height));
      diffImages.push(path);
    },
  });
  return { comparison, diffImages };
}

async function render(
  entry: SnapshotEntry,
  options: SnapshotOptions,
): Promise<{ runDir: string; error: string | null }> {
  const runDir = join(options.workDir, "runs", entry.name);
  await Deno.remove(runDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dirname(runDir), { recursive: true });
  options.log?.(
    `${entry.name}: running ${entry.frames} frame(s) × ${entry.steps} steps on ${entry.model}`,
  );
  try {
    await (options.render ?? runInProcess)(entry, runDir);
    return { runDir, error: null };
  } catch (e) {
    return { runDir, error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Re-runs every snapshot experiment and compares it with its reference. Nothing in the snapshots
 * folder is written.
 */
export async function checkSnapshots(options: SnapshotOptions): Promise<SnapshotResult[]> {
  const snapshotsDir = options.snapshotsDir ?? SNAPSHOTS_DIR;
  const results: SnapshotResult[] = [];
  for (const entry of await selectEntries(options)) {
    const referenceDir = join(snapshotsDir, entry.name);
    const { runDir, error } = await render(entry, options);
    const result: SnapshotResult = {
      name: entry.name,
      status: "pass",
      referenceDir,
      runDir,
      comparison: null,
      diffImages: [],
      error,
    };
    results.push(result);
    if (error) {
      result.status = "error";
      continue;
    }
    try {
      const { comparison, diffImages } = await compareToReference(
        referenceDir,
        runDir,
        join(options.workDir, "diff", entry.name),
        options.tolerance,
      );
      result.comparison = comparison;
      result.diffImages = diffImages;
      result.status = comparison.ok ? "pass" : "fail";
    } catch (e) {
      if (e instanceof RunOpenError && e.problem !== "invalid" && e.path.startsWith(referenceDir)) {
        result.status = "no-reference";
        result.error = `no reference in ${referenceDir} (run \`deno task snapshot --update\`)`;
      } else {
        result.status = "error";
        result.error = e instanceof Error ? e.message : String(e);
      }
    }
  }
  return results;
}

/** What {@link updateSnapshots} did to one reference. */
export interface SnapshotUpdate {
  /** Experiment name. */
  name: string;
  /** `created` (no reference before), `updated`, `unchanged` (kept as it was), `error`. */
  action: "created" | "updated" | "unchanged" | "error";
  /** Frames whose pixels changed, with their status against the old reference. */
  changed: { index: number; status: string; maxAbsDiff: number | null }[];
  /** Frame indices new in this reference. */
  added: number[];
  /** Frame indices no longer in it. */
  removed: number[];
  /** Spec differences against the old reference. */
  spec: JsonChange[];
  /** Differences in the model record (model.json, e.g. file hashes) against the old reference. */
  model: JsonChange[];
  /** The error message for `error`. */
  error: string | null;
}

/**
 * Copies what a reference keeps of a run: `manifest.json` and `frames/*.png`. Pictures (contact
 * sheet, path plot, video) are left out: they are made from the frames by the render code, and
 * the check compares frames only.
 */
async function copyRunRecord(from: string, to: string): Promise<void> {
  await Deno.mkdir(join(to, "frames"), { recursive: true });
  await Deno.copyFile(join(from, "manifest.json"), join(to, "manifest.json"));
  for await (const entry of Deno.readDir(join(from, "frames"))) {
    if (entry.isFile && entry.name.endsWith(".png")) {
      await Deno.copyFile(join(from, "frames", entry.name), join(to, "frames", entry.name));
    }
  }
}

/** Replaces `target` by a copy of `source`, via a sibling folder and renames. */
async function replaceDir(source: string, target: string): Promise<void> {
  const staging = `${target}.new-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await copyRunRecord(source, staging);
    await replaceDirAtomic(staging, target);
  } catch (e) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * Re-runs every snapshot experiment and makes the new run its reference. A reference whose
 * frames are all byte-identical and whose spec and model record are unchanged is left untouched
 * (its manifest's times and timings would be the only change).
 */
export async function updateSnapshots(options: SnapshotOptions): Promise<SnapshotUpdate[]> {
  const snapshotsDir = options.snapshotsDir ?? SNAPSHOTS_DIR;
  const updates: SnapshotUpdate[] = [];
  for (const entry of await selectEntries(options)) {
    const referenceDir = join(snapshotsDir, entry.name);
    const update: SnapshotUpdate = {
      name: entry.name,
      action: "created",
      changed: [],
      added: [],
      removed: [],
      spec: [],
      model: [],
      error: null,
    };
    updates.push(update);
    const { runDir, error } = await render(entry, options);
    if (error) {
      update.action = "error";
      update.error = error;
      continue;
    }
    let comparison: RunComparison | null = null;
    try {
      comparison = await compareRuns(await openRun(referenceDir), await openRun(runDir), {
        tolerance: options.tolerance,
      });
    } catch (e) {
      // A missing or broken old reference is simply replaced.
      if (!(e instanceof RunOpenError)) throw e;
    }
    if (comparison) {
      for (const frame of comparison.frames) {
        if (frame.status === "missing-in-a") update.added.push(frame.index);
        else if (frame.status === "missing-in-b") update.removed.push(frame.index);
        else if (frame.status !== "identical") {
          update.changed.push({
            index: frame.index,
            status: frame.status,
            maxAbsDiff: frame.maxAbsDiff,
          });
        }
      }
      update.spec = comparison.diffs.spec;
      update.model = comparison.diffs.model;
      const altered = comparison.frames.some((f) => f.warnings.length > 0);
      const same = update.changed.length + update.added.length + update.removed.length === 0 &&
        update.spec.length === 0 && update.model.length === 0 && !altered;
      if (same) {
        update.action = "unchanged";
        continue;
      }
      update.action = "updated";
    }
    await replaceDir(runDir, referenceDir);
  }
  return updates;
}

/** Whether a snapshot result counts as a failure. */
export function snapshotFailed(result: SnapshotResult): boolean {
  return result.status !== "pass";
}

/** Human-readable report of a check. */
export function formatSnapshotResults(results: SnapshotResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.status === "error" || r.status === "no-reference") {
      lines.push(`${r.name}: ${r.status.toUpperCase()}: ${r.error}`);
      continue;
    }
    const c = r.comparison!;
    const failing = c.frames.filter((f) => FAILING_STATUSES.includes(f.status));
    const within = c.frames.filter((f) => f.status === "within-tolerance").length;
    lines.push(
      `${r.name}: ${r.status === "pass" ? "ok" : "FAIL"}: ${c.frames.length} frame(s), ` +
        `${c.counts.identical} identical, ${within} within tolerance, ${failing.length} failing`,
    );
    for (const f of failing) {
      lines.push(`  frame ${f.index}: ${f.status}: ${f.reasons.join("; ")}`);
    }
    for (const f of c.frames) for (const w of f.warnings) lines.push(`  frame ${f.index}: ${w}`);
    if (r.status === "fail") {
      for (const change of c.diffs.spec) {
        lines.push(`  spec changed: ${formatChange(change)}`);
      }
    }
    for (const image of r.diffImages) lines.push(`  diff (reference | new | diff): ${image}`);
  }
  return lines.join("\n");
}

/** Human-readable report of an update. */
export function formatSnapshotUpdates(updates: SnapshotUpdate[]): string {
  const lines: string[] = [];
  for (const u of updates) {
    if (u.action === "error") {
      lines.push(`${u.name}: ERROR: ${u.error}`);
      continue;
    }
    lines.push(`${u.name}: ${u.action}`);
    for (const c of u.changed) {
      lines.push(
        `  frame ${c.index} changed (${c.status}${
          c.maxAbsDiff === null ? "" : `, max |Δ| ${c.maxAbsDiff}`
        })`,
      );
    }
    if (u.added.length) lines.push(`  frames added: ${u.added.join(", ")}`);
    if (u.removed.length) lines.push(`  frames removed: ${u.removed.join(", ")}`);
    for (const change of [...u.spec, ...u.model]) {
      lines.push(`  ${formatChange(change)}`);
    }
  }
  return lines.join("\n");
}
