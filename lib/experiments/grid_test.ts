import assert from "node:assert/strict";
import { injectionGrid } from "./grid.ts";
import { resolveExperiment } from "./spec.ts";

Deno.test("injectionGrid: the full product, windows outermost, colours innermost", () => {
  const frames = injectionGrid({
    windows: [[1, 5], [1, 10]],
    scales: [0.01, 0.1, 1],
    colors: [{ color: "#ff0000", label: "red" }, { color: [0, 0, 1] }],
  });
  assert.equal(frames.length, 2 * 3 * 2);
  assert.deepEqual(frames[0], {
    color: "#ff0000",
    injection: { window: [1, 5], scale: 0.01 },
    label: "red w1-5 s0.01",
  });
  assert.equal(frames[1].label, "[0,0,1] w1-5 s0.01");
  assert.deepEqual(frames[11].injection, { window: [1, 10], scale: 1 });
  const combos = new Set(frames.map((f) => JSON.stringify([f.color, f.injection])));
  assert.equal(combos.size, frames.length, "no combination twice");
});

Deno.test("injectionGrid: modes axis, and the frames form a valid spec", () => {
  const frames = injectionGrid({
    windows: [[1, 10]],
    scales: [0.01],
    modes: ["constant", "gaussian"],
    colors: [{ color: "#0f0", label: "green" }],
  });
  assert.deepEqual(frames.map((f) => f.injection?.mode), ["constant", "gaussian"]);
  const spec = resolveExperiment({ name: "g", model: "tiny", seed: 0, steps: 10, frames });
  assert.equal((spec.frames as unknown[]).length, 2);
  assert.throws(() => injectionGrid({ windows: [], scales: [1], colors: [] }), /windows/);
});
