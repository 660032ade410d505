/**
 * File-system care for run folders: leftover temporary files of killed runs, and a full disk
 * reported as such (which file, what to do) instead of a bare OS error.
 *
 * Every file of a run is written atomically (`lib/util/atomic.ts`): to a dot-prefixed `.tmp` file
 * in the same folder, then renamed. A run killed mid-write leaves such a temporary file and
 * nothing partial under a real name; the next run (holding the folder's lock) removes them.
 *
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";

/** Names of temporary files (`.<name>.<random>.tmp`, see `tempPathBeside`). */
export const TEMP_FILE_PATTERN: RegExp = /^\..+\.tmp$/;

/** Removes the temporary files directly in `dir`; returns how many. A missing folder is empty. */
export async function removeTempFiles(dir: string): Promise<number> {
  let removed = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !TEMP_FILE_PATTERN.test(entry.name)) continue;
      await Deno.remove(join(dir, entry.name)).then(() => removed++, () => {});
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return removed;
}

/** Whether an error means the disk (or the user's quota) is full. */
export function isDiskFull(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (code === "ENOSPC" || code === "EDQUOT") return true;
  // Linux ENOSPC 28 / EDQUOT 122, macOS EDQUOT 69, Windows ERROR_HANDLE_DISK_FULL 39 / DISK_FULL 112.
  return /No space left on device|Disk quota exceeded|os error (28|122|112|39)\)/i.test(e.message);
}

/** A write failed because the disk is full; the message names the file and what to do. */
export class DiskFullError extends Error {
  /** The file being written. */
  readonly path: string;

  /** @param advice what the user can do, appended to the message */
  constructor(path: string, advice: string, options?: ErrorOptions) {
    super(`no space left on the device while writing ${path}: ${advice}`, options);
    this.name = "DiskFullError";
    this.path = path;
  }
}

/** How files are written; replaceable in tests (e.g. to simulate a full disk). */
export type WriteFile = (path: string, data: Uint8Array) => Promise<void>;

/**
 * Writes `data` to `path` atomically with `write` (default {@link writeFileAtomic}), turning a
 * full disk into a {@link DiskFullError} with `advice`.
 */
export async function writeRunFile(
  path: string,
  data: Uint8Array,
  advice: string,
  write: WriteFile = writeFileAtomic,
): Promise<void> {
  try {
    await write(path, data);
  } catch (e) {
    if (isDiskFull(e)) throw new DiskFullError(path, advice, { cause: e });
    throw e;
  }
}

/**
 * The topmost folder of `dir` that does not exist yet (what `mkdir -p dir` would create), or
 * null if `dir` exists: removing it undoes the `mkdir`.
 */
export async function firstMissingAncestor(dir: string): Promise<string | null> {
  let missing: string | null = null;
  let current = dir;
  while (true) {
    try {
      await Deno.stat(current);
      return missing;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) return missing;
    }
    missing = current;
    const parent = join(current, "..");
    if (parent === current) return missing;
    current = parent;
  }
}
