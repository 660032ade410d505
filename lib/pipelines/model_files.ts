/**
 * Checks a converted model folder against its own `model.json` before a run uses it: every file
 * listed there must exist with the recorded SHA-256. A truncated or damaged `unet.onnx` might
 * still load and silently give wrong faces; and frame keys are built from these hashes, so a file
 * that no longer matches them would also poison the resume cache.
 *
 * @module
 */

import { join } from "node:path";
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

/**
 * Verifies the files of the converted model in `dir` against the SHA-256 in its `model.json`.
 *
 * @throws {ModelFileError} naming the file: `model.json` missing, not JSON or without hashes; a
 *   listed file missing or with another SHA-256 (damaged or truncated).
 */
export async function verifyModelFiles(
  dir: string,
  log: (message: string) => void = () => {},
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
  // Hashing 1.2 GB takes seconds: a folder already verified by this process, whose files have
  // kept their size and modification time, is not hashed again (resolveModel, then the runner).
  const signature = await filesSignature(dir, Object.keys(hashes as object), text);
  if (signature !== undefined && verified.get(dir) === signature) return;
  const started = performance.now();
  for (const [file, expected] of Object.entries(hashes as Record<string, unknown>)) {
    const path = join(dir, file);
    let actual: string;
    let size: number;
    try {
      size = (await Deno.stat(path)).size;
      actual = await sha256File(path);
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
  if (signature !== undefined) verified.set(dir, signature);
}

/** Folders verified by this process, with the signature of their files at that time. */
const verified = new Map<string, string>();

/** Sizes and modification times of the listed files and the model.json text, or undefined. */
async function filesSignature(
  dir: string,
  files: string[],
  infoText: string,
): Promise<string | undefined> {
  const parts: unknown[] = [infoText];
  for (const file of files) {
    const info = await Deno.stat(join(dir, file)).catch(() => undefined);
    if (!info?.mtime) return undefined;
    parts.push([file, info.size, info.mtime.getTime()]);
  }
  return JSON.stringify(parts);
}
