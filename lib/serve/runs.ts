/**
 * The runs under a results folder: finding them, opening one by its path, summing one up for the
 * list, and the files of a run that may be served.
 *
 * @module
 */

import { join } from "node:path";
import { type Manifest, MANIFEST_FILE } from "../experiments/manifest.ts";
import { parseManifest, RunOpenError, runRelativePath } from "../compare/run_folder.ts";
import { plannedFrames } from "../report/data.ts";
import { resolveInside } from "./safe_path.ts";

/** How deep below the results folder runs are looked for (`results/<name>/<runId>` is 2). */
export const DEFAULT_MAX_DEPTH = 4;

/** A run of the list whose manifest could be read. */
export interface RunSummary {
  /** Path of the run folder relative to the results folder, `/`-separated. */
  path: string;
  /** The manifest was read and is valid. */
  valid: true;
  /** Experiment name. */
  name: string;
  /** Run folder name as recorded. */
  runId: string;
  /** Manifest status. */
  status: Manifest["status"];
  /** Why it failed (status `failed`). */
  error: string | null;
  /** Frames present. */
  frames: number;
  /** Frames planned. */
  planned: number;
  /** Last manifest write. */
  updatedAt: string;
  /** Correlation between injected and output colour per channel (null until complete). */
  correlation: { r: number | null; g: number | null; b: number | null } | null;
  /** Largest colour jump between neighbouring frames (null until complete or none). */
  largestJump: { index: number; value: number } | null;
  /** Identity numbers, when the run has them. */
  identity: {
    meanToReference: number | null;
    pathLength: number;
    largestJump: { index: number; value: number } | null;
    framesAboveThreshold: number;
    threshold: number;
  } | null;
}

/** A folder with a `manifest.json` that cannot be used. */
export interface InvalidRun {
  /** Path of the folder relative to the results folder. */
  path: string;
  /** Not a usable manifest. */
  valid: false;
  /** Why (the schema's message, naming the field). */
  reason: string;
}

/** One entry of the run list. */
export type RunEntry = RunSummary | InvalidRun;

/** Sums up a manifest for the list. */
export function summarize(path: string, manifest: Manifest): RunSummary {
  const summary = manifest.summary;
  const identity = summary?.identity;
  return {
    path,
    valid: true,
    name: manifest.spec.name,
    runId: manifest.runId,
    status: manifest.status,
    error: manifest.error ?? null,
    frames: manifest.frames.length,
    planned: plannedFrames(manifest),
    updatedAt: manifest.updatedAt,
    correlation: summary?.correlation ?? null,
    largestJump: summary?.largestJump ?? null,
    identity: identity
      ? {
        meanToReference: identity.meanToReference,
        pathLength: identity.pathLength,
        largestJump: identity.largestJump
          ? { index: identity.largestJump.index, value: identity.largestJump.value }
          : null,
        framesAboveThreshold: identity.framesAboveThreshold,
        threshold: identity.threshold,
      }
      : null,
  };
}

/**
 * Reads and checks the manifest of the run at `runPath` (relative segments) under `rootReal`,
 * the results folder's real path. A `manifest.json` that is a symlink leading out of the results
 * folder counts as absent: the viewer reads nothing outside it.
 *
 * @returns null when there is no `manifest.json` there
 * @throws {RunOpenError} (`invalid`) for an unreadable or malformed manifest; the message names
 *   the manifest by its path relative to the results folder, never the server's own paths
 */
export async function readRunManifest(
  rootReal: string,
  runPath: readonly string[],
): Promise<Manifest | null> {
  const source = [...runPath, MANIFEST_FILE].join("/");
  const real = await resolveInside(rootReal, [...runPath, MANIFEST_FILE]);
  if (real === null) return null;
  // Every poll of every open page, and every frame a page loads, asks for its run's manifest:
  // while the file is unchanged it is neither read nor checked again. Unchanged means the same
  // inode, size and mtime (the runner replaces a manifest by a rename, so a new inode), and an
  // mtime that was already settled when the file was read: a write within the filesystem's
  // timestamp granularity of the read may keep the mtime, so such a file is read again.
  const key = JSON.stringify([real, source]);
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(real);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new RunOpenError("invalid", source, `${source}: cannot read (${(e as Error).name})`);
  }
  const cached = manifestCache.get(key);
  if (cached && sameFile(cached, stat) && cached.mtimeMs < cached.readAtMs - SETTLED_MS) {
    return cached.manifest;
  }
  const readAtMs = Date.now();
  let text: string;
  try {
    text = await Deno.readTextFile(real);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new RunOpenError("invalid", source, `${source}: cannot read (${(e as Error).name})`);
  }
  // Same text, same checked object (what the viewer's caches are keyed by). A damaged manifest
  // is not kept: it is checked again, to say why, each time it is asked for.
  const manifest = cached?.text === text ? cached.manifest : parseManifest(text, source);
  manifestCache.delete(key);
  manifestCache.set(key, {
    text,
    manifest,
    ino: stat.ino,
    size: stat.size,
    mtimeMs: stat.mtime?.getTime() ?? NaN,
    readAtMs,
  });
  while (manifestCache.size > MANIFESTS_KEPT) {
    manifestCache.delete(manifestCache.keys().next().value!);
  }
  return manifest;
}

/** A manifest as last read, with the file's identity then. */
interface CachedManifest {
  text: string;
  manifest: Manifest;
  ino: number | null;
  size: number;
  mtimeMs: number;
  readAtMs: number;
}

/** How long before a read an mtime must lie to be trusted (coarse filesystem timestamps). */
const SETTLED_MS = 2000;
/** Manifests kept, the least recently read dropped first. */
const MANIFESTS_KEPT = 1024;
/** The manifests read, by real path and name. */
const manifestCache = new Map<string, CachedManifest>();

function sameFile(cached: CachedManifest, stat: Deno.FileInfo): boolean {
  return cached.ino === stat.ino && cached.size === stat.size &&
    cached.mtimeMs === (stat.mtime?.getTime() ?? NaN);
}

/** {@link servedFiles} of each manifest object (the same object while its text is unchanged). */
const servedFilesOf = new WeakMap<Manifest, Set<string>>();

/**
 * Finds the runs under `root`: every folder, down to `maxDepth` levels, holding a
 * `manifest.json`. A run folder is not searched further; hidden folders (`.staging`, temporary
 * ones) and symlinks are skipped, so the scan stays inside the folder and cannot loop.
 * Unreadable folders are skipped; unusable manifests are listed as {@link InvalidRun}s.
 *
 * @param rootReal the results folder's real path
 */
export async function scanRuns(
  rootReal: string,
  maxDepth = DEFAULT_MAX_DEPTH,
): Promise<RunEntry[]> {
  const entries: RunEntry[] = [];
  const visit = async (segments: string[]): Promise<void> => {
    const dir = join(rootReal, ...segments);
    const path = segments.join("/");
    if (segments.length > 0) {
      try {
        const manifest = await readRunManifest(rootReal, segments);
        if (manifest) {
          entries.push(summarize(path, manifest));
          return;
        }
      } catch (e) {
        entries.push({ path, valid: false, reason: (e as Error).message });
        return;
      }
    }
    if (segments.length >= maxDepth) return;
    const children: string[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) {
        if (entry.isDirectory && !entry.isSymlink && !entry.name.startsWith(".")) {
          children.push(entry.name);
        }
      }
    } catch {
      return;
    }
    for (const child of children.sort()) await visit([...segments, child]);
  };
  await visit([]);
  return entries;
}

/**
 * The files of a run the viewer may serve, relative to the run folder: `manifest.json` and what
 * the manifest references (frames, identity reference faces, contact sheet, path plot, grid,
 * identity plot, video), and of those only `.png`, `.gif` and `.mp4` files. Nothing else: no
 * lock file, temporary file, stray file or page of the folder. A reference that is absolute,
 * climbs with `..`, names a hidden file or has another extension is left out.
 */
export function servedFiles(manifest: Manifest): Set<string> {
  const known = servedFilesOf.get(manifest);
  if (known) return known;
  const SERVED_MEDIA = /\.(png|gif|mp4)$/;
  const outputs = manifest.outputs;
  const candidates = [
    MANIFEST_FILE,
    ...manifest.frames.map((f) => f.file),
    ...(manifest.identity?.references ?? []).map((r) => r.file),
    outputs.contactSheet,
    outputs.pathPlot,
    outputs.grid,
    outputs.identityPlot,
    outputs.video.mp4,
    outputs.video.gif,
  ];
  const files = new Set<string>();
  for (const file of candidates) {
    if (typeof file !== "string" || file === "") continue;
    const name = runRelativePath(file);
    if (name === null || name.split("/").some((p) => p.startsWith("."))) continue;
    // A manifest is data from wherever the run came from: whatever it names, only pictures,
    // videos and the manifest itself go out, never a page or script of the folder's.
    if (name !== MANIFEST_FILE && !SERVED_MEDIA.test(name)) continue;
    files.add(name);
  }
  servedFilesOf.set(manifest, files);
  return files;
}
