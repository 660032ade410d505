import assert from "node:assert/strict";
import { join } from "node:path";
import { fakeEmbedder } from "../identity/_fake_embedder.ts";
import { fakeDeps, quietWriter } from "./_fakes.ts";
import { EXIT_USAGE, main, parseCliArgs, USAGE, UsageError } from "./cli.ts";
import { SpecError } from "./spec.ts";

const spec = {
  name: "cli-test",
  model: "tiny",
  seed: 1,
  steps: 20,
  path: { type: "linear" },
  frames: { count: 4 },
};

Deno.test("parseCliArgs: every flag", () => {
  const parsed = parseCliArgs([
    "--model",
    "CompVis/ldm-celebahq-256",
    "--frames",
    "3",
    "--steps=50",
    "--batch",
    "2",
    "--seed",
    "18446744073709551615",
    "--device",
    "auto",
    "--threads",
    "2",
    "--out",
    "/tmp/x",
  ]);
  assert.equal(parsed.help, false);
  assert.deepEqual(parsed.overrides, {
    model: "CompVis/ldm-celebahq-256",
    frames: 3,
    steps: 50,
    batch: 2,
    seed: "18446744073709551615",
  });
  assert.deepEqual(parsed.run, { device: "auto", threads: 2, out: "/tmp/x" });
  assert.equal(parseCliArgs(["-h"]).help, true);
  assert.deepEqual(parseCliArgs([]).run, {});
});

Deno.test("parseCliArgs: non-integers stay text so the spec check can name them", () => {
  assert.equal(parseCliArgs(["--steps", "ten"]).overrides.steps, "ten");
  assert.equal(parseCliArgs(["--frames", "2.5"]).overrides.frames, "2.5");
});

Deno.test("parseCliArgs: unknown flags, missing values and stray arguments are usage errors", () => {
  for (const args of [["--colour", "red"], ["--steps"], ["extra"], ["-x"]]) {
    assert.throws(() => parseCliArgs(args), UsageError, args.join(" "));
  }
  assert.throws(() => parseCliArgs(["--colour"]), /colour/);
});

Deno.test("parseCliArgs: bad runtime values name the flag", () => {
  for (
    const [args, field] of [
      [["--device", "gpu"], "device"],
      [["--threads", "0"], "threads"],
      [["--threads", "many"], "threads"],
      [["--out", " "], "out"],
    ] as const
  ) {
    assert.throws(
      () => parseCliArgs(args),
      (e) => e instanceof SpecError && e.field === field && e.message.includes(`--${field}`),
    );
  }
});

async function cli(args: string[], input: unknown = spec) {
  const { deps, log } = fakeDeps();
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(input, args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    runner: { deps, log: () => {}, progressWriter: quietWriter },
  });
  return { code, out: out.join("\n"), err: err.join("\n"), log };
}

Deno.test("main: --help prints the usage and the spec, does nothing else", async () => {
  const { code, out, log } = await cli(["--help"]);
  assert.equal(code, 0);
  assert.ok(out.startsWith(USAGE));
  assert.match(out, /name: "cli-test"/);
  assert.deepEqual(log.resolved, []);
});

Deno.test("main: bad flags and bad values exit 2 before any work", async () => {
  for (
    const [args, pattern] of [
      [["--colour", "red"], /colour/],
      [["--steps", "5"], /injection\.window .*steps 5 set by --steps/],
      [["--steps", "ten"], /steps is "ten" \(set by --steps\)/],
      [["--seed", "-1"], /seed/],
      [["--frames", "0"], /frames/],
      [["--device", "tpu"], /device/],
    ] as const
  ) {
    const { code, err, log } = await cli([...args]);
    assert.equal(code, EXIT_USAGE, args.join(" "));
    assert.match(err, pattern);
    assert.deepEqual(log.resolved, [], "no model resolved");
    assert.deepEqual(log.samples, []);
  }
});

Deno.test("main: an invalid spec file exits 2 naming the field", async () => {
  const { code, err } = await cli([], { ...spec, injection: { mode: "loud" } });
  assert.equal(code, EXIT_USAGE);
  assert.match(err, /injection\.mode is "loud"; allowed: "constant" or "gaussian"/);
});

Deno.test("main: overrides reach the run; the folder is printed on stdout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "run");
    const result = await cli([
      "--frames",
      "2",
      "--steps",
      "11",
      "--seed",
      "7",
      "--batch",
      "1",
      "--out",
      out,
    ]);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, out);
    assert.deepEqual(result.log.samples.map((s) => [s.steps, s.seed, s.colors.length]), [
      [11, 7, 1],
      [11, 7, 1],
    ]);
    const manifest = JSON.parse(await Deno.readTextFile(join(out, "manifest.json")));
    assert.equal(manifest.spec.frames.count, 2);
    assert.match(result.err, /2 frames \(2 computed, 0 reused\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main: --seeds makes a multi-seed run; --seed on it renders one row", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const grid = await cli(["--frames", "2", "--seeds", "5..6", "--batch", "2", "--out", dir]);
    assert.equal(grid.code, 0, grid.err);
    assert.deepEqual(grid.log.samples.map((s) => [s.seed, s.colors.length]), [[5, 2], [6, 2]]);
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.deepEqual(manifest.spec.seeds, [5, 6]);
    assert.deepEqual(manifest.frames.map((f: { seed: string }) => f.seed), ["5", "5", "6", "6"]);
    assert.equal(manifest.outputs.grid, "grid.png");
    assert.match(grid.err, /4 frames \(4 computed, 0 reused\)/);
    // --seed 6 on the same folder: the row of seed 6, reused from the grid.
    const row = await cli(["--frames", "2", "--seed", "6", "--out", dir]);
    assert.equal(row.code, 0, row.err);
    assert.match(row.err, /2 frames \(0 computed, 2 reused\)/);
    const help = await cli(["--help"]);
    assert.match(help.out, /--seeds <a\.\.b\|a,b,…>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main: a failure at run time exits 1 with the message", async () => {
  const { code, err } = await cli(["--out", "/dev/null/cannot-create"]);
  assert.equal(code, 1);
  assert.match(err, /^error: /);
});

Deno.test("main: --no-identity writes no identity records, in the same folder with the same spec hash", async () => {
  const results = await Deno.makeTempDir();
  // The embedder is there: only the flag keeps the numbers out.
  const run = async (args: string[], stamp: string) => {
    const { deps, log } = fakeDeps({ size: 8, embedder: fakeEmbedder().embedder });
    const out: string[] = [], err: string[] = [];
    const code = await main(spec, args, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      runner: {
        deps,
        resultsDir: results,
        now: () => new Date(stamp),
        log: () => {},
        progressWriter: quietWriter,
      },
    });
    assert.equal(code, 0, err.join("\n"));
    const dir = out.join("\n");
    return {
      dir,
      manifest: JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))),
      samples: log.samples,
    };
  };
  try {
    const off = await run(["--no-identity"], "2025-01-01T00:00:00Z");
    assert.ok(off.samples.some((s) => s.scale > 0), "the first run renders the frames");
    assert.equal(off.manifest.identity, undefined);
    assert.equal(off.manifest.summary.identity, undefined);
    assert.equal(off.manifest.outputs.identityPlot, undefined);
    assert.ok(off.manifest.frames.every((f: { identity?: unknown }) => f.identity === undefined));
    await assert.rejects(Deno.stat(join(off.dir, "identity_plot.png")), Deno.errors.NotFound);
    // The same spec with identity on, later: the run folder of that spec is found and resumed
    // (the flag is not part of the spec, so neither of its hash nor of the folder's name).
    const on = await run([], "2025-01-02T00:00:00Z");
    assert.equal(on.dir, off.dir);
    assert.match(on.dir, new RegExp(`-${off.manifest.specHash.slice(0, 8)}$`));
    assert.equal(on.manifest.specHash, off.manifest.specHash);
    assert.deepEqual(on.manifest.spec, off.manifest.spec);
    assert.equal(on.manifest.frames.length, 4);
    // Resumed, not run again: the only image rendered is the reference face (no injection),
    // which the run without identity had no reason to make; no frame is sampled again.
    assert.deepEqual(on.samples.map((s) => [s.scale, s.colors]), [[0, [[0, 0, 0]]]]);
    assert.ok(on.manifest.frames.every((f: { computed?: boolean }) => !f.computed));
    assert.ok(on.manifest.frames.every((f: { identity?: unknown }) => f.identity !== undefined));
    assert.ok(on.manifest.summary.identity);
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});
