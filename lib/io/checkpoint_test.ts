import assert from "node:assert/strict";
import { findWeightsFile, loadCheckpoint, WEIGHTS_FILE_NAMES } from "./checkpoint.ts";
import { SafetensorsError } from "./safetensors.ts";
import { TorchCheckpointError } from "./torch_checkpoint.ts";

const REF = new URL("../testdata/ldm-reference/", import.meta.url).pathname;

Deno.test("checkpoint: loadCheckpoint dispatches on extension; both formats agree", async () => {
  for (const c of ["unet", "vqvae"]) {
    const st = await loadCheckpoint(`${REF}tiny-ldm/${c}/diffusion_pytorch_model.safetensors`);
    const pt = await loadCheckpoint(`${REF}tiny-ldm/${c}/diffusion_pytorch_model.bin`);
    assert.deepEqual([...pt.keys()].sort(), [...st.keys()].sort());
    for (const [name, t] of st) assert.deepEqual(pt.get(name), t, name);
  }
});

Deno.test("checkpoint: .pt/.pth/.ckpt are torch, unknown extensions are refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bin = await Deno.readFile(`${REF}tiny-ldm/vqvae/diffusion_pytorch_model.bin`);
    const want = await loadCheckpoint(`${REF}tiny-ldm/vqvae/diffusion_pytorch_model.bin`);
    for (const ext of [".pt", ".pth", ".CKPT"]) {
      await Deno.writeFile(`${dir}/w${ext}`, bin);
      const got = await loadCheckpoint(`${dir}/w${ext}`);
      assert.deepEqual([...got.keys()], [...want.keys()], ext);
    }
    await Deno.writeFile(`${dir}/w.onnx`, bin);
    await assert.rejects(
      loadCheckpoint(`${dir}/w.onnx`),
      /unknown weights file extension "\.onnx".*\.safetensors, \.bin/,
    );
    await assert.rejects(loadCheckpoint(`${dir}/weights`), /unknown weights file extension ""/);
    // Content is checked against the extension's format, with that format's error.
    await Deno.writeFile(`${dir}/swapped.safetensors`, bin);
    await assert.rejects(loadCheckpoint(`${dir}/swapped.safetensors`), SafetensorsError);
    await Deno.copyFile(
      `${REF}tiny-ldm/vqvae/diffusion_pytorch_model.safetensors`,
      `${dir}/swapped.bin`,
    );
    await assert.rejects(loadCheckpoint(`${dir}/swapped.bin`), TorchCheckpointError);
    await assert.rejects(loadCheckpoint(`${dir}/absent.bin`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint: findWeightsFile prefers safetensors, falls back to .bin, explains failure", async () => {
  assert.equal(
    await findWeightsFile(`${REF}tiny-ldm/unet`),
    `${REF}tiny-ldm/unet/diffusion_pytorch_model.safetensors`,
  );
  assert.equal(
    await findWeightsFile(`${REF}tiny-ldm-legacy/unet/`),
    `${REF}tiny-ldm-legacy/unet/diffusion_pytorch_model.bin`,
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/config.json`, "{}");
    await assert.rejects(findWeightsFile(dir), (e: Error) => {
      for (const name of WEIGHTS_FILE_NAMES) assert.ok(e.message.includes(name), e.message);
      assert.ok(e.message.includes(dir) && e.message.includes("config.json"), e.message);
      return true;
    });
    await assert.rejects(
      findWeightsFile(`${dir}/missing`),
      /looked for .*the folder does not exist/,
    );
    // A folder named like a weights file is not a weights file.
    await Deno.mkdir(`${dir}/diffusion_pytorch_model.safetensors`);
    await Deno.writeFile(`${dir}/diffusion_pytorch_model.bin`, new Uint8Array(1));
    assert.equal(await findWeightsFile(dir), `${dir}/diffusion_pytorch_model.bin`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
