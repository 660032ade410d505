import assert from "node:assert/strict";
import { alphasCumprodF32, cosineBetas, makeBetas, torchLinspaceF32 } from "./betas.ts";

Deno.test("torchLinspaceF32 hits both float32 endpoints and is monotonic", () => {
  for (const steps of [2, 3, 15, 16, 17, 1000]) {
    const values = torchLinspaceF32(0.0001, 0.02, steps);
    assert.equal(values[0], Math.fround(0.0001));
    assert.equal(values[steps - 1], Math.fround(0.02));
    for (let i = 1; i < steps; i++) assert.ok(values[i] > values[i - 1], `steps=${steps} i=${i}`);
    const step = (0.02 - 0.0001) / (steps - 1);
    for (let i = 0; i < steps; i++) assert.ok(Math.abs(values[i] - (0.0001 + i * step)) < 1e-8);
  }
  assert.deepEqual(Array.from(torchLinspaceF32(3, 5, 1)), [3]);
  assert.equal(torchLinspaceF32(3, 5, 0).length, 0);
});

Deno.test("scaled_linear squares a linspace of square roots", () => {
  const betas = makeBetas("scaled_linear", 0.0015, 0.0195, 1000);
  assert.ok(Math.abs(betas[0] - 0.0015) < 1e-9);
  assert.ok(Math.abs(betas[999] - 0.0195) < 1e-9);
  assert.ok(Math.abs(betas[500] - ((Math.sqrt(0.0015) + Math.sqrt(0.0195)) / 2) ** 2) < 1e-5);
});

Deno.test("squaredcos_cap_v2 betas follow the cosine alpha-bar and respect the 0.999 cap", () => {
  const n = 1000;
  const betas = cosineBetas(n);
  const alphaBar = (t: number) => Math.cos((t + 0.008) / 1.008 * Math.PI / 2) ** 2;
  const cumprod = alphasCumprodF32(betas);
  for (const i of [0, 100, 500, 900]) {
    const expected = alphaBar((i + 1) / n) / alphaBar(0);
    assert.ok(Math.abs(cumprod[i] - expected) < 1e-5, `alpha_bar at ${i}`);
  }
  assert.equal(betas[n - 1], Math.fround(0.999));
  assert.ok(betas.every((b) => b > 0 && b <= Math.fround(0.999)));
});

Deno.test("alphasCumprodF32 is the running product of 1 - beta", () => {
  const betas = Float32Array.from([0.5, 0.25, 0.125]);
  assert.deepEqual(Array.from(alphasCumprodF32(betas)), [0.5, 0.375, 0.328125]);
});
