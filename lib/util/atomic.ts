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
