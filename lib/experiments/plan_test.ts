import assert from "node:assert/strict";
import * as paths from "../paths/mod.ts";
import { batchFrames, type PathApi, planFrames, type PlannedFrame } from "./plan.ts";
import { resolveExperiment } from "./spec.ts";

const api = paths as unknown as PathApi;
const base = { name: "plan", model: "tiny", seed: 1, steps: 20 };

Deno.test("planFrames: count frames along the path, by time or by arc length", () => {
  const path = { type: "bouncingBall" } as const;
  for (const sampling of ["time", "arcLength"] as const) {
    const spec = resolveExperiment({ ...base, path, frames: { count: 7, sampling } });
    const frames = planFrames(spec, api);
    const expected = sampling === "time"
      ? paths.sampleUniformTime(paths.createPath(path), 7)
      : paths.sampleArcLength(paths.createPath(path), 7);
    assert.deepEqual(frames.map((f) => f.index), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(frames.map((f) => f.t), expected.map((p) => p.t));
    assert.deepEqual(frames.map((f) => f.color), expected.map((p) => p.color));
    for (const f of frames) {
      assert.deepEqual(f.injection, { scale: 0.01, window: [1, 10], mode: "constant" });
    }
  }
});

Deno.test("planFrames: explicit times and explicit frames with per-frame injection", () => {
  const path = { type: "linear", from: [0, 0, 0], to: [1, 0.5, 0], duration: 2 } as const;
  const atTimes = planFrames(resolveExperiment({ ...base, path, frames: { t: [0, 1, 2] } }), api);
  assert.deepEqual(atTimes.map((f) => f.color), [[0, 0, 0], [0.5, 0.25, 0], [1, 0.5, 0]]);

  const listed = planFrames(
    resolveExperiment({
      ...base,
      path,
      injection: { scale: 0.02 },
      frames: [
        { color: "#000000", injection: { scale: 0 }, label: "none" },
        { t: 1, injection: { window: [3, 4], mode: "gaussian" } },
        { t: 2, color: [0, 0, 1] },
      ],
    }),
    api,
  );
  assert.deepEqual(listed, [
    {
      index: 0,
      t: null,
      color: [0, 0, 0],
      injection: { scale: 0, window: [1, 10], mode: "constant" },
      label: "none",
    },
    {
      index: 1,
      t: 1,
      color: [0.5, 0.25, 0],
      injection: { scale: 0.02, window: [3, 4], mode: "gaussian" },
    },
    // An explicit colour wins over the path's colour at t.
    {
      index: 2,
      t: 2,
      color: [0, 0, 1],
      injection: { scale: 0.02, window: [1, 10], mode: "constant" },
    },
  ]);
});

function frame(index: number, scale = 0.01): PlannedFrame {
  return {
    index,
    t: null,
    color: [0, 0, 0],
    injection: { scale, window: [1, 10], mode: "constant" },
  };
}

Deno.test("batchFrames: batches of at most n, in order, covering every frame once", () => {
  const frames = Array.from({ length: 10 }, (_, i) => frame(i));
  for (const size of [1, 3, 4, 10, 11]) {
    const batches = batchFrames(frames, size);
    assert.deepEqual(batches.flat().map((f) => f.index), frames.map((f) => f.index));
    assert.ok(batches.every((b) => b.length >= 1 && b.length <= size));
    assert.equal(batches.length, Math.ceil(10 / size));
  }
  assert.deepEqual(batchFrames([], 4), []);
  assert.throws(() => batchFrames(frames, 0), RangeError);
});

Deno.test("batchFrames: a batch never mixes injection settings", () => {
  const frames = [frame(0), frame(1), frame(2, 0.5), frame(3, 0.5), frame(4, 0.5), frame(5)];
  const batches = batchFrames(frames, 4);
  assert.deepEqual(batches.map((b) => b.map((f) => f.index)), [[0, 1], [2, 3, 4], [5]]);
});
