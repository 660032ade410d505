import assert from "node:assert/strict";
import { join } from "node:path";
import { fakeDeps, quietWriter } from "../experiments/_fakes.ts";
import type { GridPictureInput, RunnerDeps } from "../experiments/deps.ts";
import { pictureTitle } from "../experiments/finish.ts";
import { InterruptedError } from "../experiments/interrupt.ts";
import type { Manifest } from "../experiments/manifest.ts";
import { runExperiment } from "../experiments/runner.ts";
import { type ExperimentInput, SpecError } from "../experiments/spec.ts";
import { GRID_THRESHOLD_COLOR, gridSheet, renderGridSheet } from "../render/grid_sheet.ts";
import { decodePng } from "../render/png.ts";
import { fakeEmbedder } from "./_fake_embedder.ts";
import { analyzeRun } from "./analyze.ts";
import type { FaceEmbedder } from "./embedder.ts";
import { EMBED_CHUNK } from "./tracker.ts";
import { readReportData } from "../report/_read_report.ts";
import { reportData } from "../report/data.ts";

const spec = {
  name: "analyze-test",
  model: "tiny",
  seed: 5,
  steps: 12,
  path: { type: "linear", from: [0.1, 0.2, 0], to: [0.9, 0.3, 1] },
  frames: { count: 20 },
  batch: 4,
} satisfies ExperimentInput;

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "analyze_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function render(dir: string, identity: boolean, size = 8): Promise<Manifest> {
  const { deps } = fakeDeps({ size, embedder: fakeEmbedder().embedder });
  const { manifest } = await runExperiment(spec, {
    out: dir,
    deps,
    identity,
    log: () => {},
    progressWriter: quietWriter,
  });
  return manifest;
}

/**
 * `analyzeRun` with the fake model at `size` and the fake embedder, drawing grids with
 * `gridSheet`; also returns how many PNGs it decoded.
 */
async function analyzeCounting(
  dir: string,
  size: number,
  gridSheet: RunnerDeps["gridSheet"],
) {
  const { deps } = fakeDeps({ size, embedder: fakeEmbedder().embedder });
  let decoded = 0;
  const result = await analyzeRun(dir, {
    deps: {
      ...deps,
      loadEmbedder: () => Promise.resolve(fakeEmbedder().embedder),
      gridSheet,
      decodePng: (bytes, source) => {
        decoded++;
        return deps.decodePng(bytes, source);
      },
    },
    log: () => {},
    progressWriter: quietWriter,
  });
  return { ...result, decoded };
}

function analyze(dir: string, embedder: FaceEmbedder, signal?: AbortSignal) {
  const { deps, log } = fakeDeps({ size: 8, embedder });
  const result = analyzeRun(dir, {
    deps: { ...deps, loadEmbedder: () => Promise.resolve(embedder) },
    log: () => {},
    progressWriter: quietWriter,
    signal,
  });
  return { result, log };
}

Deno.test("analyze adds exactly what a run with identity records, rendering only the reference", async () => {
  await withTempDir(async (dir) => {
    const withIdentity = await render(join(dir, "a"), true);
    const without = await render(join(dir, "b"), false);
    assert.equal(without.identity, undefined);
    const { result, log } = analyze(join(dir, "b"), fakeEmbedder().embedder);
    const { manifest, rendered } = await result;
    assert.equal(rendered, 1);
    // One sampler call: the reference face (scale 0); no frame image is recomputed.
    assert.deepEqual(log.samples.map((s) => [s.scale, s.colors]), [[0, [[0, 0, 0]]]]);
    assert.deepEqual(
      manifest.frames.map((f) => [f.file, f.sha256]),
      without.frames.map((f) => [f.file, f.sha256]),
    );
    assert.deepEqual(manifest.identity, withIdentity.identity);
    assert.deepEqual(
      manifest.frames.map((f) => f.identity),
      withIdentity.frames.map((f) => f.identity),
    );
    assert.deepEqual(manifest.summary!.identity, withIdentity.summary!.identity);
    assert.equal(manifest.outputs.identityPlot, "identity_plot.png");
    const onDisk = JSON.parse(await Deno.readTextFile(join(dir, "b", "manifest.json")));
    assert.deepEqual(onDisk, manifest);
    // The report is remade with the identity numbers.
    const report = await readReportData(join(dir, "b"));
    assert.deepEqual(report, reportData(manifest));
    assert.ok(report.frames.every((f) => f.identity) && report.embedder !== null);
  });
});

Deno.test("an interrupted analyze keeps what it saved and the next one computes only the rest", async () => {
  await withTempDir(async (dir) => {
    await render(dir, false);
    const controller = new AbortController();
    const first = fakeEmbedder("a".repeat(64));
    const embed = first.embedder.embed.bind(first.embedder);
    // Stop during the second chunk of frames (call 1 is the reference, call 2 the first chunk).
    first.embedder.embed = (images, count, size) => {
      if (first.log.calls.length === 2) controller.abort(new InterruptedError("SIGINT"));
      return embed(images, count, size);
    };
    await assert.rejects(
      () => analyze(dir, first.embedder, controller.signal).result,
      (e: Error) => e instanceof InterruptedError && /run the same command again/.test(e.message),
    );
    const partial: Manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    const saved = partial.frames.filter((f) => f.identity).length;
    assert.ok(saved >= EMBED_CHUNK && saved < 20, `${saved} frames saved`);
    assert.equal(partial.identity!.references.length, 1);
    // The report of the interrupted analysis shows the descriptors saved so far.
    const stopped = await readReportData(dir);
    assert.deepEqual(stopped, reportData(partial));
    assert.equal(stopped.frames.filter((f) => f.identity).length, saved);
    const second = fakeEmbedder("a".repeat(64));
    const { result, log } = analyze(dir, second.embedder);
    const { manifest, kept } = await result;
    assert.equal(log.samples.length, 0, "the reference is not rendered again");
    assert.equal(kept, saved);
    // Only the frames without a descriptor are embedded (distinct images only).
    const distinct = new Set(
      partial.frames.filter((f) => !f.identity).map((f) => f.sha256),
    ).size;
    assert.equal(second.log.calls.reduce((a, b) => a + b, 0), distinct);
    assert.ok(manifest.frames.every((f) => f.identity));
    // The same numbers as an uninterrupted analysis.
    await withTempDir(async (other) => {
      await render(other, false);
      const whole = await analyze(other, fakeEmbedder("a".repeat(64)).embedder).result;
      assert.deepEqual(
        manifest.frames.map((f) => f.identity),
        whole.manifest.frames.map((f) => f.identity),
      );
    });
  });
});

Deno.test("analyze refuses a folder without a manifest, a shard, and a model that is not the run's", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      () => analyze(dir, fakeEmbedder().embedder).result,
      (e: Error) => e instanceof SpecError && /RUN_DIR/.test(e.message),
    );
    const { deps } = fakeDeps({ size: 8 });
    await runExperiment(spec, {
      out: join(dir, "shard"),
      deps,
      shard: { index: 0, count: 2 },
      log: () => {},
      progressWriter: quietWriter,
    });
    await assert.rejects(
      () => analyze(join(dir, "shard"), fakeEmbedder().embedder).result,
      (e: Error) => e instanceof SpecError && /merge the shards/.test(e.message),
    );
    await render(join(dir, "run"), false);
    const { embedder } = fakeEmbedder();
    const fake = fakeDeps({ size: 8, embedder });
    const loadModel = fake.deps.loadModel;
    await assert.rejects(
      () =>
        analyzeRun(join(dir, "run"), {
          deps: {
            ...fake.deps,
            loadEmbedder: () => Promise.resolve(embedder),
            loadModel: async (d, o) => {
              const m = await loadModel(d, o);
              return { ...m, info: { ...m.info, sha256: { "unet.onnx": "9".repeat(64) } } };
            },
          },
          log: () => {},
          progressWriter: quietWriter,
        }),
      /not the one this run used/,
    );
    assert.equal(fake.log.samples.length, 0);
  });
});

Deno.test("grid.png: the run prints each cell's distance and frames those over the threshold; analyze redraws it the same", async () => {
  await withTempDir(async (dir) => {
    const grid = {
      ...spec,
      name: "grid-test",
      seed: undefined,
      seeds: [7, 8, 9],
      frames: { count: 4 },
    } satisfies ExperimentInput;
    const inputs: GridPictureInput[] = [];
    const titles: (string | undefined)[] = [];
    const realGrid = (input: GridPictureInput, options: { tileSize?: number; title?: string }) => {
      inputs.push(input);
      titles.push(options.title);
      return gridSheet(input, options);
    };
    const runGrid = async (out: string, identity: boolean) => {
      const { deps } = fakeDeps({ size: 32, embedder: fakeEmbedder().embedder });
      const { manifest } = await runExperiment(grid, {
        out,
        deps: { ...deps, gridSheet: realGrid },
        identity,
        log: () => {},
        progressWriter: quietWriter,
      });
      return manifest;
    };
    const withIds = await runGrid(join(dir, "a"), true);
    const without = await runGrid(join(dir, "b"), false);
    assert.equal(withIds.outputs.grid, "grid.png");
    assert.equal(without.outputs.grid, "grid.png");
    assert.equal(without.summary!.identity, undefined);
    // The numbers handed to the grid are the manifest's, cell by cell, and the shares its summary's.
    const numbers = inputs[0].identity!;
    const s = withIds.summary!.identity!;
    assert.ok("share" in s.decomposition);
    assert.deepEqual(
      numbers.toReference,
      inputs[0].rows.map((row) =>
        row.cells.map((c) => withIds.frames[c.index].identity!.toReference)
      ),
    );
    assert.match(
      numbers.footer!.join("\n"),
      new RegExp(`seed ${(s.decomposition.share.seed * 100).toFixed(1)} %, colour .* interaction`),
    );
    assert.equal(inputs[1].identity, undefined, "--no-identity: the grid without numbers");

    // The pixels: red frames exactly around the cells at or over the threshold.
    const image = await decodePng(await Deno.readFile(join(dir, "a", "grid.png")));
    const plainImage = await decodePng(await Deno.readFile(join(dir, "b", "grid.png")));
    // The layout of the picture as the run drew it: with the run's own heading.
    const title = pictureTitle(withIds.spec);
    assert.equal(titles[0], title);
    const { layout } = await renderGridSheet(inputs[0], { title });
    const isRed = (x: number, y: number) => {
      const i = 4 * (y * image.width + x);
      return GRID_THRESHOLD_COLOR.every((v, k) => image.rgba[i + k] === v);
    };
    const flags = numbers.toReference.flat().map((d) => d! >= numbers.threshold);
    assert.ok(flags.includes(true) && flags.includes(false), `test needs both: ${flags}`);
    layout.rows.forEach((row, r) =>
      row.cells.forEach((tile, c) => {
        const over = numbers.toReference[r][c]! >= numbers.threshold;
        assert.equal(isRed(tile.x - 1, tile.y + 3), over, `cell ${r},${c}`);
      })
    );
    assert.ok(image.height > plainImage.height, "the numbers take room under the rows");

    // analyze adds the numbers to the run without them, and draws the same grid.png.
    const before = await Deno.readFile(join(dir, "b", "grid.png"));
    // (fakeDeps' own gridSheet draws nothing: the real one is passed, as the run had it.)
    const analyzeB = async () => (await analyzeCounting(join(dir, "b"), 32, realGrid)).decoded;
    const drawn = inputs.length;

    const decoded = await analyzeB();
    assert.equal(inputs.length, drawn + 1, "analyze draws grid.png once");
    // Each frame PNG is decoded once: the grid reuses the pixels read for the descriptors.
    assert.equal(decoded, new Set(without.frames.map((f) => f.sha256)).size);
    const after = await Deno.readFile(join(dir, "b", "grid.png"));
    assert.notDeepEqual(after, before);
    assert.deepEqual(after, await Deno.readFile(join(dir, "a", "grid.png")));

    // A second analyze finds nothing new: grid.png is neither drawn nor written again.
    const stat = await Deno.stat(join(dir, "b", "grid.png"));
    assert.equal(await analyzeB(), 0, "no frame PNG is decoded");
    assert.equal(inputs.length, drawn + 1, "grid.png is not drawn again");
    const again = await Deno.stat(join(dir, "b", "grid.png"));
    assert.equal(again.mtime?.getTime(), stat.mtime?.getTime());
    assert.equal(again.ino, stat.ino, "grid.png is not replaced");
    assert.deepEqual(await Deno.readFile(join(dir, "b", "grid.png")), after);
  });
});

Deno.test("analyze puts the numbers on a grid.png drawn without them in a run that had them, and writes it only when that changes it", async () => {
  await withTempDir(async (dir) => {
    const grid = {
      ...spec,
      name: "grid-old",
      seed: undefined,
      seeds: [7, 8],
      frames: { count: 3 },
    } satisfies ExperimentInput;
    let drawn = 0;
    const countingGrid = (
      input: GridPictureInput,
      options: { tileSize?: number; title?: string },
    ) => {
      drawn++;
      return gridSheet(input, options);
    };
    const runGrid = async (out: string, identity: boolean) => {
      const { deps } = fakeDeps({ size: 16, embedder: fakeEmbedder().embedder });
      return (await runExperiment(grid, {
        out,
        deps: { ...deps, gridSheet: countingGrid },
        identity,
        log: () => {},
        progressWriter: quietWriter,
      })).manifest;
    };
    const analyzeGrid = (out: string) => analyzeCounting(out, 16, countingGrid);
    const run = join(dir, "run");
    const manifest = await runGrid(run, true);
    const digest = manifest.outputs.gridIdentity;
    assert.match(digest ?? "", /^[0-9a-f]{64}$/, "the run records which numbers its grid shows");
    const gridPath = join(run, "grid.png");
    const withNumbers = await Deno.readFile(gridPath);
    // The folder as a version that printed no numbers on grids left it: the grid without them,
    // and no record of what it shows.
    await runGrid(join(dir, "plain"), false);
    await Deno.copyFile(join(dir, "plain", "grid.png"), gridPath);
    const forget = async () => {
      const m = JSON.parse(await Deno.readTextFile(join(run, "manifest.json")));
      delete m.outputs.gridIdentity;
      await Deno.writeTextFile(join(run, "manifest.json"), JSON.stringify(m, null, 2) + "\n");
    };
    await forget();

    const first = await analyzeGrid(run);
    assert.equal(first.computed, 0, "nothing new: every descriptor is kept");
    assert.equal(first.gridRedrawn, true);
    assert.deepEqual(await Deno.readFile(gridPath), withNumbers, "the grid as the run drew it");
    assert.equal(first.manifest.outputs.gridIdentity, digest);

    // Recorded: the next analyze decodes, draws and writes nothing.
    const stat = await Deno.stat(gridPath);
    drawn = 0;
    const second = await analyzeGrid(run);
    assert.deepEqual([second.gridRedrawn, second.decoded, drawn], [false, 0, 0]);
    assert.equal((await Deno.stat(gridPath)).ino, stat.ino, "grid.png is not replaced");

    // Not recorded, but the grid shows the numbers already: drawn to compare, not written.
    await forget();
    const third = await analyzeGrid(run);
    assert.deepEqual([third.gridRedrawn, drawn], [false, 1]);
    assert.equal((await Deno.stat(gridPath)).ino, stat.ino, "grid.png is not replaced");
    assert.equal(third.manifest.outputs.gridIdentity, digest, "and now recorded");
  });
});
