/**
 * SHA-256 helpers. Files are hashed as a stream so a 1.1 GB checkpoint is never held twice.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** Lower-case hex SHA-256 of bytes. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Lower-case hex SHA-256 of a file's contents, read in chunks. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}
