import assert from "node:assert/strict";
import { join } from "node:path";
import { fakeDeps, quietWriter } from "../experiments/_fakes.ts";
import { frameKey, keyContextFor } from "../experiments/keys.ts";
import { type Manifest, readManifest } from "../experiments/manifest.ts";
import { runExperiment, type RunOptions } from "../experiments/runner.ts";
import { type ExperimentInput, resolveExperiment } from "../experiments/spec.ts";
import { decodePng } from "../render/png.ts";
import { sha256File } from "../util/hash.ts";
import { fakeEmbedder } from "./_fake_embedder.ts";
import { distance, twoWayDecomposition } from "./analysis.ts";
import { identityPlotInput } from "./run_identity.ts";
import { rgbaToNchw } from "./tracker.ts";

const spec = {
  name: "identity-test",
  model: "tiny",
  seed: 3,
  steps: 12,
  path: { type: "linear", from: [0.1, 0, 0], to: [1, 0.5, 0.25] },
  frames: { count: 5 },
  batch: 2,
} satisfies ExperimentInput;

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "identity_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(input: unknown, out: string, options: RunOptions = {}, sha?: string) {
  const fake = fakeEmbedder(sha);
  const { deps, log } = fakeDeps({ embedder: fake.embedder });
  const { manifest } = await runExperiment(input, {
    out,
    deps,
    log: () => {},
    progressWriter: quietWriter,
    ...options,
  });
  return { manifest, log, embedLog: fake.log };
}

/** The fake embedder's descriptor of a stored PNG, computed independently of the runner. */
async function descriptorOf(dir: string, file: string): Promise<number[]> {
  const image = await decodePng(await Deno.readFile(join(dir, file)));
  const { embedder } = fakeEmbedder();
  return Array.from(await embedder.embed(rgbaToNchw([image.rgba], image.width), 1, image.width));
}

Deno.test("a run records descriptors, distances, the reference face, the summary and the plot", async () => {
  await withTempDir(async (dir) => {
    const { manifest, log } = await run(spec, dir);
    // The reference (scale 0, black) is rendered once, before the frames.
    assert.deepEqual(log.samples.map((s) => [s.scale, s.colors.length]), [
      [0, 1],
      [0.01, 2],
      [0.01, 2],
      [0.01, 1],
    ]);
    assert.deepEqual(log.samples[0].colors, [[0, 0, 0]]);
    const identity = manifest.identity!;
    assert.equal(identity.embedder.name, "fake embedder (tests only)");
    assert.equal(identity.references.length, 1);
    const ref = identity.references[0];
    const resolved = resolveExperiment(spec);
    const context = keyContextFor(resolved, {
      sha256: { "unet.onnx": "1".repeat(64), "vqvae_decoder.onnx": "2".repeat(64) },
      scheduler: { num_train_timesteps: 1000 },
      latentScale: 1,
    });
    // Keyed like a frame of this run: black, scale 0, the run's window and mode.
    assert.equal(
      ref.key,
      frameKey(context, {
        color: [0, 0, 0],
        injection: { scale: 0, window: resolved.injection.window, mode: "constant" },
      }),
    );
    assert.equal(ref.seed, "3");
    assert.equal(await sha256File(join(dir, ref.file)), ref.sha256);
    assert.deepEqual(ref.descriptor, await descriptorOf(dir, ref.file));
    let previous: number[] | null = null;
    for (const frame of manifest.frames) {
      const id = frame.identity!;
      assert.deepEqual(id.descriptor, await descriptorOf(dir, frame.file));
      assert.equal(id.toReference, distance(id.descriptor, ref.descriptor));
      assert.equal(id.toPrevious, previous && distance(id.descriptor, previous));
      previous = id.descriptor;
    }
    const s = manifest.summary!.identity!;
    assert.equal(s.frames, 5);
    const steps = manifest.frames.slice(1).map((f) => f.identity!.toPrevious!);
    assert.ok(Math.abs(s.pathLength - steps.reduce((a, b) => a + b, 0)) < 1e-12);
    assert.equal(s.largestJump!.value, Math.max(...steps));
    assert.equal(s.colorCorrelation.n, 10);
    assert.equal(manifest.outputs.identityPlot, "identity_plot.png");
    const plot = await decodePng(await Deno.readFile(join(dir, "identity_plot.png")));
    assert.equal(plot.width, 1000);
    const onDisk: Manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.deepEqual(onDisk.identity, identity);
  });
});

Deno.test("a re-run reuses descriptors and the reference; another embedder recomputes descriptors only", async () => {
  await withTempDir(async (dir) => {
    const first = await run(spec, dir);
    const again = await run(spec, dir);
    assert.equal(again.log.samples.length, 0);
    assert.deepEqual(again.embedLog.calls, []);
    assert.deepEqual(again.manifest.identity, first.manifest.identity);
    assert.deepEqual(
      again.manifest.frames.map((f) => f.identity),
      first.manifest.frames.map((f) => f.identity),
    );
    const other = await run(spec, dir, {}, "e".repeat(64));
    assert.equal(other.log.samples.length, 0, "no image is recomputed");
    // 5 frames + the reference, embedded again with the other network.
    assert.equal(other.embedLog.calls.reduce((a, b) => a + b, 0), 6);
    assert.equal(other.manifest.identity!.embedder.sha256, "e".repeat(64));
  });
});

Deno.test("a frame with the reference's key is the reference: not rendered twice", async () => {
  await withTempDir(async (dir) => {
    const colors = {
      ...spec,
      path: undefined,
      frames: [
        { color: [1, 0, 0] as [number, number, number], label: "red" },
        { color: [0, 0, 0] as [number, number, number], injection: { scale: 0 }, label: "none" },
        { color: [0, 1, 0] as [number, number, number], label: "green" },
      ],
    };
    const { manifest, log } = await run(colors, dir);
    // The "none" frame is computed first (it is the reference), and only once.
    assert.deepEqual(log.samples.map((s) => [s.scale, s.colors]), [
      [0, [[0, 0, 0]]],
      [0.01, [[1, 0, 0], [0, 1, 0]]],
    ]);
    const none = manifest.frames[1];
    assert.equal(manifest.identity!.references[0].file, none.file);
    assert.equal(manifest.identity!.references[0].key, none.key);
    assert.equal(none.identity!.toReference, 0);
  });
});

Deno.test("identity off (flag or spec) and shard runs write no identity and load no embedder", async () => {
  await withTempDir(async (dir) => {
    const flag = await run(spec, join(dir, "flag"), { identity: false });
    assert.equal(flag.manifest.identity, undefined);
    assert.ok(flag.manifest.frames.every((f) => f.identity === undefined));
    assert.equal(flag.manifest.summary!.identity, undefined);
    assert.equal(flag.log.samples.length, 3);
    const off = await run(
      { ...spec, outputs: { identity: false } },
      join(dir, "spec"),
    );
    assert.equal(off.manifest.identity, undefined);
    assert.deepEqual(off.embedLog.calls, []);
    const shard = await run(spec, join(dir, "shard"), { shard: { index: 0, count: 2 } });
    assert.equal(shard.manifest.identity, undefined);
    assert.deepEqual(shard.embedLog.calls, []);
  });
});

Deno.test("a multi-seed run: one reference per seed, neighbours within a seed, the grid's decomposition", async () => {
  await withTempDir(async (dir) => {
    const grid = { ...spec, seed: undefined, seeds: [7, 8, 9], frames: { count: 4 } };
    const { manifest, log } = await run(grid, dir);
    const refs = manifest.identity!.references;
    assert.deepEqual(refs.map((r) => r.seed), ["7", "8", "9"]);
    assert.equal(log.samples.filter((s) => s.scale === 0).length, 3);
    assert.equal(new Set(refs.map((r) => r.key)).size, 3, "each seed has its own reference key");
    for (const frame of manifest.frames) {
      const seed = (frame as { seed?: string }).seed!;
      const ref = refs.find((r) => r.seed === seed)!;
      assert.equal(
        frame.identity!.toReference,
        distance(frame.identity!.descriptor, ref.descriptor),
      );
      const colorIndex = (frame as { colorIndex?: number }).colorIndex!;
      assert.equal(frame.identity!.toPrevious === null, colorIndex === 0);
    }
    const s = manifest.summary!.identity!;
    assert.ok("share" in s.decomposition, JSON.stringify(s.decomposition));
    const rows = ["7", "8", "9"].map((seed) =>
      manifest.frames.filter((f) => (f as { seed?: string }).seed === seed)
        .map((f) => f.identity!.descriptor)
    );
    assert.deepEqual(s.decomposition, twoWayDecomposition(rows));
    assert.equal(s.perSeed.length, 3);
    assert.equal(s.colorCorrelation.n, 3 * 6);
  });
});

Deno.test("identity_plot.png of an interrupted grid run is headed with the planned seeds × colours", async () => {
  await withTempDir(async (dir) => {
    const grid = { ...spec, seed: undefined, seeds: [7, 8, 9], frames: { count: 4 } };
    const { manifest } = await run(grid, dir);
    // What analyze plots after a run stopped at 8 of its 12 frames.
    const input = identityPlotInput(manifest.frames.slice(0, 8), manifest.spec, 0.6)!;
    assert.equal(
      input.title,
      "identity-test  3 seeds × 4 colours  12 steps: face-descriptor distance",
    );
    assert.deepEqual(input.series.map((s) => [s.seed, s.points.length]), [["7", 4], ["8", 4]]);
  });
});

Deno.test("the manifest schema checks the identity record: a reference outside frames/ is refused", async () => {
  await withTempDir(async (dir) => {
    const { manifest } = await run(spec, dir);
    const path = join(dir, "manifest.json");
    assert.deepEqual(await readManifest(dir), manifest);
    const bad = structuredClone(manifest);
    bad.identity!.references[0].file = "../elsewhere.png";
    await Deno.writeTextFile(path, JSON.stringify(bad));
    await assert.rejects(() => readManifest(dir), /identity\.references\[0\]\.file/);
    const noThreshold = structuredClone(manifest) as unknown as {
      identity: { embedder: Record<string, unknown> };
    };
    delete noThreshold.identity.embedder.threshold;
    await Deno.writeTextFile(path, JSON.stringify(noThreshold));
    await assert.rejects(() => readManifest(dir), /identity\.embedder\.threshold is missing/);
  });
});
