/**
 * The manifest's model record: what identifies the model (the spec as given and model.json's
 * file hashes), never the folder it was loaded from, which is a path on the machine that ran
 * it. Every reader copes with manifests of the first release, which recorded that folder.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { compareRuns } from "../compare/manifest_diff.ts";
import { openRun } from "../compare/run_folder.ts";
import { fakeDeps, quietWriter, withTempDir } from "./_fakes.ts";
import type { RunnerDeps } from "./deps.ts";
import { type Manifest, MANIFEST_FILE } from "./manifest.ts";
import { mergeShards } from "./merge.ts";
import { runExperiment } from "./runner.ts";
import type { Shard } from "./shard.ts";

const PREFIX = "manifest_model_test_";

const spec = {
  name: "model-record-test",
  model: "tiny",
  seed: 11,
  steps: 12,
  path: { type: "linear" },
  frames: { count: 4 },
  batch: 2,
};

/** Where the first release's snapshots recorded the tiny model. */
const FIRST_RELEASE_DIR = "/work/main/models/tiny";

/** Fake deps whose model is loaded from `modelDir`. */
function depsFrom(modelDir: string) {
  const { deps, log } = fakeDeps();
  const moved: RunnerDeps = {
    ...deps,
    resolveModel: () => Promise.resolve(modelDir),
    loadModel: async (dir, options) => ({ ...(await deps.loadModel(dir, options)), dir }),
  };
  return { deps: moved, log };
}

function run(out: string, modelDir: string, shard?: Shard) {
  const { deps, log } = depsFrom(modelDir);
  const result = runExperiment(spec, {
    out,
    deps,
    shard,
    log: () => {},
    progressWriter: quietWriter,
  });
  return { result, log };
}

async function readJson(dir: string): Promise<Manifest> {
  return JSON.parse(await Deno.readTextFile(join(dir, MANIFEST_FILE)));
}

/** Rewrites `dir`'s manifest as the first release wrote it: with the absolute model folder. */
async function asFirstRelease(dir: string): Promise<void> {
  const manifest = await readJson(dir);
  manifest.model = { spec: manifest.model.spec, dir: FIRST_RELEASE_DIR, info: manifest.model.info };
  await Deno.writeTextFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
}

Deno.test("a run with --out elsewhere records what identifies the model, not its folder", async () => {
  await withTempDir(PREFIX, async (root) => {
    const modelDir = join(root, "machine", "models", "tiny");
    const out = join(root, "elsewhere", "run");
    await run(out, modelDir).result;
    const text = await Deno.readTextFile(join(out, MANIFEST_FILE));
    const manifest: Manifest = JSON.parse(text);
    assert.deepEqual(Object.keys(manifest.model), ["spec", "info"]);
    assert.equal(manifest.model.spec, "tiny");
    assert.deepEqual(manifest.model.info.sha256, {
      "unet.onnx": "1".repeat(64),
      "vqvae_decoder.onnx": "2".repeat(64),
    });
    assert.ok(!text.includes(root), "no path of this machine in the manifest");
  });
});

Deno.test("the same model files in two folders are the same model for compare", async () => {
  await withTempDir(PREFIX, async (root) => {
    const a = join(root, "a");
    const b = join(root, "b");
    await run(a, join(root, "here", "tiny")).result;
    await run(b, join(root, "there", "tiny")).result;
    const comparison = await compareRuns(await openRun(a), await openRun(b));
    assert.equal(comparison.ok, true);
    assert.deepEqual(comparison.diffs.model, []);
  });
});

Deno.test("resuming a first-release run folder (absolute model.dir) reuses its frames", async () => {
  await withTempDir(PREFIX, async (root) => {
    const out = join(root, "run");
    const first = (await run(out, join(root, "models", "tiny")).result).manifest;
    await asFirstRelease(out);
    const resumed = run(out, join(root, "moved", "tiny"));
    const manifest = (await resumed.result).manifest;
    assert.equal(resumed.log.samples.length, 0, "nothing recomputed");
    assert.deepEqual(manifest.frames.map((f) => f.sha256), first.frames.map((f) => f.sha256));
    assert.equal((await readJson(out)).model.dir, undefined, "the old folder is not carried on");
  });
});

Deno.test("merging first-release shards records no model folder", async () => {
  await withTempDir(PREFIX, async (root) => {
    const dirs = [join(root, "shard-0"), join(root, "shard-1")];
    for (const [index, dir] of dirs.entries()) {
      await run(dir, join(root, `node-${index}`, "tiny"), { index, count: 2 }).result;
      await asFirstRelease(dir);
    }
    const { deps } = fakeDeps();
    const { manifest } = await mergeShards(join(root, "merged"), dirs, { deps, log: () => {} });
    assert.deepEqual(Object.keys(manifest.model), ["spec", "info"]);
    assert.deepEqual(await readJson(join(root, "merged")), manifest);
  });
});
