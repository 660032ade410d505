import assert from "node:assert/strict";
import { parseCliArgs } from "./cli.ts";
import { PREVIEW_STEPS, resolveExperiment, scaleWindow, SpecError } from "./spec.ts";
import { injectionGrid } from "./grid.ts";

const base = {
  name: "demo",
  model: "tiny",
  seed: 42,
  steps: 1000,
  injection: { scale: 0.01, window: [1, 10] as [number, number], mode: "constant" as const },
  path: { type: "linear" },
  frames: { count: 5 },
};

Deno.test("scaleWindow keeps the window's fraction of the trajectory, at least one step", () => {
  assert.deepEqual(scaleWindow([1, 10], 1000, 50), [1, 1]);
  assert.deepEqual(scaleWindow([11, 20], 1000, 50), [2, 2]);
  assert.deepEqual(scaleWindow([1, 10], 1000, 100), [1, 1]);
  assert.deepEqual(scaleWindow([1, 10], 1000, 200), [1, 2]);
  assert.deepEqual(scaleWindow([1, 50], 1000, 100), [1, 5]);
  assert.deepEqual(scaleWindow([3, 7], 100, 100), [3, 7]);
  assert.deepEqual(scaleWindow([990, 1000], 1000, 50), [50, 50]);
  for (const to of [1, 7, 50, 333]) {
    const [a, b] = scaleWindow([400, 600], 1000, to);
    assert.ok(1 <= a && a <= b && b <= to, `[${a}, ${b}] of ${to}`);
  }
});

Deno.test("--preview resolves to fewer steps, scaled windows and a recorded note", () => {
  const spec = resolveExperiment(base, { preview: true });
  assert.equal(spec.steps, PREVIEW_STEPS);
  assert.deepEqual(spec.injection.window, [1, 1]);
  assert.equal(spec.preview?.fromSteps, 1000);
  assert.match(spec.preview?.note ?? "", /not the paper's setting/);
  // A resolved preview spec resolves to itself (the runner re-resolves what the CLI resolved).
  assert.deepEqual(resolveExperiment(spec), spec);
  assert.equal(resolveExperiment(base, { preview: 200 }).steps, 200);
  assert.equal(resolveExperiment(base).preview, undefined);
});

Deno.test("--preview scales per-frame windows too (the sensitivity grid)", () => {
  const frames = injectionGrid({
    windows: [[1, 10], [11, 20]],
    scales: [0.01],
    colors: [{ color: [1, 0, 0], label: "red" }],
  });
  const spec = resolveExperiment({ ...base, frames }, { preview: 50 });
  assert.ok(Array.isArray(spec.frames));
  const windows = (spec.frames as { injection?: { window?: number[] } }[]).map((f) =>
    f.injection?.window
  );
  assert.deepEqual(windows, [[1, 1], [2, 2]]);
});

Deno.test("bad preview requests name the field", () => {
  const fails = (overrides: Record<string, unknown>, field: string) =>
    assert.throws(
      () => resolveExperiment(base, overrides),
      (e: Error) => e instanceof SpecError && e.field === field,
    );
  fails({ preview: 0 }, "preview");
  fails({ preview: 1001 }, "preview");
  fails({ preview: "fast" }, "preview");
  fails({ preview: true, steps: 20 }, "steps");
  const cli = parseCliArgs(["--preview"]);
  assert.equal(cli.overrides.preview, true);
  assert.equal(parseCliArgs(["--preview-steps", "80"]).overrides.preview, 80);
  assert.equal(parseCliArgs([]).overrides.preview, undefined);
});
