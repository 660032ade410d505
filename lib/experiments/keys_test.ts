import assert from "node:assert/strict";
import * as paths from "../paths/mod.ts";
import { frameKey, frameKeys, type KeyContext, keyContextFor, type KeyFrame } from "./keys.ts";
import { type PathApi, planFrames } from "./plan.ts";
import { resolveExperiment } from "./spec.ts";

const context: KeyContext = {
  modelHashes: { "unet.onnx": "a".repeat(64), "vqvae_decoder.onnx": "b".repeat(64) },
  scheduler: { num_train_timesteps: 1000, beta_schedule: "scaled_linear" },
  seed: "42",
  steps: 1000,
  latentScale: 1,
  eta: 0,
};
const frame: KeyFrame = {
  color: [0.25, 0.5, 0.75],
  injection: { scale: 0.01, window: [1, 10], mode: "constant" },
};

Deno.test("frameKey: a hex SHA-256, equal for equal inputs built independently", () => {
  const key = frameKey(context, frame);
  assert.match(key, /^[0-9a-f]{64}$/);
  const rebuilt = frameKey(
    {
      eta: 0,
      latentScale: 1,
      steps: 1000,
      seed: "42",
      scheduler: { beta_schedule: "scaled_linear", num_train_timesteps: 1000 },
      modelHashes: { "vqvae_decoder.onnx": "b".repeat(64), "unet.onnx": "a".repeat(64) },
    },
    structuredClone(frame),
  );
  assert.equal(rebuilt, key);
});

Deno.test("frameKey: changes with every input that determines the pixels", () => {
  const key = frameKey(context, frame);
  const variants: [string, KeyContext, KeyFrame][] = [
    [
      "model",
      { ...context, modelHashes: { ...context.modelHashes, "unet.onnx": "c".repeat(64) } },
      frame,
    ],
    ["scheduler", { ...context, scheduler: { num_train_timesteps: 999 } }, frame],
    ["seed", { ...context, seed: "43" }, frame],
    ["steps", { ...context, steps: 999 }, frame],
    ["latentScale", { ...context, latentScale: 0.18215 }, frame],
    ["eta", { ...context, eta: 0.5 }, frame],
    ["color", context, { ...frame, color: [0.25, 0.5, 0.76] }],
    ["scale", context, { ...frame, injection: { ...frame.injection, scale: 0.02 } }],
    ["window start", context, { ...frame, injection: { ...frame.injection, window: [2, 10] } }],
    ["window end", context, { ...frame, injection: { ...frame.injection, window: [1, 11] } }],
    ["mode", context, { ...frame, injection: { ...frame.injection, mode: "gaussian" } }],
  ];
  const seen = new Set([key]);
  for (const [what, c, f] of variants) {
    const k = frameKey(c, f);
    assert.ok(!seen.has(k), `${what} did not change the key`);
    seen.add(k);
  }
});

Deno.test("frameKey: colours equal in float32 share a key, others do not", () => {
  const key = frameKey(context, frame);
  // 0.25 + 1e-12 rounds to the same float32 as 0.25; 0.25 + 1e-6 does not.
  assert.equal(frameKey(context, { ...frame, color: [0.25 + 1e-12, 0.5, 0.75] }), key);
  assert.notEqual(frameKey(context, { ...frame, color: [0.25 + 1e-6, 0.5, 0.75] }), key);
});

Deno.test("frameKeys: each frame keyed with its own seed, as a single-seed run of that seed", () => {
  const model = { sha256: context.modelHashes, scheduler: context.scheduler, latentScale: 1 };
  const common = {
    name: "k",
    model: "tiny",
    steps: 20,
    path: { type: "linear" },
    frames: { count: 3 },
  } as const;
  const api = paths as unknown as PathApi;
  const grid = resolveExperiment({ ...common, seeds: [42, "18446744073709551615"] });
  const keys = frameKeys(grid, model, planFrames(grid, api));
  assert.equal(new Set(keys).size, 6, "different seeds, different keys");
  for (const [row, seed] of [42, "18446744073709551615"].entries()) {
    const single = resolveExperiment({ ...common, seed });
    const context = keyContextFor(single, model);
    assert.deepEqual(context, keyContextFor(grid, model, seed));
    assert.deepEqual(
      keys.slice(row * 3, row * 3 + 3),
      planFrames(single, api).map((f) => frameKey(context, f)),
    );
  }
  // A shard's frames: the other slots stay empty.
  const shard = frameKeys(grid, model, planFrames(grid, api).filter((f) => f.index % 2 === 1));
  assert.deepEqual(Object.keys(shard), ["1", "3", "5"]);
  assert.deepEqual([shard[1], shard[3], shard[5]], [keys[1], keys[3], keys[5]]);
  assert.throws(() => keyContextFor(grid, model), /without a seed/);
});
