/**
 * Opening a run folder for comparison or verification: find its `manifest.json` and check the
 * fields those tools rely on, with errors that name the file and the field.
 *
 * The manifest is checked with the same schema as the runner's `readManifest` and `merge`
 * (`lib/experiments/manifest_schema.ts`), so a bad manifest is refused in the same words.
 *
 * @module
 */

import { dirname, join, normalize } from "node:path";
import { type Manifest, MANIFEST_FILE } from "../experiments/manifest.ts";
import { ManifestFormatError, parseManifestText } from "../experiments/manifest_schema.ts";

/** Why a run could not be opened. */
export type RunOpenProblem = "not-found" | "no-manifest" | "invalid";

/**
 * A run folder or manifest that cannot be used. `problem` separates a wrong path (`not-found`,
 * `no-manifest`: the CLIs treat these as usage errors) from a damaged manifest (`invalid`).
 */
export class RunOpenError extends Error {
  /** What went wrong. */
  readonly problem: RunOpenProblem;
  /** The path involved. */
  readonly path: string;

  constructor(problem: RunOpenProblem, path: string, message: string) {
    super(message);
    this.name = "RunOpenError";
    this.problem = problem;
    this.path = path;
  }
}

/** An opened run: its folder, manifest path and checked manifest. */
export interface OpenedRun {
  /** The run folder (the manifest's folder). */
  dir: string;
  /** Path of `manifest.json`. */
  manifestPath: string;
  /** The manifest; fields not checked here are passed through as found. */
  manifest: Manifest;
}

/**
 * Parses manifest text, with the one schema every reader uses.
 * @throws {RunOpenError} (`invalid`) for empty, truncated or non-JSON text or a bad manifest
 */
export function parseManifest(text: string, source: string): Manifest {
  try {
    return parseManifestText(text, source);
  } catch (e) {
    if (!(e instanceof ManifestFormatError)) throw e;
    throw new RunOpenError("invalid", source, e.message);
  }
}

/**
 * Opens a run given its folder or its `manifest.json` path.
 * @throws {RunOpenError} `not-found` when the path does not exist, `no-manifest` for a folder
 *   without `manifest.json`, `invalid` for an unreadable or malformed manifest
 */
export async function openRun(path: string): Promise<OpenedRun> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new RunOpenError("not-found", path, `${path}: no such run folder or manifest file`);
    }
    throw e;
  }
  const manifestPath = info.isDirectory ? join(path, MANIFEST_FILE) : path;
  const dir = info.isDirectory ? path : dirname(path);
  let text: string;
  try {
    text = await Deno.readTextFile(manifestPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new RunOpenError(
        "no-manifest",
        manifestPath,
        `${path}: not a run folder (no ${MANIFEST_FILE} in it)`,
      );
    }
    throw new RunOpenError("invalid", manifestPath, `${manifestPath}: ${(e as Error).message}`);
  }
  return { dir, manifestPath, manifest: parseManifest(text, manifestPath) };
}

/**
 * A file a manifest names, normalized relative to its run folder, or null when it would point
 * outside it (absolute, a drive letter, a backslash, climbing with `..`, or the folder itself):
 * a manifest never gets to make us read arbitrary files.
 */
export function runRelativePath(file: string): string | null {
  if (file.startsWith("/") || /^[A-Za-z]:/.test(file) || file.includes("\\")) return null;
  const normalized = normalize(file);
  if (normalized === "." || normalized === ".." || normalized.startsWith("../")) return null;
  return normalized;
}

/** Resolves a frame's `file` inside the run folder (see {@link runRelativePath}), or null. */
export function frameFilePath(dir: string, file: string): string | null {
  const relative = runRelativePath(file);
  return relative === null ? null : join(dir, relative);
}
