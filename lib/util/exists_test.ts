import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "./exists.ts";

Deno.test("exists: a file and a folder yes, a missing name no, a dangling symlink no", async () => {
  const dir = await Deno.makeTempDir({ prefix: "exists_" });
  try {
    await Deno.writeTextFile(join(dir, "a"), "x");
    await Deno.symlink(join(dir, "gone"), join(dir, "link"));
    assert.equal(await exists(join(dir, "a")), true);
    assert.equal(await exists(dir), true);
    assert.equal(await exists(join(dir, "missing")), false);
    assert.equal(await exists(join(dir, "link")), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
