/**
 * Integrity check of a run folder: every frame the manifest lists is present, has the recorded
 * SHA-256 and decodes as a PNG of the recorded size, and the run finished (status `complete`).
 *
 * Three verdicts: `ok` (finished and intact), `incomplete` (every listed frame intact, but the
 * run is `running`, `interrupted` or `failed`: the same command finishes it) and `fail`
 * (missing or damaged frames). Unlisted PNGs in `frames/` (left by an earlier run into the same
 * folder, e.g. of more frames) and missing pictures (contact sheet, path plot, videos: a rerun
 * remakes them from the frames) are warnings: the frames the manifest lists are the record.
 *
 * @module
 */

import { join } from "node:path";
import { decodePng } from "../render/png.ts";
import { sha256Hex } from "../util/hash.ts";
import type { Manifest } from "../experiments/manifest.ts";
import { frameFilePath, openRun } from "./run_folder.ts";
import { exists } from "../util/exists.ts";

/** A frame file that is present but wrong. */
export interface CorruptFile {
  /** Path relative to the run folder. */
  file: string;
  /** Indices of the frames that use it. */
  indices: number[];
  /** What is wrong: hash mismatch, undecodable PNG, wrong size, bad path. */
  reason: string;
}

/** A listed file that is not there. */
export interface MissingFile {
  /** Path relative to the run folder. */
  file: string;
  /** Indices of the frames that use it. */
  indices: number[];
}

/**
 * Outcome of a verification: `ok` finished and intact, `incomplete` intact so far but not
 * finished, `fail` frames missing or damaged.
 */
export type VerifyVerdict = "ok" | "incomplete" | "fail";

/** Result of {@link verifyRun}. */
export interface VerifyReport {
  /** The run folder. */
  dir: string;
  /** Its manifest. */
  manifestPath: string;
  /** True for the verdict `ok`: the run finished and every listed frame is intact. */
  ok: boolean;
  /** The verdict. */
  verdict: VerifyVerdict;
  /** The manifest's `status`: `complete`, or `running`, `interrupted`, `failed` (unfinished). */
  status: string;
  /** The manifest's `error` (why a `failed` run failed), else null. */
  error: string | null;
  /** Frames listed in the manifest. */
  frames: number;
  /** Distinct frame files checked (frames with equal content share one). */
  files: number;
  /** Files that passed every check. */
  intact: number;
  /** Listed frame files that do not exist. */
  missing: MissingFile[];
  /** Pictures named in `outputs` that do not exist (warnings; they do not fail the check). */
  missingOutputs: string[];
  /** Listed frame files with the wrong hash, undecodable content, wrong size or a bad path. */
  corrupt: CorruptFile[];
  /** PNG files in `frames/` the manifest does not list (warnings; they do not fail the check). */
  extra: string[];
}

/** Frames by file; the schema names every file by its SHA-256, so frames sharing one agree. */
function groupByFile(frames: Manifest["frames"]) {
  const files = new Map<string, { indices: number[]; sha256: string; sizes: Set<string> }>();
  for (const frame of frames) {
    let entry = files.get(frame.file);
    if (!entry) {
      entry = { indices: [], sha256: frame.sha256, sizes: new Set() };
      files.set(frame.file, entry);
    }
    entry.indices.push(frame.index);
    entry.sizes.add(`${frame.width}×${frame.height}`);
  }
  return files;
}

async function checkFile(
  dir: string,
  file: string,
  expected: { sha256: string; sizes: Set<string> },
): Promise<"missing" | string | null> {
  const path = frameFilePath(dir, file);
  if (!path) return "path points outside the run folder";
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "missing";
    return `cannot be read (${(e as Error).message})`;
  }
  const actual = sha256Hex(bytes);
  if (actual !== expected.sha256) {
    return `SHA-256 mismatch: manifest ${expected.sha256.slice(0, 12)}…, file ` +
      `${actual.slice(0, 12)}…`;
  }
  let image;
  try {
    image = await decodePng(bytes, file);
  } catch (e) {
    return (e as Error).message;
  }
  const size = `${image.width}×${image.height}`;
  // References record no size (any is fine); frames must have theirs.
  if (expected.sizes.size > 0 && !expected.sizes.has(size)) {
    return `image is ${size}, manifest says ${[...expected.sizes].join(" / ")}`;
  }
  return null;
}

async function listPngs(framesDir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(framesDir)) {
      if (entry.isFile && entry.name.toLowerCase().endsWith(".png")) names.push(entry.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}

function outputFiles(outputs: unknown): string[] {
  const o = outputs as {
    contactSheet?: unknown;
    pathPlot?: unknown;
    video?: { mp4?: unknown; gif?: unknown };
    identityPlot?: unknown;
  } | undefined;
  return [o?.contactSheet, o?.pathPlot, o?.video?.mp4, o?.video?.gif, o?.identityPlot]
    .filter((f): f is string => typeof f === "string" && f !== "");
}

/**
 * Verifies a run folder (or the folder of a `manifest.json` path).
 *
 * Every listed frame file is read, hashed and decoded, each file once even when several frames
 * share it. The manifest is checked with the one schema every reader uses.
 *
 * @throws {RunOpenError} when the folder or manifest is missing (`not-found`, `no-manifest`) or
 *   the manifest is corrupt, truncated or malformed (`invalid`)
 */
export async function verifyRun(path: string): Promise<VerifyReport> {
  const run = await openRun(path);
  const { dir, manifest } = run;
  const files = groupByFile(manifest.frames);
  // Reference faces (identity numbers) live in frames/ too; a frame may be one of them.
  for (const ref of manifest.identity?.references ?? []) {
    if (!files.has(ref.file)) {
      files.set(ref.file, { indices: [], sha256: ref.sha256, sizes: new Set() });
    }
  }
  const report: VerifyReport = {
    dir,
    manifestPath: run.manifestPath,
    ok: false,
    verdict: "fail",
    status: manifest.status,
    error: manifest.error ?? null,
    frames: manifest.frames.length,
    files: files.size,
    intact: 0,
    missing: [],
    missingOutputs: [],
    corrupt: [],
    extra: [],
  };
  for (const [file, expected] of files) {
    const problem = await checkFile(dir, file, expected);
    if (problem === null) report.intact++;
    else if (problem === "missing") report.missing.push({ file, indices: expected.indices });
    else report.corrupt.push({ file, indices: expected.indices, reason: problem });
  }
  for (const file of outputFiles(manifest.outputs)) {
    const full = frameFilePath(dir, file);
    if (!full || !(await exists(full))) report.missingOutputs.push(file);
  }
  for (const name of await listPngs(join(dir, "frames"))) {
    if (!files.has(`frames/${name}`)) report.extra.push(`frames/${name}`);
  }
  const intact = report.missing.length === 0 && report.corrupt.length === 0;
  report.verdict = !intact ? "fail" : manifest.status === "complete" ? "ok" : "incomplete";
  report.ok = report.verdict === "ok";
  return report;
}

/** Human-readable report: the run's status, one line per problem or warning, and a verdict. */
export function formatVerifyReport(report: VerifyReport): string {
  const frameList = (indices: number[]) =>
    indices.length === 0 ? "" : ` (frame${indices.length > 1 ? "s" : ""} ${indices.join(", ")})`;
  const lines = [`${report.manifestPath}: ${report.frames} frame(s), ${report.files} file(s)`];
  if (report.status !== "complete") {
    lines.push(
      `status: ${report.status}: the run did not finish; the manifest lists the ` +
        `${report.frames} frame(s) done so far (run the same command again to finish it)`,
    );
    if (report.error) lines.push(`error recorded by the run: ${report.error}`);
  }
  for (const m of report.missing) lines.push(`missing: ${m.file}${frameList(m.indices)}`);
  for (const c of report.corrupt) {
    lines.push(`corrupt: ${c.file}${frameList(c.indices)}: ${c.reason}`);
  }
  for (const x of report.extra) {
    lines.push(
      `warning: ${x} is not in the manifest (left by an earlier run into this folder, e.g. ` +
        "of more frames; it can be deleted)",
    );
  }
  for (const o of report.missingOutputs) {
    lines.push(`warning: picture ${o} is missing (a rerun in this folder remakes it)`);
  }
  const warnings = report.extra.length + report.missingOutputs.length;
  const warned = warnings > 0 ? `, ${warnings} warning(s)` : "";
  switch (report.verdict) {
    case "ok":
      lines.push(`OK: all ${report.intact} file(s) intact${warned}`);
      break;
    case "incomplete":
      lines.push(
        `INCOMPLETE: run status "${report.status}"; the ${report.intact} file(s) listed so far ` +
          `are intact${warned}`,
      );
      break;
    case "fail":
      lines.push(
        `FAIL: ${report.missing.length} missing, ${report.corrupt.length} corrupt, ` +
          `${report.intact} intact${warned}`,
      );
  }
  return lines.join("\n");
}
