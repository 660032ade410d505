import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256File } from "../util/hash.ts";
import { treeDigest } from "../util/_test_tree.ts";
import { fakeDeps, quietWriter } from "./_fakes.ts";
import { type Manifest, MANIFEST_FILE, ManifestError } from "./manifest.ts";
import { MergeError, mergeShards } from "./merge.ts";
import { runExperiment } from "./runner.ts";
import type { Shard } from "./shard.ts";
import { type ExperimentInput, resolveExperiment } from "./spec.ts";
import { readReportData } from "../report/_read_report.ts";
import { reportData } from "../report/data.ts";

const spec = {
  name: "merge-test",
  model: "tiny",
  seed: 5,
  steps: 12,
  path: { type: "bouncingBall" },
  frames: { count: 10 },
  batch: 2,
} satisfies ExperimentInput;

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "merge_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function run(input: unknown, out: string, shard?: Shard) {
  const { deps } = fakeDeps();
  return runExperiment(input, { out, deps, shard, log: () => {}, progressWriter: quietWriter });
}

async function runShards(input: unknown, root: string, count: number): Promise<string[]> {
  const dirs: string[] = [];
  for (let index = 0; index < count; index++) {
    const dir = join(root, `shard-${index}`);
    await run(input, dir, { index, count });
    dirs.push(dir);
  }
  return dirs;
}

function merge(out: string, dirs: string[]) {
  const { deps, log } = fakeDeps();
  return { result: mergeShards(out, dirs, { deps, log: () => {} }), pictures: log.pictures };
}

/** A manifest without what legitimately differs between runs of the same spec. */
function stable(manifest: Manifest): unknown {
  const copy = structuredClone(manifest) as Partial<Manifest> & Record<string, unknown>;
  for (const key of ["createdAt", "updatedAt", "runtime", "runId", "mergedFrom"]) delete copy[key];
  delete (copy.summary as Record<string, unknown> | null)?.samplingMs;
  for (const frame of copy.frames!) delete (frame as Partial<typeof frame>).timings;
  return copy;
}

async function readJson(path: string): Promise<Manifest> {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test("shards merged equal a single-process run (frames, hashes, keys, summary, pictures)", async () => {
  await withTempDir(async (root) => {
    const single = (await run(spec, join(root, "single"))).manifest;
    const dirs = await runShards(spec, join(root, "sharded"), 3);
    const first = await readJson(join(dirs[0], MANIFEST_FILE));
    assert.deepEqual(first.shard, { index: 0, count: 3 });
    assert.deepEqual(first.frames.map((f) => f.index), [0, 3, 6, 9]);
    assert.equal(first.status, "complete");
    assert.equal(first.outputs.contactSheet, null, "a shard makes no pictures");

    const out = join(root, "sharded");
    const { result, pictures } = merge(out, dirs);
    const merged = (await result).manifest;
    assert.deepEqual(await readJson(join(out, MANIFEST_FILE)), merged);
    assert.deepEqual(stable(merged), stable(single));
    assert.deepEqual(pictures, ["contactSheet:10", "pathPlot:10", "gif:10"]);
    assert.deepEqual(merged.mergedFrom!.map((m) => m.shard.index), [0, 1, 2]);
    // The merged run has its report, like the single run; each shard has its own.
    assert.deepEqual(await readReportData(out), reportData(merged));
    assert.equal((await readReportData(out)).frames.length, 10);
    assert.deepEqual((await readReportData(dirs[0])).frames.map((f) => f.index), [0, 3, 6, 9]);
    for (const frame of merged.frames) {
      assert.equal(await sha256File(join(out, frame.file)), frame.sha256);
    }
    // Merging again gives the same manifest.
    const again = (await merge(out, dirs).result).manifest;
    assert.deepEqual(stable(again), stable(merged));
  });
});

Deno.test("a merged preview keeps the PREVIEW warning of a single preview run", async () => {
  await withTempDir(async (root) => {
    const preview = resolveExperiment(spec, { preview: 6 });
    const single = (await run(preview, join(root, "single"))).manifest;
    assert.ok(single.warnings.some((w) => w.startsWith("PREVIEW:")), single.warnings.join("; "));
    const dirs = await runShards(preview, join(root, "sharded"), 2);
    const merged = (await merge(join(root, "sharded"), dirs).result).manifest;
    assert.deepEqual(stable(merged), stable(single));
  });
});

Deno.test("merge: a colour listed twice in different shards is still counted as computed once", async () => {
  await withTempDir(async (root) => {
    const { path: _, ...noPath } = spec;
    const listed = {
      ...noPath,
      frames: [{ color: "#ff0000" }, { color: "#00ff00" }, { color: "#ff0000" }, { color: "#000" }],
    };
    const single = (await run(listed, join(root, "single"))).manifest;
    const dirs = await runShards(listed, join(root, "sharded"), 2);
    const merged = (await merge(join(root, "sharded"), dirs).result).manifest;
    assert.equal(single.summary!.computed, 3);
    assert.deepEqual(stable(merged), stable(single));
  });
});

async function expectRefusal(out: string, dirs: string[], pattern: RegExp) {
  await assert.rejects(merge(out, dirs).result, (e) => {
    assert.ok(e instanceof MergeError || e instanceof ManifestError, String(e));
    assert.match((e as Error).message, pattern);
    return true;
  });
  await assert.rejects(Deno.stat(join(out, MANIFEST_FILE)), Deno.errors.NotFound);
}

Deno.test("merge refuses shards of different specs, models or shard counts, naming them", async () => {
  await withTempDir(async (root) => {
    const dirs = await runShards(spec, join(root, "a"), 2);
    const otherSeed = join(root, "b", "shard-1");
    await run({ ...spec, seed: 6 }, otherSeed, { index: 1, count: 2 });
    await expectRefusal(
      join(root, "out1"),
      [dirs[0], otherSeed],
      new RegExp(
        `${otherSeed} and ${dirs[0]} are shards of different experiment specs.*seed \\(6 vs 5\\)`,
      ),
    );
    const otherCount = join(root, "c", "shard-1");
    await run(spec, otherCount, { index: 1, count: 3 });
    await expectRefusal(join(root, "out2"), [dirs[0], otherCount], /shard 1\/3 but .* shard 0\/2/);
    await expectRefusal(join(root, "out3"), [dirs[0], dirs[0]], /are both shard 0\/2/);

    // Same spec, other model files: the model's hashes are part of every frame.
    const manifestPath = join(dirs[1], MANIFEST_FILE);
    const m = await readJson(manifestPath);
    (m.model.info.sha256 as Record<string, string>)["unet.onnx"] = "f".repeat(64);
    await Deno.writeTextFile(manifestPath, JSON.stringify(m));
    await expectRefusal(join(root, "out4"), dirs, /different model files/);
  });
});

Deno.test("merge reports missing frames by shard: absent folders, unfinished shards", async () => {
  await withTempDir(async (root) => {
    const dirs = await runShards(spec, join(root, "s"), 3);
    const out = join(root, "s");
    await expectRefusal(
      out,
      [dirs[0], dirs[2]],
      /3 of 10 frames are missing:\n {2}shard 1\/3, no folder given: frames 1, 4, 7\n.*run those shards/si,
    );
    await expectRefusal(
      out,
      [dirs[0], join(root, "nowhere"), dirs[2]],
      /shard 1\/3, no folder given \(not found: .*nowhere: no such folder\): frames 1, 4, 7/,
    );
    // An interrupted shard: its manifest lists what is done, the rest is reported missing.
    const partial = join(root, "partial");
    const { deps } = fakeDeps({ failOnCall: 2 });
    await assert.rejects(
      runExperiment(spec, {
        out: partial,
        deps,
        shard: { index: 1, count: 3 },
        log: () => {},
        progressWriter: quietWriter,
      }),
    );
    await expectRefusal(
      out,
      [dirs[0], partial, dirs[2]],
      new RegExp(
        `1 of 10 frames are missing:\n  shard 1/3, ${partial} \\(status failed\\): frames 7`,
      ),
    );
  });
});

Deno.test("merge refuses damaged frames and manifests, naming the file and the shard to re-run", async () => {
  await withTempDir(async (root) => {
    const dirs = await runShards(spec, join(root, "s"), 2);
    const m = await readJson(join(dirs[1], MANIFEST_FILE));
    const frame = join(dirs[1], m.frames[2].file);
    await Deno.writeFile(frame, (await Deno.readFile(frame)).subarray(0, 20));
    await expectRefusal(
      join(root, "out"),
      dirs,
      new RegExp(`${frame} \\(frame 5\\) is damaged.*run shard 1/2 again`),
    );
    await Deno.writeTextFile(join(dirs[0], MANIFEST_FILE), '{"version": 1, "fra');
    await expectRefusal(join(root, "out"), dirs, /manifest\.json is damaged \(not valid JSON/);
  });
});

Deno.test("merge refuses a full run, a frame in the wrong shard, and merging into a shard folder", async () => {
  await withTempDir(async (root) => {
    const full = join(root, "full");
    await run(spec, full);
    await expectRefusal(join(root, "out"), [full], /is not a shard run/);

    const dirs = await runShards(spec, join(root, "s"), 2);
    await assert.rejects(merge(dirs[0], dirs).result, /also given as a shard folder/);
    const path = join(dirs[0], MANIFEST_FILE);
    const m = await readJson(path);
    m.frames[1].index = 3;
    await Deno.writeTextFile(path, JSON.stringify(m));
    await expectRefusal(join(root, "out"), dirs, /frame 3: belongs to shard 1\/2, not 0\/2/);
    m.frames[1].index = 2;
    m.frames[1].key = "0".repeat(64);
    await Deno.writeTextFile(path, JSON.stringify(m));
    await expectRefusal(join(root, "out"), dirs, /frame 2: its content key is not the one/);
  });
});

Deno.test("merge checks every shard and frame before writing: a corrupt last frame leaves OUT untouched", async () => {
  await withTempDir(async (root) => {
    const dirs = await runShards(spec, join(root, "s"), 2);
    const m = await readJson(join(dirs[1], MANIFEST_FILE));
    const last = m.frames.at(-1)!;
    assert.equal(last.index, 9, "the last frame of the run");
    const path = join(dirs[1], last.file);
    const bytes = await Deno.readFile(path);
    // Same size, other content; flipping again repairs it.
    const flipByte = () => (bytes[bytes.length >> 1] ^= 0x01, Deno.writeFile(path, bytes));
    await flipByte();
    const damaged = new RegExp(`${path} \\(frame 9\\) is damaged.*run shard 1/2 again`);

    // A new output folder is not even created.
    const fresh = join(root, "fresh", "out");
    await expectRefusal(fresh, dirs, damaged);
    await assert.rejects(Deno.stat(join(root, "fresh")), Deno.errors.NotFound);

    // The shards' parent (the usual OUT): nothing added, nothing changed.
    const parent = join(root, "s");
    const before = await treeDigest(parent);
    await expectRefusal(parent, dirs, damaged);
    assert.deepEqual(await treeDigest(parent), before);

    // A folder holding an earlier merge keeps its frames, manifest and pictures as they were.
    await flipByte(); // repaired
    const earlier = join(root, "earlier");
    await merge(earlier, dirs).result;
    await flipByte(); // damaged again
    const merged = await treeDigest(earlier);
    await assert.rejects(merge(earlier, dirs).result, damaged);
    assert.deepEqual(await treeDigest(earlier), merged);
  });
});

const { seed: _seed, ...unseeded } = spec;

Deno.test("a multi-seed grid split into shards merges into the single-process grid", async () => {
  await withTempDir(async (root) => {
    const grid = { ...unseeded, seeds: [5, 9, 11], frames: { count: 4 }, batch: 3 };
    const single = (await run(grid, join(root, "single"))).manifest;
    const dirs = await runShards(grid, join(root, "sharded"), 3);
    const first = await readJson(join(dirs[0], MANIFEST_FILE));
    // Shard 0/3 takes frames 0, 3, 6, 9: colour 0 and 3 of seed 5, colour 2 of seed 9 …
    assert.deepEqual(first.frames.map((f) => [f.index, f.seed, f.colorIndex]), [
      [0, "5", 0],
      [3, "5", 3],
      [6, "9", 2],
      [9, "11", 1],
    ]);
    assert.equal(first.outputs.grid, null, "a shard makes no pictures");
    const out = join(root, "sharded");
    const { result, pictures } = merge(out, dirs);
    const merged = (await result).manifest;
    assert.deepEqual(stable(merged), stable(single));
    assert.deepEqual(pictures, ["contactSheet:12", "grid:3x4", "pathPlot:4", "gif:12"]);
    assert.equal(merged.outputs.grid, "grid.png");
    assert.deepEqual(
      merged.frames.filter((f) => f.distanceToPrevious === null).map((f) => f.index),
      [0, 4, 8],
      "no neighbour distance across a seed boundary",
    );
  });
});

Deno.test("tiny model: a grid's shards merge into frames identical to single-seed runs of each seed", async () => {
  await withTempDir(async (root) => {
    const base = {
      name: "grid-tiny",
      model: "tiny",
      steps: 10,
      path: { type: "linear", from: [0, 0, 0], to: [1, 0.5, 0.25] },
      frames: { count: 3 },
      batch: 2,
      outputs: { contactSheet: false, pathPlot: false, video: false },
    } as const;
    const options = { threads: 1, log: () => {}, progressWriter: quietWriter };
    const dirs = [0, 1].map((i) => join(root, `shard-${i}`));
    for (const [index, dir] of dirs.entries()) {
      await runExperiment({ ...base, seeds: [0, 42] }, {
        ...options,
        out: dir,
        shard: { index, count: 2 },
      });
    }
    const out = join(root, "grid");
    const { manifest } = await mergeShards(out, dirs, { log: () => {} });
    assert.equal(manifest.frames.length, 6);
    for (const seed of [0, 42]) {
      const one = await runExperiment({ ...base, seed }, {
        ...options,
        out: join(root, `${seed}`),
      });
      const row = manifest.frames.filter((f) => f.seed === String(seed));
      assert.deepEqual(row.map((f) => f.colorIndex), [0, 1, 2]);
      assert.deepEqual(row.map((f) => f.key), one.manifest.frames.map((f) => f.key));
      assert.deepEqual(row.map((f) => f.sha256), one.manifest.frames.map((f) => f.sha256));
    }
    // The seeds give different faces, and grid.png shows them all.
    assert.notEqual(manifest.frames[0].sha256, manifest.frames[3].sha256);
    const { decodePng } = await import("../render/mod.ts");
    const picture = await decodePng(await Deno.readFile(join(out, manifest.outputs.grid!)));
    assert.ok(picture.width > 3 * 64 && picture.height > 2 * 64);
  });
});
