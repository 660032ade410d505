/**
 * Opening a run folder for comparison or verification: find its `manifest.json` and check the
 * fields those tools rely on, with errors that name the file and the field.
 *
 * Unlike the runner's `readManifest` (which treats a bad manifest as absent and recomputes), a
 * reader here must say loudly that the manifest is broken: there is nothing to fall back on.
 *
 * @module
 */

import { dirname, join, normalize, resolve } from "node:path";
import { z } from "zod";
import { type Manifest, MANIFEST_FILE, MANIFEST_VERSION } from "../experiments/manifest.ts";

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

const rgb = z.tuple([z.number(), z.number(), z.number()]);

const frameSchema = z.looseObject({
  index: z.number().int().min(0),
  t: z.number().nullable().optional(),
  color: rgb,
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "a lower-case hex SHA-256"),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
});

const manifestSchema = z.looseObject({
  version: z.literal(MANIFEST_VERSION),
  spec: z.looseObject({}),
  model: z.looseObject({}),
  runtime: z.looseObject({}),
  frames: z.array(frameSchema),
});

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("").replace(/^\./, "");
  return `${path || "(top level)"}: ${issue.message}`;
}

/**
 * Checks parsed JSON as a manifest.
 * @param source the file name for messages
 * @throws {RunOpenError} (`invalid`) naming the first bad fields
 */
export function checkManifest(json: unknown, source: string): Manifest {
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 3).map(describeIssue).join("; ");
    throw new RunOpenError("invalid", source, `${source}: not a valid run manifest: ${issues}`);
  }
  const seen = new Set<number>();
  for (const frame of result.data.frames) {
    if (seen.has(frame.index)) {
      throw new RunOpenError(
        "invalid",
        source,
        `${source}: not a valid run manifest: frame index ${frame.index} appears twice`,
      );
    }
    seen.add(frame.index);
  }
  return result.data as unknown as Manifest;
}

/**
 * Parses manifest text.
 * @throws {RunOpenError} (`invalid`) for empty, truncated or non-JSON text or a bad manifest
 */
export function parseManifest(text: string, source: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const what = text.trim() === "" ? "the file is empty" : `not JSON (${(e as Error).message})`;
    throw new RunOpenError("invalid", source, `${source}: corrupt or truncated manifest: ${what}`);
  }
  return checkManifest(json, source);
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
 * Resolves a frame's `file` inside the run folder, or returns null when it would point outside
 * it (absolute, or climbing with `..`): a manifest never gets to make us read arbitrary files.
 */
export function frameFilePath(dir: string, file: string): string | null {
  if (file.startsWith("/") || /^[A-Za-z]:/.test(file) || file.includes("\\")) return null;
  const normalized = normalize(file);
  if (normalized === ".." || normalized.startsWith("../")) return null;
  const full = resolve(dir, normalized);
  return full.startsWith(resolve(dir) + "/") ? join(dir, normalized) : null;
}
