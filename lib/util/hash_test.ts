import assert from "node:assert/strict";
import { join } from "node:path";
import { readFileWithSha256, sha256File, sha256Hex } from "./hash.ts";

Deno.test("readFileWithSha256 returns the file's bytes and their SHA-256, across read chunks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Empty, small, and larger than one 16 MiB read.
    for (const size of [0, 3, (16 << 20) * 2 + 5]) {
      const path = join(dir, `f${size}`);
      const data = Uint8Array.from({ length: size }, (_, i) => (i * 31 + (i >> 12)) & 0xff);
      await Deno.writeFile(path, data);
      const { bytes, sha256 } = await readFileWithSha256(path);
      assert.deepEqual(bytes, data, `${size} bytes`);
      assert.equal(sha256, sha256Hex(data));
      assert.equal(sha256, await sha256File(path));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
