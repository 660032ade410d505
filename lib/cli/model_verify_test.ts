import assert from "node:assert/strict";
import { join } from "node:path";
import { convertDiffusers } from "../convert/convert.ts";
import { verifyModelFiles } from "../pipelines/model_files.ts";
import { runDeno } from "../util/_test_process.ts";

const TINY = new URL("../testdata/ldm-reference/tiny-ldm/", import.meta.url).pathname;

Deno.test("model:verify hashes every file in full: it catches an edit that kept size and mtime", async () => {
  const dir = await Deno.makeTempDir({ prefix: "model_verify_" });
  try {
    const out = join(dir, "model");
    await convertDiffusers(TINY, out);
    const path = join(out, "vqvae_decoder.onnx");
    const { mtime } = await Deno.stat(path);
    const bytes = await Deno.readFile(path);
    bytes[bytes.length - 100] ^= 1;
    await Deno.writeFile(path, bytes);
    await Deno.utime(path, mtime!, mtime!);
    await verifyModelFiles(out); // runs trust the size-and-mtime record: not caught there
    const { code, stdout, stderr } = await runDeno(["run", "-A", "lib/cli/model_verify.ts", out]);
    assert.equal(code, 1, stdout + stderr);
    assert.match(stderr, new RegExp(`^model:verify: error: ${path} is damaged or truncated`, "m"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
