import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { readSafetensors } from "../io/safetensors.ts";
import { toFloat32 } from "../io/tensor.ts";
import { TorchGenerator } from "../noise/torch_randn.ts";
import { DDIMScheduler } from "./ddim.ts";

const REFERENCE = new URL("../testdata/ldm-reference/", import.meta.url);
const readJson = (path: string) =>
  JSON.parse(Deno.readTextFileSync(fileURLToPath(new URL(path, REFERENCE))));
const tinyConfig = readJson("tiny-ldm/scheduler/scheduler_config.json");
const ddimReference: {
  config: Record<string, unknown>;
  alphas_cumprod: number[];
  timesteps: Record<string, number[]>;
} = readJson("ddim.json");
const steps = await readSafetensors(fileURLToPath(new URL("ddim_steps.safetensors", REFERENCE)));
const sample = toFloat32(steps.tensors.get("sample")!);
const eps = toFloat32(steps.tensors.get("eps")!);
const SHAPE = steps.tensors.get("sample")!.shape;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

Deno.test("ddim.json's config is the tiny pipeline's scheduler config", () => {
  for (const [key, value] of Object.entries(ddimReference.config)) {
    assert.deepEqual(tinyConfig[key], value, key);
  }
});

Deno.test("alphas_cumprod equals diffusers' float32 values", () => {
  for (const config of [tinyConfig, ddimReference.config]) {
    const scheduler = new DDIMScheduler(config);
    const error = maxAbsDiff(scheduler.alphasCumprod, ddimReference.alphas_cumprod);
    assert.ok(error <= 1e-7, `max abs diff ${error}`);
    console.log(`alphas_cumprod: max abs diff ${error}`);
  }
});

Deno.test("timesteps equal diffusers' for every reference step count", () => {
  const scheduler = new DDIMScheduler(tinyConfig);
  assert.deepEqual(Array.from(scheduler.timesteps), ddimReference.timesteps["1000"]);
  for (const [count, expected] of Object.entries(ddimReference.timesteps)) {
    assert.deepEqual(Array.from(scheduler.setTimesteps(Number(count))), expected, count);
    assert.equal(scheduler.numInferenceSteps, Number(count));
  }
});

Deno.test("eta = 0 steps match diffusers' prev_sample within 1e-5", () => {
  const scheduler = new DDIMScheduler(tinyConfig);
  let worst = 0;
  let checked = 0;
  for (const [name, tensor] of steps.tensors) {
    const match = /^prev_n(\d+)_t(\d+)$/.exec(name);
    if (!match) continue;
    scheduler.setTimesteps(Number(match[1]));
    const error = maxAbsDiff(scheduler.step(eps, Number(match[2]), sample), toFloat32(tensor));
    assert.ok(error <= 1e-5, `${name}: max abs error ${error}`);
    worst = Math.max(worst, error);
    checked++;
  }
  assert.equal(checked, 8);
  console.log(`ddim steps: ${checked} cases, max abs error ${worst}`);
});

Deno.test("step writes into out, also in place over the sample", () => {
  const scheduler = new DDIMScheduler(tinyConfig);
  scheduler.setTimesteps(50);
  const expected = toFloat32(steps.tensors.get("prev_n50_t500")!);
  const out = new Float32Array(sample.length);
  assert.equal(scheduler.step(eps, 500, sample, { out }), out);
  assert.ok(maxAbsDiff(out, expected) <= 1e-5);
  const inPlace = sample.slice();
  scheduler.step(eps, 500, inPlace, { out: inPlace });
  assert.deepEqual(inPlace, out);
});

Deno.test("eta > 0: variance follows the DDIM formula computed from alphas_cumprod", () => {
  const scheduler = new DDIMScheduler(tinyConfig);
  scheduler.setTimesteps(50);
  const ac = ddimReference.alphas_cumprod;
  for (const [t, prev] of [[980, 960], [500, 480], [20, 0]]) {
    assert.equal(scheduler.previousTimestep(t), prev);
    const byHand = ((1 - ac[prev]) / (1 - ac[t])) * (1 - ac[t] / ac[prev]);
    const variance = scheduler.getVariance(t, prev);
    assert.ok(Math.abs(variance - byHand) <= 1e-6 * byHand, `t=${t}: ${variance} vs ${byHand}`);
  }
  // Past the last step ᾱ_prev = 1 (set_alpha_to_one), so no noise is added.
  assert.equal(scheduler.previousTimestep(0), -20);
  assert.equal(scheduler.getVariance(0, -20), 0);
});

Deno.test("eta > 0 adds eta·σ_t·noise from the generator on top of the eta-free update", () => {
  const scheduler = new DDIMScheduler(tinyConfig);
  scheduler.setTimesteps(50);
  const t = 500;
  const eta = 0.7;
  const draw = (seed: number) =>
    scheduler.step(eps, t, sample, { eta, generator: new TorchGenerator(seed), shape: SHAPE });

  const a = draw(3);
  assert.deepEqual(draw(3), a, "same generator seed, same result");
  assert.ok(maxAbsDiff(draw(4), a) > 1e-3, "another seed gives other noise");
  assert.ok(maxAbsDiff(a, scheduler.step(eps, t, sample)) > 1e-3, "differs from eta = 0");

  // Reconstruct by hand: x0 from eps, direction with the reduced weight, plus σ·noise.
  const ac = ddimReference.alphas_cumprod;
  const prev = t - 20;
  const sigma = eta *
    Math.sqrt(((1 - ac[prev]) / (1 - ac[t])) * (1 - ac[t] / ac[prev]));
  const noise = new TorchGenerator(3).randn(SHAPE);
  const expected = sample.map((x, i) => {
    const x0 = (x - Math.sqrt(1 - ac[t]) * eps[i]) / Math.sqrt(ac[t]);
    return Math.sqrt(ac[prev]) * x0 + Math.sqrt(1 - ac[prev] - sigma ** 2) * eps[i] +
      sigma * noise[i];
  });
  const error = maxAbsDiff(a, expected);
  assert.ok(error <= 1e-5, `max abs error vs hand computation ${error}`);

  // The generator's stream advances: a second step draws fresh noise.
  const generator = new TorchGenerator(3);
  const first = scheduler.step(eps, t, sample, { eta, generator });
  const second = scheduler.step(eps, t, sample, { eta, generator });
  assert.deepEqual(first, a);
  assert.ok(maxAbsDiff(first, second) > 1e-3);

  // Explicit variance noise is the same as drawing it.
  const given = scheduler.step(eps, t, sample, { eta, varianceNoise: noise });
  assert.deepEqual(given, a);
});

Deno.test("eta > 0 noise has the variance σ_t² (statistical)", () => {
  const scheduler = new DDIMScheduler(tinyConfig);
  scheduler.setTimesteps(10);
  const size = 1 << 16;
  const x = new TorchGenerator(11).randn([size]);
  const e = new TorchGenerator(12).randn([size]);
  const eta = 1;
  const noisy = scheduler.step(e, 500, x, { eta, generator: new TorchGenerator(13) });
  const clean = scheduler.step(e, 500, x);
  // The eta=1 update also shrinks the direction term, so compare with the direction removed.
  const ac = scheduler.alphasCumprod;
  const variance = scheduler.getVariance(500, 400);
  const dirShift = Math.sqrt(1 - ac[400] - variance) - Math.sqrt(1 - ac[400]);
  let resSum = 0;
  let resSq = 0;
  for (let i = 0; i < size; i++) {
    const r = noisy[i] - clean[i] - dirShift * e[i];
    resSum += r;
    resSq += r * r;
  }
  const mean = resSum / size;
  const measured = resSq / size - mean * mean;
  assert.ok(Math.abs(mean) < 5 * Math.sqrt(variance / size), `mean ${mean}`);
  assert.ok(Math.abs(measured / variance - 1) < 0.03, `variance ${measured} vs ${variance}`);
});

Deno.test("step validates its inputs", () => {
  const scheduler = new DDIMScheduler(tinyConfig);
  assert.throws(() => scheduler.step(eps, 500, sample), /setTimesteps/);
  scheduler.setTimesteps(10);
  assert.throws(() => scheduler.step(eps, 1000, sample), /\[0, 999\], got 1000/);
  assert.throws(() => scheduler.step(eps, -1, sample), /got -1/);
  assert.throws(() => scheduler.step(eps, 2.5, sample), /got 2.5/);
  assert.throws(() => scheduler.step(eps.subarray(1), 500, sample), /modelOutput has 47/);
  assert.throws(() => scheduler.step(eps, 500, sample, { out: new Float32Array(3) }), /out has 3/);
  assert.throws(() => scheduler.step(eps, 500, sample, { eta: -0.1 }), /eta/);
  assert.throws(() => scheduler.step(eps, 500, sample, { eta: 0.5 }), /generator/);
  assert.throws(
    () =>
      scheduler.step(eps, 500, sample, {
        eta: 0.5,
        generator: new TorchGenerator(0),
        shape: [1, 3, 4, 5],
      }),
    /shape \[1,3,4,5\] has 60 elements/,
  );
  assert.throws(() => scheduler.setTimesteps(1001), /exceeds num_train_timesteps 1000/);
  assert.throws(() => scheduler.setTimesteps(0), /positive integer/);
});

Deno.test("clip_sample clamps the predicted x0", () => {
  const clipped = new DDIMScheduler({ ...tinyConfig, clip_sample: true, clip_sample_range: 0.5 });
  const plain = new DDIMScheduler(tinyConfig);
  clipped.setTimesteps(10);
  plain.setTimesteps(10);
  const t = 900;
  // With ᾱ_prev = ᾱ_800 the result is sqrt(ᾱ_prev)·x0 + sqrt(1-ᾱ_prev)·eps: recover x0.
  const a = clipped.alphaCumprodAt(800);
  const x0Of = (prev: Float32Array) =>
    Array.from(prev, (p, i) => (p - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a));
  const x0Clipped = x0Of(clipped.step(eps, t, sample));
  const x0Plain = x0Of(plain.step(eps, t, sample));
  assert.ok(x0Plain.some((v) => Math.abs(v) > 0.5), "fixture must exercise the clamp");
  for (let i = 0; i < x0Plain.length; i++) {
    const want = Math.min(Math.max(x0Plain[i], -0.5), 0.5);
    assert.ok(Math.abs(x0Clipped[i] - want) <= 1e-5, `element ${i}`);
  }
});

Deno.test("v_prediction and sample predictions agree with epsilon on the same x0", () => {
  // Given x_t and eps, the equivalent x0 and v predictions must yield the same step.
  const make = (prediction_type: string) => {
    const s = new DDIMScheduler({ ...tinyConfig, prediction_type });
    s.setTimesteps(50);
    return s;
  };
  const t = 500;
  const ac = ddimReference.alphas_cumprod[t];
  const x0 = sample.map((x, i) => (x - Math.sqrt(1 - ac) * eps[i]) / Math.sqrt(ac));
  const v = x0.map((x, i) => Math.sqrt(ac) * eps[i] - Math.sqrt(1 - ac) * x);
  const viaEps = make("epsilon").step(eps, t, sample);
  assert.ok(maxAbsDiff(make("sample").step(x0, t, sample), viaEps) <= 1e-5);
  assert.ok(maxAbsDiff(make("v_prediction").step(v, t, sample), viaEps) <= 1e-5);
});
