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
export function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  return writeChunksAtomic(path, [data]);
}

/**
 * Writes `chunks`, in order, to `path` atomically: a file larger than memory allows to build
 * (a model's 1.1 GB of weights) is written as it is produced, with the same guarantees as
 * {@link writeFileAtomic}. If `chunks` throws, nothing is left behind and `path` is untouched.
 */
export async function writeChunksAtomic(
  path: string,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  const tmp = tempPathBeside(path);
  try {
    // Durable before it becomes visible: after a power cut the name holds old or new data,
    // never an empty file.
    using file = await Deno.open(tmp, { write: true, createNew: true });
    for await (const chunk of chunks) {
      let written = 0;
      while (written < chunk.length) written += await file.write(chunk.subarray(written));
    }
    await file.syncData();
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dirname(path));
}

/** Makes a rename in `dir` durable; a no-op where folders cannot be synced. */
async function syncDir(dir: string): Promise<void> {
  try {
    using handle = await Deno.open(dir, { read: true });
    await handle.syncData();
  } catch {
    // Not every platform lets a folder be opened or synced (Windows): the rename still stands.
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
