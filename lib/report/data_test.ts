import assert from "node:assert/strict";
import { fakeDeps, quietWriter, withTempDir } from "../experiments/_fakes.ts";
import type { Manifest } from "../experiments/manifest.ts";
import { runExperiment } from "../experiments/runner.ts";
import type { ExperimentInput } from "../experiments/spec.ts";
import { fakeEmbedder } from "../identity/_fake_embedder.ts";
import { PATH_LINE_POINTS, pathLine, plannedFrames, reportData } from "./data.ts";

const spec = {
  name: "report-data",
  model: "tiny",
  seed: 3,
  steps: 10,
  path: { type: "linear", from: [0, 0, 0], to: [1, 0.5, 0.25] },
  frames: { count: 5 },
} satisfies ExperimentInput;

async function run(
  input: ExperimentInput,
  options: { identity?: boolean; shard?: { index: number; count: number } } = {},
): Promise<Manifest> {
  let manifest: Manifest | undefined;
  await withTempDir("report_data_", async (dir) => {
    const embedder = options.identity ? fakeEmbedder().embedder : undefined;
    manifest = (await runExperiment(input, {
      out: dir,
      deps: fakeDeps({ embedder }).deps,
      identity: options.identity ?? false,
      shard: options.shard,
      log: () => {},
      progressWriter: quietWriter,
    })).manifest;
  });
  return manifest!;
}

/** The manifest as it is while running: no summary yet, only the first `frames` frames. */
function running(manifest: Manifest, frames: number): Manifest {
  return {
    ...manifest,
    status: "running",
    summary: null,
    frames: manifest.frames.slice(0, frames),
  };
}

Deno.test("reportData: a single-seed run's frames, pictures, model and path line", async () => {
  const manifest = await run(spec);
  const data = reportData(manifest);
  assert.equal(data.name, "report-data");
  assert.equal(data.status, "complete");
  assert.equal(data.planned, 5);
  assert.equal(data.runId, manifest.runId);
  assert.deepEqual(data.frames.map((f) => f.index), [0, 1, 2, 3, 4]);
  assert.deepEqual(data.frames.map((f) => f.src), manifest.frames.map((f) => f.file));
  assert.deepEqual(data.frames.map((f) => f.sha256), manifest.frames.map((f) => f.sha256));
  assert.deepEqual(data.frames.map((f) => f.t), manifest.frames.map((f) => f.t));
  assert.equal(data.frames[0].distanceToPrevious, null);
  assert.equal(data.frames[1].distanceToPrevious, manifest.frames[1].distanceToPrevious);
  assert.ok(data.frames.every((f) => !("seed" in f) && !("identity" in f)));
  assert.equal(data.outputs.pathPlot, "path_plot.png");
  assert.deepEqual(data.outputs.video, { src: "video.gif", type: "image/gif" });
  assert.equal(data.outputs.identityPlot, null);
  assert.equal(data.embedder, null);
  assert.equal(data.summary?.identity, undefined);
  assert.deepEqual(data.model.sha256, {
    "unet.onnx": "1".repeat(64),
    "vqvae_decoder.onnx": "2".repeat(64),
  });
  assert.equal(data.pathLine!.length, PATH_LINE_POINTS);
  assert.deepEqual(data.pathLine![0], [0, 0, 0]);
  assert.deepEqual(data.pathLine!.at(-1), [1, 0.5, 0.25]);
  // The JSON the page embeds keeps everything (no undefined, no functions).
  assert.deepEqual(JSON.parse(JSON.stringify(data)), data);
});

Deno.test("reportData: an mp4 is preferred to the GIF; model hashes keep only strings", async () => {
  const manifest = await run(spec);
  manifest.outputs.video = { mp4: "video.mp4", gif: "video.gif" };
  manifest.model.info = { sha256: { "a.onnx": "ab", bad: 3 } };
  const data = reportData(manifest);
  assert.deepEqual(data.outputs.video, { src: "video.mp4", type: "video/mp4" });
  assert.deepEqual(data.model.sha256, { "a.onnx": "ab" });
  manifest.model.info = { sha256: "not a record" };
  assert.deepEqual(reportData(manifest).model.sha256, {});
});

Deno.test("reportData: frames are sorted by index whatever the manifest's order", async () => {
  const manifest = await run(spec);
  manifest.frames.reverse();
  assert.deepEqual(reportData(manifest).frames.map((f) => f.index), [0, 1, 2, 3, 4]);
});

Deno.test("plannedFrames: the spec's count while running, never fewer than are there", async () => {
  const manifest = await run(spec);
  assert.equal(plannedFrames(running(manifest, 2)), 5);
  assert.equal(plannedFrames(running(manifest, 0)), 5);
  const listed = { ...running(manifest, 5), spec: { ...manifest.spec, frames: { t: [0, 0.5] } } };
  assert.equal(plannedFrames(listed), 5, "5 frames are there although the spec lists 2");
  const timed = { ...running(manifest, 0), spec: { ...manifest.spec, frames: { t: [0, 0.5] } } };
  assert.equal(plannedFrames(timed), 2);
});

Deno.test("plannedFrames and reportData: a multi-seed run plans seeds × colours", async () => {
  const manifest = await run({ ...spec, seed: undefined, seeds: [1, 2, 3], frames: { count: 4 } });
  assert.equal(plannedFrames(running(manifest, 5)), 12);
  const data = reportData(manifest);
  assert.equal(data.planned, 12);
  assert.deepEqual(data.frames.map((f) => f.seed), [..."111122223333"]);
  assert.deepEqual(data.frames.map((f) => f.colorIndex), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
  assert.equal(data.outputs.grid, "grid.png");
  // The first frame of each seed has no neighbour before it.
  assert.deepEqual(
    data.frames.filter((f) => f.distanceToPrevious === null).map((f) => f.index),
    [0, 4, 8],
  );
});

Deno.test("plannedFrames: a shard plans only its own indices", async () => {
  const manifest = await run({ ...spec, frames: { count: 7 } }, { shard: { index: 1, count: 3 } });
  assert.deepEqual(manifest.frames.map((f) => f.index), [1, 4]);
  const data = reportData(manifest);
  assert.equal(data.planned, 2);
  assert.deepEqual(data.frames.map((f) => f.index), [1, 4]);
  assert.equal(plannedFrames(running(manifest, 0)), 2);
  const shard = (index: number, count: number) => ({
    ...running(manifest, 0),
    shard: { index, count },
  });
  assert.equal(plannedFrames(shard(0, 3)), 3); // 0, 3, 6
  assert.equal(plannedFrames(shard(2, 3)), 2); // 2, 5
  assert.equal(plannedFrames(shard(6, 7)), 1); // 6
  assert.equal(plannedFrames(shard(7, 9)), 0); // more shards than frames
});

Deno.test("reportData: identity distances without descriptors, the embedder and the summary", async () => {
  const manifest = await run(spec, { identity: true });
  const data = reportData(manifest);
  assert.ok(manifest.frames.every((f) => f.identity!.descriptor.length > 0));
  assert.deepEqual(
    data.frames.map((f) => f.identity),
    manifest.frames.map((f) => ({
      toReference: f.identity!.toReference,
      toPrevious: f.identity!.toPrevious,
    })),
  );
  assert.ok(!JSON.stringify(data).includes('"descriptor"'));
  assert.deepEqual(data.embedder, {
    name: manifest.identity!.embedder.name,
    threshold: manifest.identity!.embedder.threshold,
  });
  assert.equal(data.outputs.identityPlot, "identity_plot.png");
  assert.deepEqual(data.summary!.identity, manifest.summary!.identity);
});

Deno.test("pathLine: null for explicit colours; reportData keeps their labels and null times", async () => {
  const manifest = await run({
    ...spec,
    path: undefined,
    frames: [{ color: [1, 0, 0], label: "red" }, { color: [0, 0, 1], label: "blue" }],
  });
  assert.equal(pathLine(manifest), null);
  const data = reportData(manifest);
  assert.equal(data.pathLine, null);
  assert.deepEqual(data.frames.map((f) => [f.label, f.t, f.color]), [
    ["red", null, [1, 0, 0]],
    ["blue", null, [0, 0, 1]],
  ]);
});
