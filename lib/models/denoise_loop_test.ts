import assert from "node:assert/strict";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { GraphBuilder } from "../onnx/graph_builder.ts";
import { saveModel, serializeModel } from "../onnx/serialize.ts";
import { injectColor } from "../pipelines/inject.ts";
import { DDIMScheduler } from "../schedulers/mod.ts";
import { buildDenoiseLoopGraph, type DenoiseLoopOptions } from "./denoise_loop.ts";
import { buildUnetGraph } from "./unet.ts";
import { parseUnetConfig } from "./unet_config.ts";
import { maxAbsDiff, referenceJson, referenceTensors } from "./_test_utils.ts";

const C = 3;
const S = 4;
const ONE = C * S * S;

/**
 * A stand-in "UNet" made of float32 elementwise operations only, so that the loop's result must
 * equal the JavaScript sampler's bit for bit: eps = sample · w + timestep · 1e-3.
 */
function toyUnet() {
  const b = new GraphBuilder({ name: "toy" });
  const x = b.input("sample", "float32", ["batch", C, "height", "width"]);
  const t = b.input("timestep", "float32", ["batch"]);
  const w = b.initializer(
    "w",
    Float32Array.from({ length: ONE }, (_, i) => 0.5 + Math.cos(i)),
    [1, C, S, S],
  );
  const tt = b.mul(b.unsqueeze(t, [1, 2, 3]), b.constFloat([1e-3], []));
  b.output(b.add(b.mul(x, w), tt), "eps", "float32", ["batch", C, "height", "width"]);
  return b.build();
}

function toyEps(x: Float32Array, t: number, w: Float32Array): Float32Array {
  const f = Math.fround;
  const tt = f(t * f(1e-3));
  return x.map((v, i) => f(f(v * w[i % ONE]) + tt));
}

const SCHEDULER = await referenceJson("tiny-ldm/scheduler/scheduler_config.json") as Record<
  string,
  unknown
>;

/** The loop's feeds for steps [first, first + n) of a `steps`-step run. */
function loopFeeds(
  scheduler: DDIMScheduler,
  latents: Float32Array,
  batch: number,
  colors: [number, number, number][],
  scale: number,
  window: [number, number],
  noise: Float32Array | null,
): Record<string, ort.Tensor> {
  const n = scheduler.timesteps.length;
  const table = (f: (k: number, t: number) => number) =>
    new ort.Tensor("float32", Float32Array.from(scheduler.timesteps, (t, j) => f(j + 1, t)), [n]);
  const coefficient = (
    key: "sqrtAlphaProd" | "sqrtBetaProd" | "sqrtAlphaProdPrev" | "directionScale",
  ) => table((_, t) => scheduler.stepCoefficients(t)[key]);
  const field = new Float32Array(batch * ONE);
  colors.forEach((rgb, b) =>
    rgb.forEach((v, c) => field.fill(v, (b * C + c) * S * S, (b * C + c + 1) * S * S))
  );
  return {
    latents: new ort.Tensor("float32", latents.slice(), [batch, C, S, S]),
    trip_count: new ort.Tensor("int64", BigInt64Array.of(BigInt(n)), []),
    timesteps: table((_, t) => t),
    inject_scale: table((k) => (k >= window[0] && k <= window[1] ? scale : 0)),
    sqrt_alpha_prod: coefficient("sqrtAlphaProd"),
    sqrt_beta_prod: coefficient("sqrtBetaProd"),
    sqrt_alpha_prod_prev: coefficient("sqrtAlphaProdPrev"),
    direction_scale: coefficient("directionScale"),
    inject_field: new ort.Tensor("float32", field, [batch, C, S, S]),
    inject_noise: noise
      ? new ort.Tensor("float32", noise, [n, 1, C, S, S])
      : new ort.Tensor("float32", new Float32Array(n).fill(1), [n, 1, 1, 1, 1]),
  };
}

async function runLoop(
  loopOptions: DenoiseLoopOptions,
  schedulerOverrides: Record<string, unknown>,
  gaussian: boolean,
) {
  const unet = toyUnet();
  const w = unet.initializers.find((i) => i.name === "w")!.data as Float32Array;
  const scheduler = new DDIMScheduler({ ...SCHEDULER, ...schedulerOverrides });
  const steps = 12;
  scheduler.setTimesteps(steps);
  const batch = 2;
  const colors: [number, number, number][] = [[1, 0.25, 0], [0.1, 0.9, 0.3]];
  const scale = 0.37;
  const window: [number, number] = [2, 7];
  const start = Float32Array.from({ length: batch * ONE }, (_, i) => Math.sin(i * 0.7) * 2);
  const noise = gaussian
    ? Float32Array.from({ length: steps * ONE }, (_, i) => Math.cos(i * 1.3))
    : null;

  // The JavaScript sampler's arithmetic: injectColor, the model, DDIMScheduler.step.
  const expected = start.slice();
  for (let k = 1; k <= steps; k++) {
    const t = scheduler.timesteps[k - 1];
    if (k >= window[0] && k <= window[1]) {
      injectColor(expected, colors, S * S, scale, noise?.subarray((k - 1) * ONE, k * ONE));
    }
    const eps = new Float32Array(expected.length);
    for (let b = 0; b < batch; b++) {
      eps.set(toyEps(expected.subarray(b * ONE, (b + 1) * ONE), t, w), b * ONE);
    }
    scheduler.step(eps, t, expected, { out: expected });
  }

  const graph = buildDenoiseLoopGraph(unet, loopOptions);
  const session = await ort.InferenceSession.create(serializeModel(graph).model);
  try {
    const out = await session.run(
      loopFeeds(scheduler, start, batch, colors, scale, window, noise),
    );
    return { got: out.denoised.data as Float32Array, expected };
  } finally {
    await session.release();
  }
}

Deno.test("the loop graph computes injection + model + DDIM step exactly as the JS sampler", async () => {
  for (const gaussian of [false, true]) {
    const { got, expected } = await runLoop({}, {}, gaussian);
    assert.deepEqual(got, expected, `gaussian=${gaussian}`);
  }
});

Deno.test("the loop graph follows the scheduler's prediction type and clipping", async () => {
  for (const predictionType of ["sample", "v_prediction"] as const) {
    const { got, expected } = await runLoop(
      { predictionType },
      { prediction_type: predictionType },
      false,
    );
    assert.deepEqual(got, expected, predictionType);
  }
  const { got, expected } = await runLoop(
    { clipSample: 0.5 },
    { clip_sample: true, clip_sample_range: 0.5 },
    false,
  );
  assert.deepEqual(got, expected, "clip_sample");
});

Deno.test("buildDenoiseLoopGraph refuses a graph that is not a UNet", () => {
  const b = new GraphBuilder();
  b.output(b.sigmoid(b.input("x", "float32", [1])), "y", "float32", [1]);
  assert.throws(() => buildDenoiseLoopGraph(b.build()), /not a UNet graph.*sample, timestep/);
});

Deno.test("unet_loop.onnx shares unet.onnx's external-data file and runs the real UNet", async () => {
  const config = parseUnetConfig(await referenceJson("tiny-ldm/unet/config.json"));
  const weights = await referenceTensors("tiny-ldm/unet/diffusion_pytorch_model.safetensors");
  const unet = buildUnetGraph(config, weights);
  const loop = buildDenoiseLoopGraph(unet);
  const dir = await Deno.makeTempDir({ prefix: "denoise_loop_test_" });
  try {
    const saved = await saveModel(join(dir, "unet.onnx"), unet, { externalData: true });
    assert.ok(saved.layout.size > 10, "most weights are external");
    await saveModel(join(dir, "unet_loop.onnx"), loop, {
      sharedData: { file: "unet.onnx.data", layout: saved.layout },
    });
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["unet.onnx", "unet.onnx.data", "unet_loop.onnx"],
    );
    const loopBytes = (await Deno.stat(join(dir, "unet_loop.onnx"))).size;
    const dataBytes = (await Deno.stat(join(dir, "unet.onnx.data"))).size;
    assert.ok(loopBytes < dataBytes / 4, `loop file ${loopBytes} B holds no weight copy`);

    // One step from the files against the same step from the in-memory graphs.
    const fromFile = await ort.InferenceSession.create(join(dir, "unet_loop.onnx"));
    const inMemory = await ort.InferenceSession.create(serializeModel(loop).model);
    const scheduler = new DDIMScheduler(SCHEDULER);
    scheduler.setTimesteps(1);
    const size = 16;
    const start = Float32Array.from({ length: C * size * size }, (_, i) => Math.sin(i));
    const feeds = {
      latents: new ort.Tensor("float32", start, [1, C, size, size]),
      trip_count: new ort.Tensor("int64", BigInt64Array.of(1n), []),
      timesteps: new ort.Tensor("float32", Float32Array.of(scheduler.timesteps[0]), [1]),
      inject_scale: new ort.Tensor("float32", Float32Array.of(0), [1]),
      inject_field: new ort.Tensor("float32", new Float32Array(start.length), [1, C, size, size]),
      inject_noise: new ort.Tensor("float32", Float32Array.of(1), [1, 1, 1, 1, 1]),
      ...Object.fromEntries(
        ([
          ["sqrt_alpha_prod", "sqrtAlphaProd"],
          ["sqrt_beta_prod", "sqrtBetaProd"],
          ["sqrt_alpha_prod_prev", "sqrtAlphaProdPrev"],
          ["direction_scale", "directionScale"],
        ] as const).map(([name, key]) => [
          name,
          new ort.Tensor(
            "float32",
            Float32Array.of(scheduler.stepCoefficients(scheduler.timesteps[0])[key]),
            [1],
          ),
        ]),
      ),
    };
    const a = (await fromFile.run(feeds)).denoised.data as Float32Array;
    const b = (await inMemory.run(feeds)).denoised.data as Float32Array;
    assert.equal(maxAbsDiff(a, b), 0);
    await fromFile.release();
    await inMemory.release();

    // A graph whose weights sit elsewhere cannot point into that file.
    const other = buildDenoiseLoopGraph(buildUnetGraph(config, weights, { precision: "fp16" }));
    await assert.rejects(
      saveModel(join(dir, "bad.onnx"), other, {
        sharedData: { file: "unet.onnx.data", layout: saved.layout },
      }),
      /do not lie where unet\.onnx\.data holds them/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
