/**
 * End to end: every experiment file runs on the tiny test checkpoint with a few frames and steps,
 * as a subprocess, through both entry points (`lib/cli/run.ts` and the file itself), and a second
 * identical run computes nothing.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { decodePng, findFfmpeg } from "../lib/render/mod.ts";
import { sha256File } from "../lib/util/hash.ts";
import type { Manifest } from "../lib/experiments/mod.ts";
import { runDeno as deno } from "../lib/util/_test_process.ts";

const EXPERIMENTS = ["path1", "path2", "path3", "colors", "sensitivity", "innate_external"];
const SMALL = ["--model", "tiny", "--frames", "3", "--steps", "10", "--threads", "1"];
/** Extra flags per experiment: the multi-seed grid runs 2 of its seeds (2 × 3 frames). */
const EXTRA: Record<string, string[]> = { innate_external: ["--seeds", "0..1"] };
/** Frames of each small run. */
const frameCount = (name: string) => (EXTRA[name] ? 6 : 3);

/** Runs an experiment through `lib/cli/run.ts` or directly; returns its manifest. */
async function runExperimentFile(name: string, out: string, via: "task" | "direct") {
  const file = `experiments/${name}.ts`;
  const entry = via === "task" ? ["run", "-A", "lib/cli/run.ts", file] : ["run", "-A", file];
  const result = await deno([...entry, ...SMALL, ...(EXTRA[name] ?? []), "--out", out]);
  assert.equal(result.code, 0, `${via} ${file} failed:\n${result.stderr}`);
  assert.equal(result.stdout.trim().split("\n").at(-1), out, "prints the run folder");
  const manifest: Manifest = JSON.parse(await Deno.readTextFile(join(out, "manifest.json")));
  return { manifest, stderr: result.stderr };
}

async function isPng(path: string) {
  const image = await decodePng(await Deno.readFile(path), path);
  return image.width > 0 && image.height > 0;
}

for (const [i, name] of EXPERIMENTS.entries()) {
  Deno.test(`experiments/${name}.ts runs end to end and resumes with zero work`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: `e2e_${name}_` });
    try {
      const out = join(tmp, "run");
      // Alternate the entry points so each is exercised both for a fresh run and a rerun.
      const [first, second] = i % 2 === 0
        ? ["task", "direct"] as const
        : ["direct", "task"] as const;
      const { manifest } = await runExperimentFile(name, out, first);
      assert.equal(manifest.status, "complete");
      assert.equal(manifest.spec.name, name);
      assert.equal(manifest.spec.model, "tiny");
      assert.equal(manifest.spec.steps, 10);
      const n = frameCount(name);
      assert.equal(manifest.frames.length, n);
      assert.deepEqual([manifest.summary!.computed, manifest.summary!.reused], [n, 0]);
      for (const frame of manifest.frames) {
        assert.equal(await sha256File(join(out, frame.file)), frame.sha256);
        const image = await decodePng(await Deno.readFile(join(out, frame.file)));
        assert.equal(image.width, 64, "the tiny model decodes to 64×64");
        assert.ok(frame.meanColor.every((c) => c >= 0 && c <= 1));
      }
      if (manifest.spec.outputs.contactSheet !== false) {
        assert.ok(await isPng(join(out, manifest.outputs.contactSheet!)));
      }
      assert.ok(await isPng(join(out, manifest.outputs.pathPlot!)));
      if (manifest.spec.seeds) {
        // A multi-seed run: seed and colorIndex per frame, and the seeds × colours picture.
        assert.deepEqual(manifest.frames.map((f) => [f.seed, f.colorIndex]), [
          ["0", 0],
          ["0", 1],
          ["0", 2],
          ["1", 0],
          ["1", 1],
          ["1", 2],
        ]);
        const grid = await decodePng(await Deno.readFile(join(out, manifest.outputs.grid!)));
        assert.ok(grid.width > 3 * 64 && grid.height > 2 * 64, "3 columns and 2 rows of 64 px");
      }
      if (manifest.spec.outputs.video !== false) {
        const gif = await Deno.readFile(join(out, manifest.outputs.video.gif!));
        assert.equal(new TextDecoder().decode(gif.subarray(0, 4)), "GIF8");
      }
      const ffmpeg = await findFfmpeg();
      if (
        ffmpeg && manifest.spec.outputs.video && manifest.spec.outputs.video.formats.includes("mp4")
      ) {
        assert.ok((await Deno.stat(join(out, manifest.outputs.video.mp4!))).size > 0);
      } else if (
        manifest.spec.outputs.video && manifest.spec.outputs.video.formats.includes("mp4")
      ) {
        assert.equal(manifest.outputs.video.mp4, null);
        assert.ok(manifest.warnings.some((w) => w.includes("ffmpeg")));
      }

      const again = await runExperimentFile(name, out, second);
      assert.deepEqual([again.manifest.summary!.computed, again.manifest.summary!.reused], [0, n]);
      assert.deepEqual(
        again.manifest.frames.map((f) => f.sha256),
        manifest.frames.map((f) => f.sha256),
      );
      assert.match(again.stderr, new RegExp(`${n} frames \\(0 computed, ${n} reused\\)`));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

Deno.test("a bad override exits 2 before any work, from either entry point", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "e2e_bad_" });
  try {
    const out = join(tmp, "run");
    for (
      const entry of [["run", "-A", "lib/cli/run.ts", "experiments/path1.ts"], [
        "run",
        "-A",
        "experiments/path1.ts",
      ]]
    ) {
      const steps = await deno([...entry, "--model", "tiny", "--steps", "5", "--out", out]);
      assert.equal(steps.code, 2, steps.stderr);
      assert.match(steps.stderr, /injection\.window is \[1,10\] \(steps 5 set by --steps\)/);
      const flag = await deno([...entry, "--colour", "red"]);
      assert.equal(flag.code, 2);
      assert.match(flag.stderr, /colour/);
    }
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound, "nothing was written");
    const missing = await deno(["run", "-A", "lib/cli/run.ts", "experiments/nope.ts"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.ts/);
    const help = await deno(["run", "-A", "lib/cli/run.ts", "experiments/colors.ts", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--frames <n>/);
    assert.match(help.stdout, /name: "colors"/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
