/**
 * Content hashes the hub uses as etags: sha256 of the file for LFS files, and the git blob id
 * (sha1 of `"blob {size}\0"` + content) for small files kept in git. Files are hashed as a
 * stream, so a gigabyte checkpoint never has to fit in memory.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** Which hash an etag is: `sha256` (64 hex digits), `git-sha1` (40), or `unknown`. */
export function etagKind(etag: string): "sha256" | "git-sha1" | "unknown" {
  if (/^[0-9a-f]{64}$/.test(etag)) return "sha256";
  if (/^[0-9a-f]{40}$/.test(etag)) return "git-sha1";
  return "unknown";
}

/** Hex digest of a file's content, read as a stream. `kind` as in {@link etagKind}. */
export async function hashFile(path: string, kind: "sha256" | "git-sha1"): Promise<string> {
  const hash = createHash(kind === "sha256" ? "sha256" : "sha1");
  if (kind === "git-sha1") hash.update(`blob ${(await Deno.stat(path)).size}\0`);
  // The readable stream closes the file when it ends or is cancelled.
  const file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/** Hex digest of in-memory bytes, with the same meaning of `kind` as {@link hashFile}. */
export function hashBytes(bytes: Uint8Array, kind: "sha256" | "git-sha1"): string {
  const hash = createHash(kind === "sha256" ? "sha256" : "sha1");
  if (kind === "git-sha1") hash.update(`blob ${bytes.byteLength}\0`);
  hash.update(bytes);
  return hash.digest("hex");
}
