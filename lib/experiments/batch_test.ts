import assert from "node:assert/strict";
import { join } from "node:path";
import { chooseBatch, DEFAULT_BATCH } from "./batch.ts";

Deno.test("an explicit batch is used as it is", async () => {
  assert.deepEqual(await chooseBatch(5, { device: "cpu", latentSize: 64 }), {
    size: 5,
    source: "spec",
  });
});

Deno.test("auto uses the bench record only for the same device and latent size", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "bench.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ settings: { latentSize: 64, threads: 2 }, unet: { best: { batch: 4 } } }),
    );
    assert.deepEqual(
      await chooseBatch("auto", { device: "cpu", latentSize: 64, benchFile: file }),
      {
        size: 4,
        source: `bench ${file}`,
      },
    );
    const tiny = await chooseBatch("auto", { device: "cpu", latentSize: 16, benchFile: file });
    assert.deepEqual(tiny, { size: DEFAULT_BATCH.cpu, source: "default for cpu" });
    const oneThread = await chooseBatch("auto", {
      device: "cpu",
      latentSize: 64,
      threads: 1,
      benchFile: file,
    });
    assert.deepEqual(oneThread, { size: DEFAULT_BATCH.cpu, source: "default for cpu" });
    const gpu = await chooseBatch("auto", { device: "cuda", latentSize: 64, benchFile: file });
    assert.deepEqual(gpu, { size: DEFAULT_BATCH.cuda, source: "default for cuda" });
    await Deno.writeTextFile(file, "{ truncated");
    assert.equal(
      (await chooseBatch("auto", { device: "cpu", latentSize: 64, benchFile: file })).size,
      2,
    );
    const missing = join(dir, "none.json");
    assert.equal(
      (await chooseBatch("auto", { device: "cpu", latentSize: 64, benchFile: missing })).size,
      2,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
