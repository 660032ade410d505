/**
 * The benchmark's temporary folder for its random-weight models (about 1.2 GB at full size):
 * `$TMPDIR/fluidity-bench-*`, holding a lock file that names the bench process. `runBench`
 * removes its own folder however it ends; a bench killed outright (`kill -9`, a power cut) cannot,
 * so each new bench first removes the folders whose bench is no longer running.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { acquireLock, holderState, type Lock, readLock } from "../util/lock.ts";

/** Name prefix of the benchmark's temporary folders. */
export const BENCH_DIR_PREFIX = "fluidity-bench-";

/** The lock file inside a benchmark folder. */
const LOCK_FILE = ".lock";

/** A folder without a lock this old was left by a bench from before the lock existed. */
const UNLOCKED_GRACE_MS = 60 * 60 * 1000;

/** A temporary folder this process owns. */
export interface BenchTempDir {
  /** Its path. */
  readonly path: string;
  /** Removes it (and its lock). */
  remove(): Promise<void>;
}

/**
 * Creates a temporary folder for the benchmark's models, locked by this process, after removing
 * the folders of benchmarks that are no longer running (each named through `log`).
 */
export async function makeBenchTempDir(
  log: (message: string) => void = () => {},
): Promise<BenchTempDir> {
  const path = await Deno.makeTempDir({ prefix: BENCH_DIR_PREFIX });
  let lock: Lock;
  try {
    lock = await acquireLock(join(path, LOCK_FILE), { purpose: "deno task bench", log });
  } catch (e) {
    await Deno.remove(path, { recursive: true });
    throw e;
  }
  await removeAbandonedBenchDirs(dirname(path), path, log);
  return {
    path,
    async remove() {
      await lock.release();
      await Deno.remove(path, { recursive: true });
    },
  };
}

/**
 * Removes the benchmark folders in `root` (other than `own`) whose lock names a process of this
 * host that is no longer running, and unlocked ones older than an hour; keeps the others.
 */
export async function removeAbandonedBenchDirs(
  root: string,
  own: string,
  log: (message: string) => void,
): Promise<void> {
  for await (const entry of Deno.readDir(root)) {
    const path = join(root, entry.name);
    if (!entry.isDirectory || !entry.name.startsWith(BENCH_DIR_PREFIX) || path === own) continue;
    try {
      const holder = await readLock(join(path, LOCK_FILE));
      const abandoned = holder
        ? holderState(holder) === "dead"
        : Date.now() - ((await Deno.stat(path)).mtime?.getTime() ?? Date.now()) >
          UNLOCKED_GRACE_MS;
      if (!abandoned) continue;
      await Deno.remove(path, { recursive: true });
      log(`removed ${path}, left behind by a benchmark that is no longer running`);
    } catch {
      // Removed meanwhile by its own bench, or not ours to touch: leave it.
    }
  }
}
