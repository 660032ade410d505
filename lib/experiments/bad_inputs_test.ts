/**
 * Bad input, generated: every spec field, path parameter and command-line flag crossed with the
 * values people get wrong (NaN, ±Infinity, out-of-range numbers and colours, windows outside the
 * steps, zero/negative counts, unknown paths and models, wrong types, bad seeds, empty, duplicate
 * or too many seeds of a multi-seed spec, bad flags...).
 * Each must exit 2 with a message naming the field, load nothing, and leave no folder behind.
 *
 * Runs in-process through `main` with fake sampling and the real model resolution; a handful of
 * real subprocesses are in `lib/cli/run_test.ts`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveModel } from "../pipelines/resolve.ts";
import { fakeDeps, quietWriter } from "./_fakes.ts";
import { EXIT_USAGE, main } from "./cli.ts";

const root = await Deno.makeTempDir({ prefix: "bad_inputs_" });
/** A converted-model folder as far as resolution goes (sampling is faked). */
const modelDir = join(root, "model");
await Deno.mkdir(modelDir);
await Deno.writeTextFile(join(modelDir, "model.json"), "{}");
/** A folder that is neither a converted nor a diffusers model. */
const emptyDir = join(root, "empty");
await Deno.mkdir(emptyDir);
/** Empty models folder: hub ids resolve to nothing. */
const modelsDir = join(root, "models");
const resultsDir = join(root, "results");
const outRoot = join(root, "out");

type Spec = Record<string, unknown>;

const PATH_SPEC: Spec = {
  name: "bad-input",
  model: modelDir,
  seed: 1,
  steps: 20,
  path: { type: "linear" },
  frames: { count: 3 },
};
const TIMES_SPEC: Spec = { ...PATH_SPEC, frames: { t: [0, 0.5, 1] } };
const LIST_SPEC: Spec = {
  ...PATH_SPEC,
  frames: [{ color: [1, 0, 0], t: 0.5 }, { color: "#00ff00", label: "green" }],
};

const { seed: _seed, ...UNSEEDED } = PATH_SPEC;
/** A multi-seed spec: 2 seeds × 3 frames. */
const SEEDS_SPEC: Spec = { ...UNSEEDED, seeds: [1, 2] };
/** A multi-seed spec with a range: seeds 0 and 1 × 3 frames. */
const RANGE_SPEC: Spec = { ...UNSEEDED, seeds: { from: 0, count: 2 } };

/** A copy of `spec` with the dotted field set to `value` (objects created along the way). */
function withField(spec: Spec, field: string, value: unknown): Spec {
  const copy = structuredClone(spec);
  const parts = field.split(".");
  let node: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node[part] = next !== null && typeof next === "object" ? next : {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
  return copy;
}

/** Spec fields × bad values; the third entry is the field the error must name, if another. */
const SPEC_FIELDS: [string, unknown[], string?][] = [
  ["name", ["", "Has Caps", "../escape", "a/b", " lead", "-lead", "a b", "ü", 42, null, []]],
  ["description", [42, null, [], {}, true]],
  ["model", [
    "",
    "   ",
    42,
    null,
    [],
    {},
    "no-such-owner/no-such-model",
    "/nonexistent/folder",
    "not a model",
    "tinyy",
    emptyDir,
  ]],
  ["seed", [
    -1,
    1.5,
    NaN,
    Infinity,
    -Infinity,
    "abc",
    "-5",
    "1e3",
    "0x10",
    "18446744073709551616",
    2 ** 53,
    "",
    null,
    true,
    [],
    {},
  ]],
  ["steps", [0, -1, 1001, 1.5, NaN, Infinity, "20", null, true]],
  ["steps", [5, 9], "injection.window"],
  ["latentScale", [0, -1, NaN, Infinity, -Infinity, "1", null, true]],
  ["batch", [0, -1, 257, 2.5, NaN, Infinity, "4", null]],
  ["injection", [null, 5, "x", [], true]],
  ["injection.scale", [NaN, Infinity, -Infinity, "0.01", null, true, []]],
  ["injection.window", [
    [0, 10],
    [5, 4],
    [1, 21],
    [1],
    [1, 2, 3],
    "1-10",
    null,
    [-1, 5],
    [],
  ]],
  ["injection.window", [[1.5, 10], [NaN, 10]], "injection.window.0"],
  ["injection.window", [[1, Infinity]], "injection.window.1"],
  ["injection.mode", ["loud", "", "Constant", 1, null]],
  ["injection.strength", [1]],
  ["path", [null, 5, "linear", [], true]],
  ["path.type", ["spiral", "", 3, null, "Linear"]],
  ["frames", [null, 5, "all", [], true]],
  ["frames.count", [0, -1, 1.5, NaN, Infinity, "3", null, 1_000_001]],
  ["frames.sampling", ["random", 1, null]],
  ["frames.every", [2]],
  ["outputs", [null, 5, "all", []]],
  ["outputs.frames", [false, "yes"]],
  ["outputs.contactSheet", ["yes", 1, null]],
  ["outputs.contactSheet.tileSize", [4, 2000, 1.5, NaN]],
  ["outputs.contactSheet.columns", [0, -1, 1.5]],
  ["outputs.contactSheet.maxFrames", [0, -1]],
  ["outputs.pathPlot", ["no", 0, null]],
  ["outputs.video", [true, "gif", null]],
  ["outputs.video.fps", [0, 500, NaN, -1, "30"]],
  ["outputs.video.formats", [[], "gif"]],
  ["outputs.video.formats", [["avi"]], "outputs.video.formats.0"],
  ["colour", [[1, 0, 0]]],
];

const TIMES_FIELDS: [string, unknown[], string?][] = [
  ["frames.t", [[], null, "0.5", [NaN, 0], [-0.1], [1.5], ["0.5"], [Infinity]]],
];

const LIST_FIELDS: [string, unknown[], string?][] = [
  ["frames.0.color", [
    [256, 0, 0],
    [-1, 0, 0],
    [0.5, 300, 0],
    [1.5, 0, 0],
    [NaN, 0, 0],
    [Infinity, 0, 0],
    "#ggg",
    "#12345",
    "rgb(300,0,0)",
    "red",
    [1, 0],
    [1, 0, 0, 0],
    null,
    { r: 1 },
  ]],
  ["frames.0.t", [2, -1, NaN, Infinity, "0"]],
  ["frames.0.label", [5, null, []]],
  ["frames.0.injection.window", [[0, 5], [1, 21], [3, 2]]],
  ["frames.0.injection.scale", [NaN, "x"]],
  ["frames.0.injection.mode", ["x"]],
  ["frames.0.injection.foo", [1]],
  ["frames.0.colour", [[1, 0, 0]]],
  ["frames.0", [{}, null, 5, "red"]],
];

/** Multi-seed specs: empty, duplicate, bad and too many seeds, bad ranges. */
const SEEDS_FIELDS: [string, unknown[], string?][] = [
  ["seeds", [[], null, "0..7", 5, true, {}, [[1]], { from: 0, count: 10_000 }]],
  ["seeds", [[1, 1], [3, "3"]], "seeds.1"],
  ["seeds", [[4, 5, "4"], [3, "1", 1n]], "seeds.2"],
  ["seeds", [[1, -1], [0, 1.5], [0, "18446744073709551616"], [0, NaN], [0, "0x1"]], "seeds.1"],
  ["seeds", [{ from: "18446744073709551615", count: 2 }], "seeds.count"],
];

/** Bad ranges. */
const RANGE_FIELDS: [string, unknown[], string?][] = [
  ["seeds.from", [-1, "abc", 1.5, null, "18446744073709551616"]],
  ["seeds.count", [0, -1, 2.5, NaN, "8", null, 10_001]],
  ["seeds.to", [7]],
];

/** Path type × parameter × bad values (checked by `lib/paths` through the spec). */
const PATH_PARAMS: [string, string, unknown[]][] = [
  ["bouncingBall", "restitution", [2, -0.1, NaN, "0.5"]],
  ["bouncingBall", "gravity", [NaN, -1, Infinity]],
  ["bouncingBall", "start", [[2, 0, 0], [0, 0], "red", [NaN, 0, 0]]],
  ["bouncingBall", "gravityAxis", ["q", 1]],
  ["bouncingBall", "duration", [0, -1, Infinity, NaN]],
  ["bouncingBall", "velocity", ["fast", [NaN, 0, 0], [0, 0]]],
  ["bouncingBall", "restHeight", [-1, 0]],
  ["bouncingBall", "bounciness", [1]],
  ["mirrorReflection", "direction", [[0, 0, 0], "up"]],
  ["mirrorReflection", "speed", [-1, Infinity, NaN]],
  ["mirrorReflection", "start", [[1.5, 0, 0]]],
  ["brownian", "sigma", [-1, NaN]],
  ["brownian", "steps", [0, 1.5, -3]],
  ["brownian", "seed", [-1, 1.5, 2 ** 32]],
  ["brownian", "dt", [0, -1]],
  ["linear", "from", [[0, 0, NaN], [1.2, 0, 0], [-0.1, 0, 0]]],
  ["linear", "to", ["red", [0, 0]]],
  ["linear", "duration", [-1, 0]],
  ["keyframes", "points", [
    [],
    [{ t: 0, color: [0, 0, 0] }],
    [{ t: 0, color: [2, 0, 0] }, { t: 1, color: [0, 0, 0] }],
    [{ t: 1, color: [0, 0, 0] }, { t: 0, color: [1, 1, 1] }],
  ]],
  ["keyframes", "interpolation", ["cubic", 3]],
];

/** Flag × bad values × the field the error must name. */
const FLAG_VALUES: [string, string[], string][] = [
  ["--frames", ["0", "-1", "2.5", "x", "", "NaN", "Infinity", "1e3", "2000000"], "frames"],
  ["--steps", ["0", "-5", "1001", "ten", "2.5", "", "NaN"], "steps"],
  ["--steps", ["5"], "injection.window"],
  ["--batch", ["0", "-1", "257", "x", "1.5", ""], "batch"],
  ["--seed", ["-1", "1.5", "abc", "18446744073709551616", "0x10", "", "1e3"], "seed"],
  [
    "--seeds",
    ["", "7..3", "1,,2", "-1", "a..b", "1.5", "0x10", "1..", "1,1", "3,4,3", "0..99999", "0..3334"],
    "seeds",
  ],
  ["--model", ["", "no/such", "/nonexistent/dir", "not a model", emptyDir], "model"],
  ["--device", ["gpu", "tpu", "", "CPU"], "device"],
  ["--threads", ["0", "-1", "many", "1025", "1.5", ""], "threads"],
  ["--out", ["", " "], "out"],
  [
    "--shard",
    ["1/1", "2/2", "-1/2", "0/0", "a/b", "1", "1/2/3", "0.5/2", "", "3/2", "0/100001"],
    "shard",
  ],
];

/** Command lines that are wrong as such, and the flag or word the message must name. */
const BAD_COMMAND_LINES: [string[], string][] = [
  [["--colour", "red"], "--colour"],
  [["--step", "10"], "--step"],
  [["--STEPS", "10"], "--STEPS"],
  [["-x"], "-x"],
  [["--frame=3"], "--frame"],
  [["extra"], "extra"],
  [["—steps", "10"], "—steps"],
  [["--steps"], "--steps"],
  [["--out"], "--out"],
  [["--model"], "--model"],
  [["--shard"], "--shard"],
  [["--wait=yes"], "--wait"],
  [["--help=1"], "--help"],
  [["--shard", "0/2"], "out"],
  [["--seed", "1", "--seeds", "2..3"], "seeds is"],
  [["--seeds"], "--seeds"],
];

interface Case {
  label: string;
  spec: Spec;
  args: string[];
  /** Text the error message must contain. */
  names: string;
}

function specCases(base: Spec, table: [string, unknown[], string?][], kind: string): Case[] {
  return table.flatMap(([field, values, named]) =>
    values.map((value, i) => ({
      label: `${kind} ${field} = ${String(value)} (#${i})`,
      spec: withField(base, field, value),
      args: [],
      names: `invalid experiment spec: ${named ?? field} is`,
    }))
  );
}

function buildCases(): Case[] {
  const cases: Case[] = [
    ...specCases(PATH_SPEC, SPEC_FIELDS, "spec"),
    ...specCases(TIMES_SPEC, TIMES_FIELDS, "times spec"),
    ...specCases(LIST_SPEC, LIST_FIELDS, "list spec"),
    ...specCases(SEEDS_SPEC, SEEDS_FIELDS, "seeds spec"),
    ...specCases(RANGE_SPEC, RANGE_FIELDS, "seeds range spec"),
    // Both seed and seeds, or neither.
    ...specCases(PATH_SPEC, [["seeds", [[1, 2], { from: 0, count: 2 }]]], "seed and seeds"),
    ...specCases(UNSEEDED, [["seed", [undefined]]], "no seed"),
  ];
  for (const [type, param, values] of PATH_PARAMS) {
    values.forEach((value, i) =>
      cases.push({
        label: `path ${type}.${param} = ${String(value)} (#${i})`,
        spec: { ...PATH_SPEC, path: { type, [param]: value } },
        args: [],
        names: `invalid experiment spec: path.${param} is`,
      })
    );
  }
  FLAG_VALUES.forEach(([flag, values, field]) =>
    values.forEach((value, i) => {
      // Both spellings; negative numbers need `=` (a separate "-1" reads as a flag).
      const joined = value.startsWith("-") || i % 2 === 1;
      cases.push({
        label: `flag ${flag} ${JSON.stringify(value)}`,
        spec: PATH_SPEC,
        args: joined ? [`${flag}=${value}`] : [flag, value],
        names: `invalid experiment spec: ${field} is`,
      });
    })
  );
  cases.push({
    label: "flag --frames beyond the listed frames",
    spec: LIST_SPEC,
    args: ["--frames", "3"],
    names: "invalid experiment spec: frames is 3",
  });
  for (const [args, names] of BAD_COMMAND_LINES) {
    cases.push({ label: `command line ${args.join(" ")}`, spec: PATH_SPEC, args, names });
  }
  return cases;
}

async function runCase(spec: Spec, args: string[], out: string | undefined) {
  const { deps, log } = fakeDeps();
  deps.resolveModel = (model, logLine) => resolveModel(model, { modelsDir, log: logLine });
  const lines: string[] = [];
  const code = await main(spec, out === undefined ? args : [...args, "--out", out], {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
    signal: new AbortController().signal,
    runner: { deps, resultsDir, log: () => {}, progressWriter: quietWriter },
  });
  return { code, text: lines.join("\n"), log };
}

/** The message names the field itself or one of its parts (`frames.t` → `frames.t.0`). */
function namesField(text: string, names: string): boolean {
  if (!names.endsWith(" is")) return text.includes(names);
  const field = names.slice(0, -3);
  return text.includes(names) || new RegExp(`${RegExp.escape(field)}\\.\\w+ is`).test(text);
}

async function listTree(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      names.push(entry.name);
      if (entry.isDirectory) {
        names.push(...(await listTree(join(dir, entry.name))).map((n) => `${entry.name}/${n}`));
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names;
}

Deno.test("the base specs are valid: the bad inputs below fail because of the bad value", async () => {
  for (const spec of [PATH_SPEC, TIMES_SPEC, LIST_SPEC, SEEDS_SPEC, RANGE_SPEC]) {
    const out = join(root, "valid", String(Math.random()).slice(2));
    const { code, text } = await runCase(spec, [], out);
    assert.equal(code, 0, text);
  }
  await Deno.remove(join(root, "valid"), { recursive: true });
});

Deno.test("generated bad inputs: exit 2, the field named, nothing loaded, no folder left", async () => {
  const cases = buildCases();
  assert.ok(cases.length >= 200, `only ${cases.length} cases`);
  const failures: string[] = [];
  for (const [i, c] of cases.entries()) {
    // Half with --out (that folder must not appear), half into the default results folder.
    const wantsOut = i % 2 === 0 && !c.args.some((a) => /^--(out|shard)\b/.test(a));
    const out = wantsOut ? join(outRoot, `case-${i}`) : undefined;
    const { code, text, log } = await runCase(c.spec, c.args, out);
    const problems: string[] = [];
    if (code !== EXIT_USAGE) problems.push(`exit ${code}`);
    if (!namesField(text, c.names)) problems.push(`message does not name "${c.names}"`);
    if (/Invalid input|expected \w+, received/.test(text)) problems.push("zod's wording");
    if (!/^error: /m.test(text) || /^\s+at /m.test(text)) problems.push("not a one-line error");
    if (log.samples.length > 0 || log.verified.length > 0) problems.push("did work");
    if (failures.length < 10 && problems.length > 0) {
      failures.push(`${c.label}: ${problems.join(", ")}\n    ${text.split("\n")[0]}`);
    }
    assert.deepEqual(await listTree(outRoot), [], `${c.label}: left a folder under --out`);
    assert.deepEqual(await listTree(resultsDir), [], `${c.label}: wrote under results/`);
  }
  assert.deepEqual(failures, []);
  console.log(`${cases.length} generated bad inputs rejected with exit code 2`);
});

Deno.test("cleanup of the bad-input fixtures", async () => {
  await Deno.remove(root, { recursive: true });
});
