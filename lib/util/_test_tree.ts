/**
 * Test helper: the state of a folder tree, for "nothing was written" checks that do not depend on
 * timestamps (a filesystem's coarse mtimes make "newer than" checks flaky).
 *
 * @module
 */

import { join } from "node:path";
import { sha256File } from "./hash.ts";

/** Every path under `dir` with the SHA-256 of each file (folders as "dir"). */
export async function treeDigest(dir: string, prefix = ""): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const path = join(prefix, entry.name);
    if (entry.isDirectory) Object.assign(entries, { [path]: "dir" }, await treeDigest(dir, path));
    else entries[path] = await sha256File(join(dir, path));
  }
  return entries;
}
