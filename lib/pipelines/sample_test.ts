import assert from "node:assert/strict";
import { agreement, FIXTURES, maxAbs, pipelineCases } from "./_test_util.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { toFloat32 } from "../io/tensor.ts";
import { DDIMScheduler } from "../schedulers/mod.ts";
import { loadModel, resolveModel, sample } from "./mod.ts";
import type { LoadedModel } from "./model.ts";

const pipeline = pipelineCases;

interface Case {
  seed: number;
  steps: number;
  colors: [number, number, number][];
  scale: number;
  window: [number, number];
}

let shared: LoadedModel | undefined;
async function tinyModel(): Promise<LoadedModel> {
  shared ??= await loadModel(await resolveModel("tiny"), { threads: 1 });
  return shared;
}

for (const name of Object.keys(pipeline.metadata)) {
  Deno.test(`sample reproduces diffusers' colour injection: ${name}`, async () => {
    const c: Case = JSON.parse(pipeline.metadata[name]);
    const model = await tinyModel();
    const result = await sample(model, {
      seed: c.seed,
      steps: c.steps,
      colors: c.colors,
      scale: c.scale,
      window: c.window,
    });
    const refImage = toFloat32(pipeline.tensors.get(`${name}/image`)!);
    const refLatents = toFloat32(pipeline.tensors.get(`${name}/latents`)!);
    const img = agreement(result.images, refImage, 2e-3);
    assert.ok(
      img.share >= 0.999,
      `${name}: only ${
        (img.share * 100).toFixed(3)
      } % of image values within 2e-3 (max ${img.max})`,
    );
    const lat = agreement(result.latents, refLatents, 1e-3 * maxAbs(refLatents));
    assert.equal(lat.share, 1, `${name}: latents differ by up to ${lat.max}`);
  });
}

Deno.test("sample with latentScale 0.18215 reproduces the stock diffusers LDMPipeline", async () => {
  const stock = await readSafetensors(new URL("ldmpipeline_stock.safetensors", FIXTURES).pathname);
  const nhwc = toFloat32(stock.tensors.get("image_nhwc")!);
  const model = await tinyModel();
  const { images } = await sample(model, {
    seed: 0,
    steps: 50,
    colors: [[0, 0, 0]],
    scale: 0,
    latentScale: 0.18215,
  });
  const size = model.imageSize;
  const nchw = new Float32Array(nhwc.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) nchw[(c * size + y) * size + x] = nhwc[(y * size + x) * 3 + c];
    }
  }
  const img = agreement(images, nchw, 2e-3);
  assert.ok(img.share >= 0.999, `only ${img.share} within 2e-3 (max ${img.max})`);
});

Deno.test("a colour gives the same image alone and inside a batch of 4", async () => {
  const model = await tinyModel();
  const colors: [number, number, number][] = [[0.9, 0.1, 0.4], [0, 1, 0], [0.2, 0.5, 0.9], [
    1,
    1,
    0,
  ]];
  const opts = { seed: 7, steps: 20, scale: 0.5, window: [1, 5] as [number, number] };
  for (const mode of ["constant", "gaussian"] as const) {
    const batch = await sample(model, { ...opts, mode, colors });
    const per = batch.images.length / 4;
    for (const i of [0, 2]) {
      const alone = await sample(model, { ...opts, mode, colors: [colors[i]] });
      const { max } = agreement(alone.images, batch.images.subarray(i * per, (i + 1) * per), 0);
      assert.ok(max <= 1 / 255, `${mode}: colour ${i} differs by ${max} between batch and alone`);
    }
  }
});

Deno.test("gaussian mode is seeded and differs from constant mode", async () => {
  const model = await tinyModel();
  const opts = { seed: 3, steps: 10, scale: 1, colors: ["#ff8000"] };
  const a = await sample(model, { ...opts, mode: "gaussian" });
  const b = await sample(model, { ...opts, mode: "gaussian" });
  const c = await sample(model, { ...opts, mode: "constant" });
  assert.deepEqual(a.latents, b.latents);
  assert.ok(agreement(a.latents, c.latents, 1e-4).share < 0.5);
});

Deno.test("sample refuses bad inputs before running, naming the field", async () => {
  const model = await tinyModel();
  const base = { seed: 0, steps: 10, colors: [[1, 0, 0] as [number, number, number]] };
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ steps: 0 }, /^RangeError: steps/],
    [{ steps: 2.5 }, /^RangeError: steps/],
    [{ window: [0, 3] }, /^RangeError: window/],
    [{ window: [1, 11] }, /^RangeError: window/],
    [{ scale: NaN }, /^RangeError: scale/],
    [{ mode: "sideways" }, /^RangeError: mode/],
    [{ latentScale: 0 }, /^RangeError: latentScale/],
    [{ colors: [] }, /^RangeError: colors/],
    [{ colors: [[2, 0, 0.5]] }, /invalid colour/],
    [{ seed: -1 }, /RangeError/],
  ];
  for (const [override, pattern] of bad) {
    await assert.rejects(sample(model, { ...base, ...override } as never), pattern);
  }
});

Deno.test("the step loop feeds the UNet the same tensors every step and updates them in place", async () => {
  const model = await tinyModel();
  const calls: { feeds: object; sample: unknown; timestep: unknown; t: number }[] = [];
  const unet = await model.unet();
  const spy = {
    run(feeds: Record<string, { data: Float32Array }>) {
      calls.push({
        feeds,
        sample: feeds.sample.data,
        timestep: feeds.timestep.data,
        t: feeds.timestep.data[0],
      });
      return unet.run(feeds as never);
    },
  };
  const result = await sample({ ...model, unet: () => Promise.resolve(spy as never) }, {
    seed: 1,
    steps: 12,
    colors: ["#ff0000", "#0000ff"],
    scale: 0.5,
    fused: false,
  });
  assert.equal(calls.length, 12);
  for (const call of calls) {
    assert.equal(call.feeds, calls[0].feeds, "one feeds object for the whole loop");
    assert.equal(call.sample, calls[0].sample, "one latents buffer");
    assert.equal(call.timestep, calls[0].timestep, "one timestep buffer");
  }
  // The buffer the UNet read is the one returned: the DDIM step wrote into it in place.
  assert.equal(result.latents, calls[0].sample);
  // Every step's timestep, in the scheduler's order (913, 830, … for 12 "leading" steps).
  const scheduler = new DDIMScheduler(model.info.scheduler);
  assert.deepEqual(calls.map((c) => c.t), Array.from(scheduler.setTimesteps(12)));
});

Deno.test("release the shared tiny model", async () => {
  await shared?.release();
});
