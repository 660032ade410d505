/**
 * Checks a converted model folder against its own `model.json` before a run uses it: every file
 * listed there must exist with the recorded SHA-256. A truncated or damaged `unet.onnx` might
 * still load and silently give wrong faces; and frame keys are built from these hashes, so a file
 * that no longer matches them would also poison the resume cache.
 *
 * Hashing the 1.2 GB of a real model takes seconds, and every run and every shard checks it, so
 * a verified hash is remembered beside the model in `.verified.json` with the file's size and
 * modification time, and reused while both are unchanged (a new conversion, a copy or an edit
 * changes the modification time). `FLUIDITY_REHASH=1`, or deleting the record, forces a full check.
 *
 * @module
 */

import { join } from "node:path";
import { writeTextFileAtomic } from "../util/atomic.ts";
import { sha256File } from "../util/hash.ts";
/** A model file is missing, unreadable or does not match `model.json`. */
export class ModelFileError extends Error {
  /** The offending file. */
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.name = "ModelFileError";
    this.path = path;
  }
}

function redoHint(dir: string): string {
  return `convert the model again (deno task model:convert / model:fetch, or delete ${dir} ` +
    `and run again with --model tiny for the bundled test model)`;
}

/** The record of verified hashes, beside model.json. */
export const VERIFIED_RECORD_FILE = ".verified.json";

/** Environment variable that, set to `1`, makes every check hash every file again. */
export const REHASH_ENV = "FLUIDITY_REHASH";

/** A file's verified SHA-256 and the size and modification time it had when hashed. */
export interface VerifiedFile {
  /** Bytes. */
  size: number;
  /** Modification time, milliseconds since the epoch. */
  mtimeMs: number;
  /** Lower-case hex SHA-256, the value model.json records. */
  sha256: string;
}

/** Options of {@link verifyModelFiles}. */
export interface VerifyModelOptions {
  /** Hash every file, ignoring the record (default: `FLUIDITY_REHASH=1` in the environment). */
  rehash?: boolean;
  /** Hashes a file (default: {@link sha256File}); tests count the bytes read through it. */
  hashFile?: (path: string) => Promise<string>;
}

/**
 * Verifies the files of the converted model in `dir` against the SHA-256 in its `model.json`.
 * A file whose size and modification time are those recorded in `.verified.json` with the same
 * SHA-256 that model.json lists is not read again; every other file is hashed, and the record is
 * rewritten (atomically) once all files match.
 *
 * @throws {ModelFileError} naming the file: `model.json` missing, not JSON or without hashes; a
 *   listed file missing or with another SHA-256 (damaged or truncated).
 */
export async function verifyModelFiles(
  dir: string,
  log: (message: string) => void = () => {},
  options: VerifyModelOptions = {},
): Promise<void> {
  const infoPath = join(dir, "model.json");
  let text: string;
  try {
    text = await Deno.readTextFile(infoPath);
  } catch (e) {
    throw new ModelFileError(
      infoPath,
      `cannot read ${infoPath} (${(e as Error).message}): ${dir} is not a complete converted ` +
        `model; ${redoHint(dir)}`,
    );
  }
  let hashes: unknown;
  try {
    hashes = JSON.parse(text)?.sha256;
  } catch (e) {
    throw new ModelFileError(
      infoPath,
      `${infoPath} is damaged (not valid JSON: ${(e as Error).message}); ${redoHint(dir)}`,
    );
  }
  if (
    !hashes || typeof hashes !== "object" || Array.isArray(hashes) ||
    Object.keys(hashes).length === 0
  ) {
    throw new ModelFileError(
      infoPath,
      `${infoPath} lists no file hashes ("sha256"), so its files cannot be checked; ${
        redoHint(dir)
      }`,
    );
  }
  const rehash = options.rehash ?? rehashRequested();
  const hashFile = options.hashFile ?? sha256File;
  const known = rehash ? {} : await readVerifiedRecord(dir);
  const verified: Record<string, VerifiedFile> = {};
  let hashedBytes = 0;
  const started = performance.now();
  for (const [file, expected] of Object.entries(hashes as Record<string, unknown>)) {
    const path = join(dir, file);
    let actual: string;
    let size: number;
    try {
      // Stat before hashing: a file that changes meanwhile gets a newer mtime than recorded.
      const stat = await Deno.stat(path);
      size = stat.size;
      const mtimeMs = stat.mtime?.getTime();
      const record = known[file];
      if (
        record && mtimeMs !== undefined && record.size === size && record.mtimeMs === mtimeMs &&
        record.sha256 === expected
      ) {
        verified[file] = record;
        continue;
      }
      actual = await hashFile(path);
      hashedBytes += size;
      if (mtimeMs !== undefined) verified[file] = { size, mtimeMs, sha256: actual };
    } catch (e) {
      throw new ModelFileError(
        path,
        `${path} is missing or unreadable (${(e as Error).message}); it is listed in ` +
          `${infoPath}: ${redoHint(dir)}`,
      );
    }
    if (actual !== expected) {
      throw new ModelFileError(
        path,
        `${path} is damaged or truncated (${size} bytes, SHA-256 ${actual.slice(0, 12)}…, ` +
          `${infoPath} records ${String(expected).slice(0, 12)}…); ${redoHint(dir)}`,
      );
    }
  }
  const ms = performance.now() - started;
  if (ms > 2000) log(`checked the model files in ${dir} (${(ms / 1000).toFixed(1)} s)`);
  if (hashedBytes > 0 || Object.keys(known).length !== Object.keys(verified).length) {
    try {
      await writeVerifiedRecord(dir, verified);
    } catch (e) {
      log(
        `cannot record the verified hashes in ${join(dir, VERIFIED_RECORD_FILE)} ` +
          `(${(e as Error).message}): the model files will be hashed again next time`,
      );
    }
  }
}

/**
 * Records `files` (name → size, modification time and SHA-256, as just verified or written) in
 * `dir`'s `.verified.json`, replacing what was there.
 */
export async function writeVerifiedRecord(
  dir: string,
  files: Readonly<Record<string, VerifiedFile>>,
): Promise<void> {
  const record = { format: "fluidity-verified", version: 1, files };
  await writeTextFileAtomic(
    join(dir, VERIFIED_RECORD_FILE),
    JSON.stringify(record, null, 2) + "\n",
  );
}

/**
 * The size, modification time and given SHA-256 of each file of `dir` named in `sha256`, for
 * {@link writeVerifiedRecord} (files without a modification time are left out).
 */
export async function describeFiles(
  dir: string,
  sha256: Readonly<Record<string, string>>,
): Promise<Record<string, VerifiedFile>> {
  const files: Record<string, VerifiedFile> = {};
  for (const [file, hash] of Object.entries(sha256)) {
    const stat = await Deno.stat(join(dir, file));
    if (stat.mtime) files[file] = { size: stat.size, mtimeMs: stat.mtime.getTime(), sha256: hash };
  }
  return files;
}

/** The well-formed entries of `dir`'s record; nothing when it is missing or damaged. */
async function readVerifiedRecord(dir: string): Promise<Record<string, VerifiedFile>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(join(dir, VERIFIED_RECORD_FILE)));
  } catch {
    return {};
  }
  const files = (parsed as { files?: unknown } | null)?.files;
  if (typeof files !== "object" || files === null || Array.isArray(files)) return {};
  const valid: Record<string, VerifiedFile> = {};
  for (const [file, entry] of Object.entries(files)) {
    const e = entry as Partial<VerifiedFile> | null;
    if (
      Number.isSafeInteger(e?.size) && e!.size! >= 0 && Number.isFinite(e?.mtimeMs) &&
      typeof e?.sha256 === "string" && /^[0-9a-f]{64}$/.test(e.sha256)
    ) {
      valid[file] = { size: e.size!, mtimeMs: e.mtimeMs!, sha256: e.sha256 };
    }
  }
  return valid;
}

function rehashRequested(): boolean {
  try {
    return Deno.env.get(REHASH_ENV) === "1";
  } catch {
    return false; // no permission to read the environment: the record is used
  }
}
