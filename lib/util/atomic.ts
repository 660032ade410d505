/**
 * Atomic file writes: data goes to a temporary file in the same folder, then a rename puts it in
 * place, so a reader never sees half a file, even if the process is killed mid-write.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/**
 * A temporary path beside `path`: same folder, so the final rename cannot cross filesystems, and
 * a `.tmp` suffix that marks it as never part of a result.
 */
export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
}

/** Writes bytes to `path` atomically. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = tempPathBeside(path);
  try {
    await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Writes text to `path` atomically. */
export function writeTextFileAtomic(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, new TextEncoder().encode(text));
}

/**
 * Puts a fully written folder `staging` in place of `target` (which may not exist). The old
 * folder is moved aside first and removed only once the new one is in place; if that fails, the
 * old one is put back, so `target` always holds either the old or the new contents.
 */
export async function replaceDirAtomic(staging: string, target: string): Promise<void> {
  const old = `${target}.old-${crypto.randomUUID().slice(0, 8)}`;
  let moved = false;
  try {
    await Deno.rename(target, old);
    moved = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  try {
    await Deno.rename(staging, target);
  } catch (e) {
    if (moved) await Deno.rename(old, target).catch(() => {});
    throw e;
  }
  if (moved) await Deno.remove(old, { recursive: true });
}
