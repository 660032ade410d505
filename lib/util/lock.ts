/**
 * Lock files: one process at a time writes a run folder (or converts a model).
 *
 * A lock is a small JSON file (`DIR/.lock`) naming its holder: pid, host name, start time and,
 * on Linux, the holder process's own start time (so a new process that happens to get the same
 * pid is not mistaken for the holder). It is created atomically — written under a temporary name,
 * then hard-linked into place, which fails if the lock exists (also on NFS, where `O_EXCL` is not
 * reliable); file systems without hard links fall back to `createNew`.
 *
 * A lock whose holder is gone (same host, pid no longer running, or running a different process)
 * is stale: it is taken over with a warning. A holder on another host cannot be checked from here,
 * so such a lock is only ever reported, with the file to delete if that host is known to be down.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { tempPathBeside } from "./atomic.ts";
import { hostname } from "node:os";

/** Who holds a lock: the JSON content of the lock file. */
export interface LockHolder {
  /** Process id of the holder. */
  pid: number;
  /** Host name the holder runs on. */
  hostname: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** Start time of the holder process (Linux `/proc/<pid>/stat` field 22), when known. */
  processStart?: string;
  /** Random id of this acquisition: tells two locks taken by the same process apart. */
  token: string;
  /** What the holder is doing, for messages (e.g. the command line). */
  purpose?: string;
}

/** A lock held by another live process (or by a process on another host). */
export class LockHeldError extends Error {
  /** The lock file. */
  readonly path: string;
  /** Its holder, or null if the file could not be read. */
  readonly holder: LockHolder | null;

  constructor(path: string, holder: LockHolder | null, message: string) {
    super(message);
    this.name = "LockHeldError";
    this.path = path;
    this.holder = holder;
  }
}

/** Options of {@link acquireLock}. */
export interface LockOptions {
  /** Wait until the holder releases the lock (or dies) instead of failing. Default false. */
  wait?: boolean;
  /** Stops waiting (the abort reason is thrown). */
  signal?: AbortSignal;
  /** Warnings (stale lock taken over) and the "waiting for …" line. Default: stderr. */
  log?: (message: string) => void;
  /** Stored in the lock for other processes' messages. Default: this process's command line. */
  purpose?: string;
  /** What the lock protects, for messages, e.g. `run folder results/x`. Default: the lock path. */
  what?: string;
  /** What to tell a user who does not want to wait, e.g. `pass --wait to wait`. */
  waitHint?: string;
  /** First polling interval while waiting, ms (doubles up to 2 s). Default 100. */
  pollMs?: number;
}

/** A lock this process holds. */
export interface Lock {
  /** The lock file. */
  readonly path: string;
  /** What is written in it. */
  readonly holder: LockHolder;
  /** Removes the lock file (if it is still ours). Safe to call twice. */
  release(): Promise<void>;
}

/** Tokens of the locks this process holds: a lock with our pid but another token is stale. */
const heldHere = new Set<string>();

/** Age after which an unreadable lock file is considered debris, not a lock being written. */
const UNREADABLE_GRACE_MS = 10_000;

function stderrLog(message: string) {
  console.error(message);
}

/** This machine's host name (as locks record it). */
export function thisHost(): string {
  try {
    return Deno.hostname();
  } catch {
    return hostname();
  }
}

/** Start time of a process (Linux only): field 22 of `/proc/<pid>/stat`, or null. */
export function processStartTime(pid: number): string | null {
  if (Deno.build.os !== "linux") return null;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return null; // a zombie is not running
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether process `pid` runs on this host; null when that cannot be told (Windows). */
export function processAlive(pid: number): boolean | null {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (Deno.build.os === "linux") return processStartTime(pid) !== null;
  if (Deno.build.os === "windows") return null;
  try {
    const { code } = new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" })
      .outputSync();
    return code === 0;
  } catch {
    return null;
  }
}

/** Describes a holder for messages: `pid 123 on host "a" since 2025-…Z (deno run …)`. */
export function describeHolder(holder: LockHolder | null): string {
  if (!holder) return "an unknown process (the lock file is unreadable)";
  return `pid ${holder.pid} on host ${JSON.stringify(holder.hostname)} since ${holder.startedAt}` +
    (holder.purpose ? ` (${holder.purpose})` : "");
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text);
    if (
      value && typeof value.pid === "number" && typeof value.hostname === "string" &&
      typeof value.token === "string"
    ) return value as LockHolder;
  } catch {
    // fall through: unreadable
  }
  return null;
}

/** Reads a lock file: the holder, null if unreadable, undefined if there is no lock. */
export async function readLock(path: string): Promise<LockHolder | null | undefined> {
  try {
    return parseHolder(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

type HolderState = "alive" | "dead" | "unknown";

/** Whether the holder still runs: `unknown` for another host (or an OS where we cannot tell). */
export function holderState(holder: LockHolder): HolderState {
  if (holder.hostname !== thisHost()) return "unknown";
  if (holder.pid === Deno.pid) {
    if (heldHere.has(holder.token)) return "alive";
    // Our pid, another token: a lock of an earlier process that had our pid (it recorded another
    // start time), or of another worker of this very process (deno test --parallel runs test
    // files as workers, each with its own module state): that one is alive.
    const start = processStartTime(Deno.pid);
    return holder.processStart && start !== null && holder.processStart !== start
      ? "dead"
      : "alive";
  }
  const alive = processAlive(holder.pid);
  if (alive === null) return "unknown";
  if (!alive) return "dead";
  const start = holder.processStart ? processStartTime(holder.pid) : null;
  // Same pid, different start time: the holder died and the pid was reused.
  if (start !== null && start !== holder.processStart) return "dead";
  return "alive";
}

async function tryCreate(path: string, text: string): Promise<boolean> {
  const tmp = tempPathBeside(path);
  try {
    await Deno.writeTextFile(tmp, text);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    // The folder went away while we waited (its creator gave up on it): the lock makes it again.
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(tmp, text);
  }
  try {
    await Deno.link(tmp, path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    // Our temporary file, or the folder, went away under us: the holder of the lock cleans up
    // the temporary files of interrupted runs and removes a folder it leaves empty. Not taken;
    // the caller tries again, which makes the folder again.
    if (e instanceof Deno.errors.NotFound) return false;
    // No hard links here (some network or FUSE file systems): exclusive create instead.
    try {
      await Deno.writeTextFile(path, text, { createNew: true });
      return true;
    } catch (e2) {
      if (e2 instanceof Deno.errors.AlreadyExists) return false;
      throw e2;
    }
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/**
 * Removes a stale lock without removing a fresh one that another process created in between:
 * the file is first renamed to a private name (atomic), and put back if it is not the stale one.
 */
async function breakStaleLock(path: string, stale: LockHolder | null): Promise<void> {
  const aside = `${path}.stale-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.rename(path, aside);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return; // someone else broke it first
    throw e;
  }
  const moved = parseHolder(await Deno.readTextFile(aside).catch(() => ""));
  if (moved && moved.token !== stale?.token) {
    // We moved a live lock taken in the meantime (or the stale one was unreadable and this one is
    // not): put it back. If that fails, keep the file aside: a lock must never be dropped.
    try {
      await Deno.link(aside, path);
    } catch {
      return;
    }
  }
  await Deno.remove(aside).catch(() => {});
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function commandLine(): string {
  const args = Deno.args.join(" ");
  return `${basename(Deno.execPath())} ${Deno.mainModule.replace(/^file:\/\//, "")}${
    args ? ` ${args}` : ""
  }`;
}

/**
 * Takes the lock file `path` (its folder must exist).
 *
 * @throws {LockHeldError} if another live process holds it and `wait` is not set, naming the
 *   holder; with `wait`, polls until the lock is free or stale.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<Lock> {
  const log = options.log ?? stderrLog;
  const what = options.what ?? path;
  const token = crypto.randomUUID();
  const holder: LockHolder = {
    pid: Deno.pid,
    hostname: thisHost(),
    startedAt: new Date().toISOString(),
    ...(processStartTime(Deno.pid) !== null ? { processStart: processStartTime(Deno.pid)! } : {}),
    token,
    purpose: options.purpose ?? commandLine(),
  };
  const text = JSON.stringify(holder, null, 2) + "\n";
  let delay = options.pollMs ?? 100;
  let announced = false;
  while (true) {
    if (options.signal?.aborted) throw options.signal.reason;
    // Registered before the file exists, so that a concurrent taker in this worker never
    // sees our own fresh lock as stale.
    heldHere.add(token);
    let created = false;
    try {
      created = await tryCreate(path, text);
    } finally {
      if (!created) heldHere.delete(token);
    }
    if (created) {
      return {
        path,
        holder,
        async release() {
          if (!heldHere.delete(token)) return;
          const current = await readLock(path).catch(() => null);
          if (current?.token === token) await Deno.remove(path).catch(() => {});
        },
      };
    }
    const current = await readLock(path);
    if (current === undefined) continue; // released between our attempt and the read
    let state: HolderState;
    if (current === null) {
      // Being written by a process without hard links, or debris: give it a grace period.
      const age = Date.now() - ((await Deno.stat(path).catch(() => null))?.mtime?.getTime() ?? 0);
      state = age > UNREADABLE_GRACE_MS ? "dead" : "alive";
    } else {
      state = holderState(current);
    }
    if (state === "dead") {
      log(
        `warning: taking over the stale lock ${path} of ${describeHolder(current)}: ` +
          "that process is no longer running",
      );
      await breakStaleLock(path, current);
      continue;
    }
    if (!options.wait) {
      const how = state === "alive"
        ? `wait for it to finish${options.waitHint ? ` or ${options.waitHint}` : ""}`
        : `it runs on another host, which cannot be checked from here: if it is no longer ` +
          `running there, delete ${path}`;
      throw new LockHeldError(
        path,
        current,
        `${what} is in use by ${describeHolder(current)}: ${how}`,
      );
    }
    if (!announced) {
      log(`waiting for ${what}, in use by ${describeHolder(current)}`);
      announced = true;
    }
    await abortableSleep(delay, options.signal);
    delay = Math.min(2000, delay * 2);
  }
}
