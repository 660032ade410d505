import assert from "node:assert/strict";
import { frameGrid } from "./seed_grid.ts";

/** Manifest-like frames of a seed-major grid. */
function gridFrames(seeds: string[], colors: number) {
  return seeds.flatMap((seed, s) =>
    Array.from({ length: colors }, (_, c) => ({ index: s * colors + c, seed, colorIndex: c }))
  );
}

Deno.test("frameGrid: rows are the spec's seeds, columns the colour positions", () => {
  const frames = gridFrames(["9", "18446744073709551615", "2"], 4);
  const grid = frameGrid(frames, { seeds: [9, "18446744073709551615", 2] });
  assert.deepEqual(grid.seeds, ["9", "18446744073709551615", "2"]);
  assert.equal(grid.colors, 4);
  for (const [s, row] of grid.rows.entries()) {
    assert.deepEqual(row.map((f) => f.index), [0, 1, 2, 3].map((c) => s * 4 + c));
    assert.ok(row.every((f) => f.seed === grid.seeds[s]));
  }
  // Order of the frames does not matter, only their recorded position.
  const shuffled = [...frames].reverse();
  assert.deepEqual(frameGrid(shuffled, { seeds: [9, "18446744073709551615", 2] }).rows, grid.rows);
});

Deno.test("frameGrid: a single-seed run is one row, its columns the frame indices", () => {
  const frames = [0, 1, 2].map((index) => ({ index }));
  assert.deepEqual(frameGrid(frames, { seed: 42 }), { seeds: ["42"], colors: 3, rows: [frames] });
});

Deno.test("frameGrid: a frame outside the grid, a shared cell or a missing cell is an error", () => {
  const spec = { seeds: [1, 2] };
  const frames = gridFrames(["1", "2"], 2);
  assert.throws(
    () => frameGrid([...frames, { index: 4, seed: "3", colorIndex: 0 }], spec),
    /frame 4 \(seed 3, colorIndex 0\) has no place in the grid of seeds 1, 2/,
  );
  assert.throws(() => frameGrid([...frames, { index: 4, seed: "1" }], spec), /no place/);
  assert.throws(
    () => frameGrid([...frames, { index: 4, seed: "2", colorIndex: 1 }], spec),
    /frames 3 and 4 share one cell/,
  );
  assert.throws(
    () => frameGrid(frames.filter((f) => f.index !== 2), spec),
    /no frame for seed 2, colour 0/,
  );
});
