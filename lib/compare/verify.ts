/**
 * Integrity check of a run folder: every frame the manifest lists is present, has the recorded
 * SHA-256 and decodes as a PNG of the recorded size; no unlisted PNGs lie in `frames/`.
 *
 * Pictures the manifest names (contact sheet, path plot, videos) are only checked for presence
 * and reported as warnings: they are made from the frames and a rerun remakes them without
 * sampling, while the frames are the record of the run.
 *
 * @module
 */

import { join } from "node:path";
import { decodePng } from "../render/png.ts";
import { sha256Hex } from "../util/hash.ts";
import { frameFilePath, openRun } from "./run_folder.ts";

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

/** Result of {@link verifyRun}. */
export interface VerifyReport {
  /** The run folder. */
  dir: string;
  /** Its manifest. */
  manifestPath: string;
  /** True when nothing is missing, corrupt or extra. */
  ok: boolean;
  /** The manifest's `status` (`complete`, or `running` for an unfinished run). */
  status: string;
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
  /** PNG files in `frames/` the manifest does not list. */
  extra: string[];
}

function groupByFile(
  frames: { index: number; file: string; sha256: string; width?: number; height?: number }[],
) {
  const files = new Map<
    string,
    { indices: number[]; sha256: Set<string>; sizes: Set<string> }
  >();
  for (const frame of frames) {
    let entry = files.get(frame.file);
    if (!entry) {
      entry = { indices: [], sha256: new Set(), sizes: new Set() };
      files.set(frame.file, entry);
    }
    entry.indices.push(frame.index);
    entry.sha256.add(frame.sha256);
    if (frame.width !== undefined && frame.height !== undefined) {
      entry.sizes.add(`${frame.width}×${frame.height}`);
    }
  }
  return files;
}

async function checkFile(
  dir: string,
  file: string,
  expected: { sha256: Set<string>; sizes: Set<string> },
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
  if (expected.sha256.size > 1) {
    return `listed with ${expected.sha256.size} different SHA-256 values in the manifest`;
  }
  const [sha256] = expected.sha256;
  const actual = sha256Hex(bytes);
  if (actual !== sha256) {
    return `SHA-256 mismatch: manifest ${sha256.slice(0, 12)}…, file ${actual.slice(0, 12)}…`;
  }
  // Content-addressed names: a name that disagrees with the hash means a hand-edited manifest.
  const named = /^frames\/([0-9a-f]{64})\.png$/.exec(file)?.[1];
  if (named && named !== sha256) return `file name does not match its SHA-256 ${sha256}`;
  let image;
  try {
    image = await decodePng(bytes, file);
  } catch (e) {
    return (e as Error).message;
  }
  const size = `${image.width}×${image.height}`;
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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
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
 * share it.
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
      files.set(ref.file, { indices: [], sha256: new Set([ref.sha256]), sizes: new Set() });
    }
  }
  const report: VerifyReport = {
    dir,
    manifestPath: run.manifestPath,
    ok: false,
    status: String((manifest as { status?: unknown }).status ?? "unknown"),
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
  report.ok = report.missing.length === 0 && report.corrupt.length === 0 &&
    report.extra.length === 0;
  return report;
}

/** Human-readable report: one line per problem and a verdict. */
export function formatVerifyReport(report: VerifyReport): string {
  const frameList = (indices: number[]) =>
    indices.length === 0 ? "" : ` (frame${indices.length > 1 ? "s" : ""} ${indices.join(", ")})`;
  const lines = [`${report.manifestPath}: ${report.frames} frame(s), ${report.files} file(s)`];
  if (report.status !== "complete") {
    lines.push(`note: manifest status is "${report.status}" (the run did not finish)`);
  }
  for (const m of report.missing) lines.push(`missing: ${m.file}${frameList(m.indices)}`);
  for (const c of report.corrupt) {
    lines.push(`corrupt: ${c.file}${frameList(c.indices)}: ${c.reason}`);
  }
  for (const x of report.extra) lines.push(`extra: ${x} (not in the manifest)`);
  for (const o of report.missingOutputs) {
    lines.push(`warning: picture ${o} is missing (a rerun in this folder remakes it)`);
  }
  lines.push(
    report.ok
      ? `OK: all ${report.intact} file(s) intact`
      : `FAIL: ${report.missing.length} missing, ${report.corrupt.length} corrupt, ` +
        `${report.extra.length} extra, ${report.intact} intact`,
  );
  return lines.join("\n");
}
