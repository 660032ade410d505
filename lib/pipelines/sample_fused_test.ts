import assert from "node:assert/strict";
import { agreement, maxAbs, pipelineCases } from "./_test_util.ts";
import { join } from "node:path";
import { toFloat32 } from "../io/tensor.ts";
import { cudaProviderStatus } from "./cuda.ts";
import { loadModel, ModelLoadError, resolveModel, sample } from "./mod.ts";
import type { LoadedModel } from "./model.ts";

const pipeline = pipelineCases;

/** Largest difference relative to the largest magnitude of `b`. */
function relativeDiff(a: Float32Array, b: Float32Array): number {
  return agreement(a, b, 0).max / maxAbs(b);
}

let shared: LoadedModel | undefined;
async function tinyModel(): Promise<LoadedModel> {
  shared ??= await loadModel(await resolveModel("tiny"), { threads: 1 });
  return shared;
}

/** Fused and step-by-step sampling may differ only by the UNet's rounding inside the loop. */
const FUSED_VS_STEPWISE = 1e-5;

for (const name of Object.keys(pipeline.metadata)) {
  Deno.test(`fused sampling reproduces diffusers' colour injection: ${name}`, async () => {
    const c = JSON.parse(pipeline.metadata[name]);
    const model = await tinyModel();
    const options = {
      seed: c.seed,
      steps: c.steps,
      colors: c.colors,
      scale: c.scale,
      window: c.window,
    };
    // A chunk of 7 steps puts chunk boundaries inside the paper's window [1, 10].
    const fused = await sample(model, { ...options, fused: true, chunkSize: 7 });
    assert.equal(fused.timings.fused, true);
    assert.equal(fused.timings.runs, Math.ceil(c.steps / 7));
    const refImage = toFloat32(pipeline.tensors.get(`${name}/image`)!);
    const refLatents = toFloat32(pipeline.tensors.get(`${name}/latents`)!);
    const img = agreement(fused.images, refImage, 2e-3);
    assert.ok(
      img.share >= 0.999,
      `${name}: only ${(img.share * 100).toFixed(3)} % of image values within 2e-3`,
    );
    const lat = agreement(fused.latents, refLatents, 1e-3 * maxAbs(refLatents));
    assert.equal(lat.share, 1, `${name}: latents differ by up to ${lat.max}`);

    const stepwise = await sample(model, { ...options, fused: false });
    assert.equal(stepwise.timings.fused, false);
    const rel = relativeDiff(fused.latents, stepwise.latents);
    console.log(
      `  ${name}: fused vs diffusers latents max ${lat.max.toExponential(2)}, ` +
        `fused vs step-by-step ${rel.toExponential(2)} of max |latent|`,
    );
    assert.ok(rel <= FUSED_VS_STEPWISE, `${name}: fused vs step-by-step differ by ${rel}`);
  });
}

Deno.test("fused sampling agrees with step-by-step whatever the chunking, gaussian mode too", async () => {
  const model = await tinyModel();
  const colors: [number, number, number][] = [[0.9, 0.1, 0.4], [0, 1, 0.5]];
  // 23 steps: not a multiple of the chunk sizes; the window [4, 13] crosses chunk boundaries.
  const base = { seed: 11, steps: 23, scale: 0.3, window: [4, 13] as [number, number], colors };
  for (const mode of ["constant", "gaussian"] as const) {
    const stepwise = await sample(model, { ...base, mode, fused: false });
    for (const chunkSize of [1, 5, 23, 50]) {
      const seen: number[] = [];
      const fused = await sample(model, {
        ...base,
        mode,
        fused: true,
        chunkSize,
        onStep: (k, steps) => {
          assert.equal(steps, 23);
          seen.push(k);
        },
      });
      assert.deepEqual(seen, Array.from({ length: 23 }, (_, i) => i + 1));
      assert.equal(fused.timings.runs, Math.ceil(23 / chunkSize));
      const rel = relativeDiff(fused.latents, stepwise.latents);
      console.log(`  ${mode}, chunk ${chunkSize}: ${rel.toExponential(2)} of max |latent|`);
      assert.ok(rel <= FUSED_VS_STEPWISE, `${mode}, chunk ${chunkSize}: differ by ${rel}`);
      assert.ok(agreement(fused.images, stepwise.images, 1 / 255).share === 1);
    }
  }
});

Deno.test("fused: a colour gives the same image alone and inside a batch", async () => {
  const model = await tinyModel();
  const colors: [number, number, number][] = [[0.9, 0.1, 0.4], [0, 1, 0], [0.2, 0.5, 0.9]];
  const opts = { seed: 7, steps: 12, scale: 0.5, window: [1, 5] as [number, number], fused: true };
  for (const mode of ["constant", "gaussian"] as const) {
    const batch = await sample(model, { ...opts, mode, colors, chunkSize: 5 });
    const per = batch.images.length / colors.length;
    const alone = await sample(model, { ...opts, mode, colors: [colors[1]], chunkSize: 5 });
    const { max } = agreement(alone.images, batch.images.subarray(per, 2 * per), 0);
    assert.ok(max <= 1 / 255, `${mode}: differs by ${max} between batch and alone`);
  }
});

Deno.test("fused sampling: off by default on the CPU, refuses eta > 0 and bad chunk sizes", async () => {
  const model = await tinyModel();
  assert.equal(model.device, "cpu");
  assert.equal(model.hasFusedLoop, true);
  const base = { seed: 0, steps: 4, window: [1, 2] as [number, number], colors: ["#ff0000"] };
  assert.equal((await sample(model, base)).timings.fused, false);
  await assert.rejects(sample(model, { ...base, fused: true, eta: 0.5 }), /fused.*eta 0/);
  await assert.rejects(sample(model, { ...base, fused: true, chunkSize: 0 }), /chunkSize/);
});

Deno.test("fused sampling on a folder without unet_loop.onnx says to re-convert", async () => {
  const src = await resolveModel("tiny");
  const dir = await Deno.makeTempDir({ prefix: "sample_fused_test_" });
  try {
    for (const entry of Deno.readDirSync(src)) {
      if (entry.name !== "unet_loop.onnx") {
        await Deno.copyFile(join(src, entry.name), join(dir, entry.name));
      }
    }
    const model = await loadModel(dir, { threads: 1 });
    try {
      assert.equal(model.hasFusedLoop, false);
      await assert.rejects(
        sample(model, { seed: 0, steps: 2, window: [1, 1], colors: ["#00ff00"], fused: true }),
        (e: Error) => e instanceof ModelLoadError && /unet_loop\.onnx.*re-run/.test(e.message),
      );
    } finally {
      await model.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const noCuda = !cudaProviderStatus().available;

Deno.test({
  name: "device cuda without the CUDA provider fails naming the install command",
  ignore: !noCuda,
  async fn() {
    const dir = await resolveModel("tiny");
    await assert.rejects(
      loadModel(dir, { device: "cuda", threads: 1 }),
      (e: Error) =>
        e instanceof ModelLoadError &&
        e.message.includes("deno install --allow-scripts=npm:onnxruntime-node") &&
        e.message.includes("libonnxruntime_providers_cuda") &&
        // Not the ignored ONNXRUNTIME_NODE_INSTALL=cuda12 (onnxruntime-node's install-utils.js).
        !e.message.includes("ONNXRUNTIME_NODE_INSTALL"),
    );
  },
});

Deno.test({
  name: "device auto without the CUDA provider runs on the CPU after exactly one warning",
  ignore: !noCuda,
  async fn() {
    const warnings: string[] = [];
    const model = await loadModel(await resolveModel("tiny"), {
      device: "auto",
      threads: 1,
      warn: (m) => warnings.push(m),
    });
    try {
      assert.equal(model.device, "cpu");
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /CUDA is not available.*running on the CPU/);
      const { timings } = await sample(model, {
        seed: 0,
        steps: 2,
        window: [1, 1],
        colors: ["#0000ff"],
      });
      assert.equal(timings.fused, false);
      assert.equal(warnings.length, 1);
    } finally {
      await model.release();
    }
  },
});

Deno.test("release the shared tiny model", async () => {
  await shared?.release();
});
