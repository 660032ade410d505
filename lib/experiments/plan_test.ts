import assert from "node:assert/strict";
import * as paths from "../paths/mod.ts";
import { batchFrames, type PathApi, planFrames, type PlannedFrame, seedGrid } from "./plan.ts";
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
      seed: "1",
      seedIndex: 0,
      colorIndex: 0,
      t: null,
      color: [0, 0, 0],
      injection: { scale: 0, window: [1, 10], mode: "constant" },
      label: "none",
    },
    {
      index: 1,
      seed: "1",
      seedIndex: 0,
      colorIndex: 1,
      t: 1,
      color: [0.5, 0.25, 0],
      injection: { scale: 0.02, window: [3, 4], mode: "gaussian" },
    },
    // An explicit colour wins over the path's colour at t.
    {
      index: 2,
      seed: "1",
      seedIndex: 0,
      colorIndex: 2,
      t: 2,
      color: [0, 0, 1],
      injection: { scale: 0.02, window: [1, 10], mode: "constant" },
    },
  ]);
});

function frame(index: number, scale = 0.01, seed = "1"): PlannedFrame {
  return {
    index,
    seed,
    seedIndex: 0,
    colorIndex: index,
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

Deno.test("batchFrames: a batch never mixes seeds (the sampler draws one noise per call)", () => {
  const frames = [
    frame(0),
    frame(1),
    frame(2, 0.01, "2"),
    frame(3, 0.01, "2"),
    frame(4, 0.01, "3"),
  ];
  const batches = batchFrames(frames, 4);
  assert.deepEqual(batches.map((b) => b.map((f) => f.index)), [[0, 1], [2, 3], [4]]);
  for (const batch of batches) assert.equal(new Set(batch.map((f) => f.seed)).size, 1);
});

Deno.test("planFrames: seeds × colours, seed-major, index = seedIndex × colours + colorIndex", () => {
  const path = { type: "linear", from: [0, 0, 0], to: [1, 0.5, 0], duration: 2 } as const;
  const single = planFrames(resolveExperiment({ ...base, path, frames: { count: 4 } }), api);
  const { seed: _, ...noSeed } = base;
  const spec = resolveExperiment({
    ...noSeed,
    seeds: [7, "18446744073709551615", 3],
    path,
    frames: { count: 4 },
  });
  const grid = planFrames(spec, api);
  assert.equal(grid.length, 12);
  assert.deepEqual(grid.map((f) => f.seed), [
    ..."7777".split(""),
    ...Array(4).fill("18446744073709551615"),
    ..."3333".split(""),
  ]);
  for (const f of grid) {
    assert.equal(f.index, f.seedIndex * 4 + f.colorIndex);
    // Every seed walks the same colours at the same times as the single-seed run.
    const same = single[f.colorIndex];
    assert.deepEqual([f.t, f.color, f.injection], [same.t, same.color, same.injection]);
  }
  assert.deepEqual(grid.map((f) => f.colorIndex), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
  assert.deepEqual(seedGrid(spec, api), {
    seeds: ["7", "18446744073709551615", "3"],
    colors: 4,
    multiSeed: true,
  });
  assert.deepEqual(seedGrid(resolveExperiment({ ...base, path, frames: { count: 4 } }), api), {
    seeds: ["1"],
    colors: 4,
    multiSeed: false,
  });
  // A range and a list of the same seeds plan the same frames.
  const range = resolveExperiment({
    ...noSeed,
    seeds: { from: 5, count: 3 },
    path,
    frames: [{ t: 1 }],
  });
  assert.deepEqual(planFrames(range, api).map((f) => [f.index, f.seed, f.colorIndex]), [
    [0, "5", 0],
    [1, "6", 0],
    [2, "7", 0],
  ]);
});
