import assert from "node:assert/strict";
import {
  defineExperiment,
  type ExperimentInput,
  isMultiSeed,
  MAX_GRID_FRAMES,
  MAX_SEED,
  parseSeedsText,
  resolveExperiment,
  runSeeds,
  SpecError,
  type SpecOverrides,
} from "./spec.ts";

const base = {
  name: "demo",
  model: "tiny",
  seed: 42,
  path: { type: "linear" },
  frames: { count: 5 },
} satisfies ExperimentInput;

/** A createPath stand-in: duration 2, rejects a `speed` below 0 like a real path would. */
const hooks = {
  createPath: (spec: { type: string; [k: string]: unknown }) => {
    if (typeof spec.speed === "number" && spec.speed < 0) {
      throw new RangeError(`linear.speed must be ≥ 0, got ${spec.speed}`);
    }
    return { duration: 2 };
  },
};

function specError(spec: unknown, overrides: SpecOverrides = {}): SpecError {
  try {
    resolveExperiment(spec, overrides, hooks);
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected a SpecError, got ${e}`);
    return e;
  }
  assert.fail(`spec was accepted: ${JSON.stringify(spec)}`);
}

Deno.test("defaults are applied", () => {
  const spec = resolveExperiment(base, {}, hooks);
  assert.equal(spec.steps, 1000);
  assert.equal(spec.batch, "auto");
  assert.deepEqual(spec.injection, { scale: 0.01, window: [1, 10], mode: "constant" });
  assert.deepEqual(spec.frames, { count: 5, sampling: "time" });
  assert.deepEqual(spec.outputs, {
    frames: true,
    contactSheet: {},
    pathPlot: true,
    video: { fps: 30, formats: ["mp4", "gif"] },
  });
});

Deno.test("defineExperiment returns the spec unchanged", () => {
  assert.equal(defineExperiment(base), base);
});

Deno.test("resolving a resolved spec changes nothing", () => {
  for (
    const spec of [
      base,
      { ...base, seed: "18446744073709551615", frames: { t: [0, 1, 2] } },
      { ...base, frames: [{ color: "#ff8000", injection: { scale: 0.1 } }, { t: 1 }] },
    ]
  ) {
    const once = resolveExperiment(spec, {}, hooks);
    assert.deepEqual(resolveExperiment(once, {}, hooks), once);
    assert.deepEqual(JSON.parse(JSON.stringify(once)), once, "resolved spec is plain JSON");
  }
});

Deno.test("every bad field is reported by its path, value and what is allowed", () => {
  const cases: [string, Record<string, unknown>, string, unknown][] = [
    ["name", { name: "Not A Slug" }, "name", "Not A Slug"],
    ["model", { model: "" }, "model", ""],
    ["seed negative", { seed: -1 }, "seed", -1],
    ["seed fraction", { seed: 1.5 }, "seed", 1.5],
    ["seed too big", { seed: (MAX_SEED + 1n).toString() }, "seed", (MAX_SEED + 1n).toString()],
    ["seed text", { seed: "abc" }, "seed", "abc"],
    ["steps zero", { steps: 0 }, "steps", 0],
    ["steps too many", { steps: 1001 }, "steps", 1001],
    ["steps fraction", { steps: 2.5 }, "steps", 2.5],
    ["batch", { batch: 0 }, "batch", 0],
    ["latentScale", { latentScale: 0 }, "latentScale", 0],
    ["scale", { injection: { scale: "big" } }, "injection.scale", "big"],
    ["window shape", { injection: { window: [1] } }, "injection.window", [1]],
    ["window fraction", { injection: { window: [1, 2.5] } }, "injection.window.1", 2.5],
    ["mode", { injection: { mode: "linear" } }, "injection.mode", "linear"],
    ["path type", { path: { type: "spiral" } }, "path.type", "spiral"],
    ["path params", { path: { type: "linear", speed: -1 } }, "path.speed", -1],
    ["frames missing", { frames: undefined }, "frames", undefined],
    ["count", { frames: { count: 0 } }, "frames.count", 0],
    ["sampling", { frames: { count: 3, sampling: "random" } }, "frames.sampling", "random"],
    ["t list empty", { frames: { t: [] } }, "frames.t", []],
    ["t beyond path", { frames: { t: [0, 3] } }, "frames.t.1", 3],
    ["explicit empty", { frames: [] }, "frames", []],
    [
      "explicit colour",
      { frames: [{ color: "#00f" }, { color: "blue" }] },
      "frames.1.color",
      "blue",
    ],
    ["explicit nothing", { frames: [{ label: "x" }] }, "frames.0", { label: "x" }],
    ["explicit t", { frames: [{ t: -1 }] }, "frames.0.t", -1],
    [
      "explicit scale",
      { frames: [{ color: [0, 0, 0], injection: { scale: null } }] },
      "frames.0.injection.scale",
      null,
    ],
    ["unknown top field", { colour: "red" }, "colour", "red"],
    ["unknown injection field", { injection: { strength: 1 } }, "injection.strength", 1],
    ["unknown frame field", { frames: [{ colour: [1, 0, 0] }] }, "frames.0.colour", [1, 0, 0]],
    [
      "contact sheet",
      { outputs: { contactSheet: { columns: 0 } } },
      "outputs.contactSheet.columns",
      0,
    ],
    [
      "video format",
      { outputs: { video: { formats: ["avi"] } } },
      "outputs.video.formats.0",
      "avi",
    ],
    ["fps", { outputs: { video: { fps: 0 } } }, "outputs.video.fps", 0],
    ["frames false", { outputs: { frames: false } }, "outputs.frames", false],
  ];
  for (const [what, change, field, value] of cases) {
    const error = specError({ ...base, ...change });
    assert.equal(error.field, field, what);
    assert.deepEqual(error.value, value, what);
    assert.ok(error.allowed.length > 0, what);
    assert.ok(error.message.includes(field), `${what}: ${error.message}`);
    assert.ok(error.message.includes(error.allowed), `${what}: ${error.message}`);
  }
});

Deno.test("unknown fields list the fields that exist there", () => {
  const error = specError({ ...base, injection: { strength: 1 } });
  assert.match(error.allowed, /scale, window, mode/);
});

Deno.test("the window must fit the steps", () => {
  assert.doesNotThrow(() =>
    resolveExperiment({ ...base, steps: 10, injection: { window: [1, 10] } }, {}, hooks)
  );
  assert.doesNotThrow(() =>
    resolveExperiment({ ...base, steps: 10, injection: { window: [10, 10] } }, {}, hooks)
  );
  for (const window of [[0, 5], [6, 5], [1, 11]]) {
    const error = specError({ ...base, steps: 10, injection: { window } });
    assert.equal(error.field, "injection.window");
    assert.deepEqual(error.value, window);
    assert.match(error.allowed, /≤ steps \(10\)/);
  }
});

Deno.test("a per-frame window is checked against the steps too", () => {
  const error = specError({
    ...base,
    steps: 20,
    frames: [{ color: [1, 0, 0] }, { color: [1, 0, 0], injection: { window: [5, 30] } }],
  });
  assert.equal(error.field, "frames.1.injection.window");
});

Deno.test("sampled frames and path times need a path; explicit colours do not", () => {
  const { path: _, ...noPath } = base;
  assert.equal(specError(noPath).field, "frames.count");
  assert.equal(specError({ ...noPath, frames: { t: [0] } }).field, "frames.t");
  assert.equal(specError({ ...noPath, frames: [{ t: 0.5 }] }).field, "frames.0.t");
  const spec = resolveExperiment({ ...noPath, frames: [{ color: "#ff0000" }] }, {}, hooks);
  assert.deepEqual(spec.frames, [{ color: [1, 0, 0] }]);
});

Deno.test("explicit frames: colours are normalised, overrides kept", () => {
  const spec = resolveExperiment(
    {
      ...base,
      frames: [
        { color: "#00ff00", label: "green" },
        { color: [255, 0, 0] },
        { t: 1, injection: { scale: 0.5, window: [2, 3] } },
      ],
    },
    {},
    hooks,
  );
  assert.deepEqual(spec.frames, [
    { color: [0, 1, 0], label: "green" },
    { color: [1, 0, 0] },
    { t: 1, injection: { scale: 0.5, window: [2, 3] } },
  ]);
});

Deno.test("seeds: numbers, bigints and decimal strings up to 2**64-1", () => {
  assert.equal(resolveExperiment({ ...base, seed: 7n }, {}, hooks).seed, 7);
  assert.equal(resolveExperiment({ ...base, seed: "7" }, {}, hooks).seed, 7);
  assert.equal(resolveExperiment({ ...base, seed: MAX_SEED }, {}, hooks).seed, MAX_SEED.toString());
  assert.equal(
    resolveExperiment({ ...base, seed: "9007199254740993" }, {}, hooks).seed,
    "9007199254740993",
  );
});

Deno.test("overrides replace fields and are checked like the spec, naming the flag", () => {
  const spec = resolveExperiment(
    base,
    { model: "some/model", steps: 50, batch: 2, seed: "9" },
    hooks,
  );
  assert.equal(spec.model, "some/model");
  assert.equal(spec.steps, 50);
  assert.equal(spec.batch, 2);
  assert.equal(spec.seed, 9);

  const steps = specError(base, { steps: 5 });
  assert.equal(steps.field, "injection.window");
  assert.match(steps.message, /steps 5 set by --steps/);
  const batch = specError(base, { batch: "x" });
  assert.equal(batch.field, "batch");
  assert.match(batch.message, /set by --batch/);
  assert.equal(specError(base, { seed: "-3" }).field, "seed");
});

Deno.test("--frames sets a count or keeps the first N listed frames", () => {
  assert.deepEqual(resolveExperiment(base, { frames: 3 }, hooks).frames, {
    count: 3,
    sampling: "time",
  });
  const listed = { ...base, frames: [{ color: "#f00" }, { color: "#0f0" }, { color: "#00f" }] };
  assert.deepEqual(resolveExperiment(listed, { frames: 2 }, hooks).frames, [
    { color: [1, 0, 0] },
    { color: [0, 1, 0] },
  ]);
  assert.deepEqual(
    resolveExperiment({ ...base, frames: { t: [0, 1, 2] } }, { frames: 1 }, hooks).frames,
    { t: [0] },
  );
  assert.equal(specError(listed, { frames: 4 }).field, "frames");
  assert.equal(specError(base, { frames: 0 }).field, "frames");
  assert.equal(specError(base, { frames: "many" }).value, "many");
});

Deno.test("a non-object spec is rejected", () => {
  for (const spec of [null, 3, "x", []]) assert.ok(specError(spec) instanceof SpecError);
});

Deno.test("path parameters are checked by the real createPath, naming the parameter", () => {
  const error = (() => {
    try {
      resolveExperiment({ ...base, path: { type: "bouncingBall", restitution: 2 } });
    } catch (e) {
      return e as SpecError;
    }
  })();
  assert.ok(error instanceof SpecError);
  assert.equal(error.field, "path.restitution");
  assert.equal(error.value, 2);
  assert.match(error.allowed, /bouncingBall\.restitution/);
  const unknown = (() => {
    try {
      resolveExperiment({ ...base, path: { type: "linear", sped: 1 } as never });
    } catch (e) {
      return e as SpecError;
    }
  })();
  assert.ok(unknown instanceof SpecError);
  assert.match(unknown.field, /^path/);
  // Times beyond the real path's duration (1 by default) are rejected.
  const late = (() => {
    try {
      resolveExperiment({ ...base, path: { type: "linear" }, frames: { t: [0, 1.5] } });
    } catch (e) {
      return e as SpecError;
    }
  })();
  assert.equal(late?.field, "frames.t.1");
});

const { seed: _seed, ...unseeded } = base;

Deno.test("seeds: a list or a range, normalised like seed; resolving again changes nothing", () => {
  const list = resolveExperiment({ ...unseeded, seeds: [3, "4", 5n, MAX_SEED] }, {}, hooks);
  assert.deepEqual(list.seeds, [3, 4, 5, MAX_SEED.toString()]);
  assert.equal(list.seed, undefined);
  assert.ok(!("seed" in list));
  assert.deepEqual(runSeeds(list), ["3", "4", "5", MAX_SEED.toString()]);
  assert.ok(isMultiSeed(list));
  assert.deepEqual(resolveExperiment(list, {}, hooks), list);

  const range = resolveExperiment({ ...unseeded, seeds: { from: 6, count: 3 } }, {}, hooks);
  assert.deepEqual(range.seeds, [6, 7, 8]);
  assert.deepEqual(
    resolveExperiment({ ...unseeded, seeds: [6, 7, 8] }, {}, hooks),
    range,
    "a range and the list it stands for are the same spec (same hash, same run folder)",
  );
  const top = resolveExperiment(
    { ...unseeded, seeds: { from: MAX_SEED - 1n, count: 2 } },
    {},
    hooks,
  );
  assert.deepEqual(top.seeds, [(MAX_SEED - 1n).toString(), MAX_SEED.toString()]);
  const crossing = resolveExperiment(
    { ...unseeded, seeds: { from: 2 ** 53 - 2, count: 3 } },
    {},
    hooks,
  );
  assert.deepEqual(crossing.seeds, [2 ** 53 - 2, 2 ** 53 - 1, "9007199254740992"]);
  // One seed in a list is still a multi-seed run (a grid of one row); a single seed is not.
  assert.ok(isMultiSeed(resolveExperiment({ ...unseeded, seeds: [1] }, {}, hooks)));
  const single = resolveExperiment(base, {}, hooks);
  assert.ok(!isMultiSeed(single) && !("seeds" in single));
  assert.deepEqual(runSeeds(single), ["42"]);
});

Deno.test("seeds: bad input names the field and the value", () => {
  const cases: [string, unknown, string, unknown, RegExp][] = [
    ["empty list", [], "seeds", [], /non-empty list.*the list is empty/],
    ["duplicate", [1, 2, "1"], "seeds.2", "1", /seed 1 is given twice \(also seeds\.0\)/],
    ["duplicate bigint", [5n, 5], "seeds.1", 5, /seed 5 is given twice/],
    ["negative", [1, -2], "seeds.1", -2, /0 to 2\*\*64-1/],
    ["too big", [(MAX_SEED + 1n).toString()], "seeds.0", (MAX_SEED + 1n).toString(), /2\*\*64-1/],
    ["fraction", [1.5], "seeds.0", 1.5, /integer/],
    ["no count", { from: 0 }, "seeds.count", undefined, /1 to 10000/],
    ["zero count", { from: 0, count: 0 }, "seeds.count", 0, /1 to 10000/],
    ["bad from", { from: -1, count: 2 }, "seeds.from", -1, /0 to 2\*\*64-1/],
    ["past the top", { from: MAX_SEED, count: 2 }, "seeds.count", 2, /at most 1: .* 2\*\*64-1/],
    ["unknown field", { from: 0, count: 2, step: 2 }, "seeds.step", 2, /from, count/],
    ["text", "0..7", "seeds", "0..7", /non-empty list/],
  ];
  for (const [what, seeds, field, value, allowed] of cases) {
    const error = specError({ ...unseeded, seeds });
    assert.equal(error.field, field, what);
    assert.deepEqual(error.value, value, what);
    assert.match(error.message, allowed, what);
  }
  const both = specError({ ...base, seeds: [1, 2] });
  assert.equal(both.field, "seeds");
  assert.match(
    both.message,
    /either "seed" \(one seed\) or "seeds" \(several\), not both.*seed 42/,
  );
  const neither = specError(unseeded);
  assert.equal(neither.field, "seed");
  assert.match(neither.message, /seed is missing.*or "seeds"/);
});

Deno.test("seeds × frames above the grid limit is refused, naming both counts", () => {
  const error = specError({ ...unseeded, seeds: { from: 0, count: 101 }, frames: { count: 100 } });
  assert.equal(error.field, "seeds");
  assert.match(
    error.message,
    new RegExp(`at most ${MAX_GRID_FRAMES} frames .*here 101 seeds × 100 frames = 10100`),
  );
  assert.ok(
    resolveExperiment(
      { ...unseeded, seeds: { from: 0, count: 100 }, frames: { count: 100 } },
      {},
      hooks,
    ),
  );
  // --frames counts: frames per seed after the override.
  const listed = {
    ...unseeded,
    seeds: { from: 0, count: 5000 },
    frames: [{ color: "#f00" }, { color: "#0f0" }, { color: "#00f" }],
  };
  assert.match(specError(listed).message, /5000 seeds × 3 frames = 15000/);
  assert.equal((resolveExperiment(listed, { frames: 2 }, hooks).frames as unknown[]).length, 2);
  const flagged = specError(base, { seeds: "0..9999", frames: 2 });
  assert.equal(flagged.value, "0..9999");
  assert.match(
    flagged.message,
    /seeds set by --seeds, frames set by --frames.*10000 seeds × 2 frames/,
  );
  // A single-seed run keeps the old limit.
  assert.ok(resolveExperiment({ ...base, frames: { count: MAX_GRID_FRAMES + 1 } }, {}, hooks));
});

Deno.test("--seeds and --seed: text forms, replacing seed or seeds, not both", () => {
  assert.deepEqual(parseSeedsText("0..7"), { from: "0", count: 8 });
  assert.deepEqual(parseSeedsText(" 5 .. 5 "), { from: "5", count: 1 });
  assert.deepEqual(parseSeedsText("1,2, 3"), ["1", "2", "3"]);
  assert.deepEqual(parseSeedsText("18446744073709551615"), ["18446744073709551615"]);
  const grid = resolveExperiment(base, { seeds: "3..5" }, hooks);
  assert.deepEqual([grid.seed, grid.seeds], [undefined, [3, 4, 5]]);
  const listed = resolveExperiment(base, { seeds: "9,1" }, hooks);
  assert.deepEqual(listed.seeds, [9, 1]);
  // --seed on a multi-seed spec: a single-seed run of that seed.
  const one = resolveExperiment({ ...unseeded, seeds: [1, 2] }, { seed: "2" }, hooks);
  assert.deepEqual([one.seed, one.seeds], [2, undefined]);
  const replaced = resolveExperiment({ ...unseeded, seeds: [1, 2] }, { seeds: "7..8" }, hooks);
  assert.deepEqual(replaced.seeds, [7, 8]);

  for (const text of ["", "7..3", "1,,2", "-1", "1.5", "a..b", "0x10", "1..", "1;2", "1 2"]) {
    const error = specError(base, { seeds: text });
    assert.equal(error.field, "seeds", text);
    assert.match(error.message, /set by --seeds/, text);
  }
  assert.match(specError(base, { seeds: "7..3" }).message, /must not run backwards/);
  const dup = specError(base, { seeds: "4,5,4" });
  assert.equal(dup.field, "seeds.2");
  assert.match(dup.message, /seeds\.2 is "4" \(set by --seeds\).*seed 4 is given twice/);
  assert.equal(specError(base, { seeds: "0..99999999999999999999" }).field, "seeds.count");
  assert.equal(
    specError(base, { seeds: "18446744073709551615..18446744073709551616" }).field,
    "seeds.count",
  );
  const both = specError(base, { seed: "1", seeds: "2..3" });
  assert.equal(both.field, "seeds");
  assert.match(both.message, /either --seed .* or --seeds .*not both/);
});
