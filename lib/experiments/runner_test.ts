import assert from "node:assert/strict";
import { join } from "node:path";
import { decodePng, encodePng } from "../render/mod.ts";
import { sha256File } from "../util/hash.ts";
import { fakeDeps, type FakeOptions, quietWriter } from "./_fakes.ts";
import { pictureTitle } from "./finish.ts";
import { type Manifest, MANIFEST_FILE, writeManifest } from "./manifest.ts";
import { meanColor, pearson, rmsDistance } from "./metrics.ts";
import { defaultRunDir, evenlySpaced, runExperiment, specHash, utcStamp } from "./runner.ts";
import { type ExperimentInput, resolveExperiment, SpecError } from "./spec.ts";
import { embeddedReportData, readReportData } from "../report/_read_report.ts";
import { type ReportData, reportData } from "../report/data.ts";
import { REPORT_FILE } from "../report/write.ts";
import { writeFileAtomic } from "../util/atomic.ts";

const spec = {
  name: "runner-test",
  model: "tiny",
  seed: 3,
  steps: 12,
  path: { type: "linear", from: [0, 0, 0], to: [1, 0.5, 0.25] },
  frames: { count: 7 },
  batch: 3,
} satisfies ExperimentInput;

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "runner_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function run(input: unknown, out: string, fake: FakeOptions = {}) {
  const { deps, log } = fakeDeps(fake);
  const result = runExperiment(input, {
    out,
    deps,
    log: () => {},
    progressWriter: quietWriter,
  });
  return { result, log };
}

async function readDiskManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await Deno.readTextFile(join(dir, MANIFEST_FILE)));
}

Deno.test("a fresh run computes every frame in batches and records them", async () => {
  await withTempDir(async (dir) => {
    const { result, log } = run(spec, dir);
    const { manifest } = await result;
    assert.deepEqual(log.samples.map((s) => s.colors.length), [3, 3, 1]);
    assert.equal(log.released, 1);
    assert.deepEqual(await readDiskManifest(dir), manifest);
    assert.equal(manifest.status, "complete");
    assert.equal(manifest.frames.length, 7);
    assert.deepEqual(manifest.spec, resolveExperiment(spec));
    assert.equal(manifest.specHash, specHash(resolveExperiment(spec)));
    assert.equal(manifest.model.info.latentScale, 1);
    assert.equal(manifest.runtime.onnxruntime, "fake");
    assert.deepEqual(manifest.summary && [manifest.summary.computed, manifest.summary.reused], [
      7,
      0,
    ]);
    for (const frame of manifest.frames) {
      assert.match(frame.file, /^frames\/[0-9a-f]{64}\.png$/);
      assert.equal(await sha256File(join(dir, frame.file)), frame.sha256);
      assert.equal(frame.file, `frames/${frame.sha256}.png`);
      assert.ok(frame.computed);
      assert.equal(frame.timings.sampleMs, frame.timings.batchMs / frame.timings.batchSize);
    }
    assert.deepEqual(manifest.frames.map((f) => f.index), [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(new Set(manifest.frames.map((f) => f.key)).size, 7);
    // Pictures: every frame on the sheet, plot and video; no ffmpeg → warning and GIF only.
    assert.deepEqual(log.pictures, ["contactSheet:7", "pathPlot:7", "gif:7"]);
    assert.equal(manifest.outputs.video.mp4, null);
    assert.equal(manifest.outputs.video.gif, "video.gif");
    assert.match(manifest.warnings[0], /ffmpeg/);
  });
});

Deno.test("metrics in the manifest match the stored PNGs", async () => {
  await withTempDir(async (dir) => {
    const { manifest } = await run(spec, dir).result;
    const pixels = [];
    for (const frame of manifest.frames) {
      const image = await decodePng(await Deno.readFile(join(dir, frame.file)));
      pixels.push(image.rgba);
      assert.deepEqual(frame.meanColor, meanColor(image.rgba));
    }
    assert.equal(manifest.frames[0].distanceToPrevious, null);
    for (let i = 1; i < pixels.length; i++) {
      assert.equal(manifest.frames[i].distanceToPrevious, rmsDistance(pixels[i - 1], pixels[i]));
    }
    const red = pearson(
      manifest.frames.map((f) => f.color[0]),
      manifest.frames.map((f) => f.meanColor[0]),
    );
    assert.equal(manifest.summary!.correlation.r, red);
    assert.ok(red! > 0.9, "the fake sampler's red follows the injected red");
    const jumps = manifest.frames.slice(1).map((f) => f.distanceToPrevious!);
    assert.equal(manifest.summary!.largestJump!.value, Math.max(...jumps));
  });
});

Deno.test("running again computes nothing and gives the same frames", async () => {
  await withTempDir(async (dir) => {
    const first = (await run(spec, dir).result).manifest;
    const { result, log } = run(spec, dir);
    const second = (await result).manifest;
    assert.equal(log.samples.length, 0);
    assert.deepEqual([second.summary!.computed, second.summary!.reused], [0, 7]);
    assert.deepEqual(
      second.frames.map((f) => [f.key, f.file]),
      first.frames.map((f) => [f.key, f.file]),
    );
    assert.ok(second.frames.every((f) => !f.computed));
    assert.deepEqual(
      second.frames.map((f) => f.distanceToPrevious),
      first.frames.map((f) => f.distanceToPrevious),
    );
    assert.equal(second.createdAt, first.createdAt);
  });
});

Deno.test("resume: frames in a pre-populated manifest are skipped unless their PNG is gone or altered", async () => {
  await withTempDir(async (dir) => {
    const first = (await run(spec, dir).result).manifest;
    await Deno.remove(join(dir, first.frames[1].file));
    await Deno.writeFile(join(dir, first.frames[5].file), new Uint8Array([1, 2, 3]));
    const { result, log } = run(spec, dir);
    const second = (await result).manifest;
    assert.deepEqual(log.samples.flatMap((s) => s.colors), [
      first.frames[1].color,
      first.frames[5].color,
    ]);
    assert.deepEqual(second.frames.filter((f) => f.computed).map((f) => f.index), [1, 5]);
    assert.deepEqual(second.frames.map((f) => f.sha256), first.frames.map((f) => f.sha256));
    assert.equal(await sha256File(join(dir, first.frames[5].file)), first.frames[5].sha256);
  });
});

Deno.test("a finished run writes report.html from its manifest; a report that cannot be written only warns", async () => {
  await withTempDir(async (dir) => {
    const { result } = run(spec, dir);
    const { manifest } = await result;
    const embedded = await readReportData(dir);
    assert.deepEqual(embedded, reportData(await readDiskManifest(dir)));
    assert.equal(embedded.status, "complete");
    assert.equal(embedded.frames.length, manifest.frames.length);
  });
  await withTempDir(async (dir) => {
    const lines: string[] = [];
    const { manifest } = await runExperiment(spec, {
      out: dir,
      deps: fakeDeps().deps,
      log: (line) => lines.push(line),
      progressWriter: quietWriter,
      writeFile: (path, data) =>
        path.endsWith(REPORT_FILE)
          ? Promise.reject(new Error("No space left on device (os error 28)"))
          : writeFileAtomic(path, data),
    });
    assert.equal(manifest.status, "complete");
    assert.equal((await readDiskManifest(dir)).status, "complete");
    const warnings = lines.filter((l) => l.includes(REPORT_FILE));
    assert.equal(warnings.length, 1, `said once, not per batch: ${warnings.join("\n")}`);
    assert.match(
      warnings[0],
      /^warning: .*report\.html was not written \(No space left on device.*deno task report /,
    );
    await assert.rejects(Deno.stat(join(dir, REPORT_FILE)), Deno.errors.NotFound);
  });
});

Deno.test("report.html follows the run batch by batch, as its manifest on disk stood", async () => {
  await withTempDir(async (dir) => {
    const pages: { report: ReportData; manifest: Manifest }[] = [];
    await runExperiment({ ...spec, batch: 2, frames: { count: 4 } }, {
      out: dir,
      deps: fakeDeps().deps,
      log: () => {},
      progressWriter: quietWriter,
      writeFile: async (path, data) => {
        if (path.endsWith(REPORT_FILE)) {
          const html = new TextDecoder().decode(data);
          pages.push({
            report: embeddedReportData(html),
            manifest: await readDiskManifest(dir),
          });
        }
        await writeFileAtomic(path, data);
      },
    });
    // 4 frames in batches of 2: a page after each batch, then the complete run's.
    assert.deepEqual(
      pages.map((p) => [p.report.status, p.report.frames.length]),
      [["running", 2], ["running", 4], ["complete", 4]],
    );
    for (const page of pages) assert.deepEqual(page.report, reportData(page.manifest));
  });
});

Deno.test("a failed run keeps the finished batches and resumes from there", async () => {
  await withTempDir(async (dir) => {
    const { result } = run(spec, dir, { failOnCall: 2 });
    await assert.rejects(result, /sampler failed/);
    const partial = await readDiskManifest(dir);
    assert.equal(partial.status, "failed");
    assert.match(partial.error!, /sampler failed/);
    assert.deepEqual(partial.frames.map((f) => f.index), [0, 1, 2]);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["frames", MANIFEST_FILE, REPORT_FILE],
      "no temporary files or lock left behind",
    );
    // The report shows the stopped run as its manifest records it.
    assert.deepEqual(await readReportData(dir), reportData(partial));
    const resumed = run(spec, dir);
    const manifest = (await resumed.result).manifest;
    assert.deepEqual(resumed.log.samples.map((s) => s.colors.length), [3, 1]);
    assert.deepEqual(manifest.frames.filter((f) => !f.computed).map((f) => f.index), [0, 1, 2]);
    assert.equal(manifest.status, "complete");
  });
});

Deno.test("changing a sampling input recomputes; changing the batch size does not", async () => {
  await withTempDir(async (dir) => {
    await run(spec, dir).result;
    const batch = run({ ...spec, batch: 2 }, dir);
    await batch.result;
    assert.equal(batch.log.samples.length, 0);
    for (
      const changed of [
        { ...spec, steps: 13 },
        { ...spec, seed: 4 },
        { ...spec, injection: { scale: 0.02 } },
        { ...spec, injection: { window: [2, 10] as [number, number] } },
        { ...spec, injection: { mode: "gaussian" as const } },
        { ...spec, latentScale: 0.5 },
      ]
    ) {
      const again = run(changed, dir);
      const { manifest } = await again.result;
      assert.equal(manifest.summary!.computed, 7, JSON.stringify(changed));
    }
  });
});

Deno.test("explicit frames: duplicates computed once, per-frame injection splits batches", async () => {
  await withTempDir(async (dir) => {
    const { path: _, ...noPath } = spec;
    const input = {
      ...noPath,
      batch: 8,
      frames: [
        { color: "#000000", injection: { scale: 0 }, label: "none" },
        { color: "#ff0000", label: "red" },
        { color: [1, 0, 0], label: "red again" },
        { color: "#00ff00", injection: { window: [2, 5] as [number, number] } },
      ],
    };
    const { result, log } = run(input, dir);
    const { manifest } = await result;
    assert.deepEqual(
      log.samples.map((s) => [s.colors, s.scale, s.window]),
      [
        [[[0, 0, 0]], 0, [1, 10]],
        [[[1, 0, 0]], 0.01, [1, 10]],
        [[[0, 1, 0]], 0.01, [2, 5]],
      ],
    );
    assert.equal(manifest.frames[1].key, manifest.frames[2].key);
    assert.equal(manifest.frames[1].file, manifest.frames[2].file);
    assert.deepEqual(manifest.frames.map((f) => f.label), ["none", "red", "red again", undefined]);
    assert.deepEqual(manifest.frames[3].injection, {
      scale: 0.01,
      window: [2, 5],
      mode: "constant",
    });
    assert.equal(manifest.summary!.computed, 3);
  });
});

Deno.test("with ffmpeg an MP4 is written as well; pictures can be switched off", async () => {
  await withTempDir(async (dir) => {
    const { result, log } = run(spec, dir, { ffmpeg: "/usr/bin/ffmpeg" });
    const { manifest } = await result;
    assert.deepEqual(log.pictures, ["contactSheet:7", "pathPlot:7", "mp4:7", "gif:7"]);
    assert.equal(manifest.outputs.video.mp4, "video.mp4");
    assert.deepEqual(manifest.warnings, []);
    const off = run(
      { ...spec, outputs: { contactSheet: false, pathPlot: false, video: false } },
      dir,
    );
    const offManifest = (await off.result).manifest;
    assert.deepEqual(off.log.pictures, []);
    assert.deepEqual(offManifest.outputs, {
      contactSheet: null,
      pathPlot: null,
      video: { mp4: null, gif: null },
    });
  });
});

Deno.test("an invalid spec fails before any model is resolved or file written", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "run");
    const { result, log } = run({ ...spec, injection: { window: [1, 20] } }, out);
    await assert.rejects(result, (e) => e instanceof SpecError && e.field === "injection.window");
    assert.deepEqual(log.resolved, []);
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
  });
});

Deno.test("default run folders: results/<name>/<UTC stamp>-<hash>, reused for the same spec", async () => {
  await withTempDir(async (root) => {
    const resolved = resolveExperiment(spec);
    const now = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
    assert.equal(utcStamp(now), "20250102T030405Z");
    const first = await defaultRunDir(root, resolved, now);
    assert.equal(
      first,
      join(root, "runner-test", `20250102T030405Z-${specHash(resolved).slice(0, 8)}`),
    );

    const { deps } = fakeDeps();
    const { dir } = await runExperiment(spec, {
      resultsDir: root,
      deps,
      log: () => {},
      progressWriter: quietWriter,
      now: () => now,
    });
    assert.equal(dir, first);
    const later = new Date(Date.UTC(2026, 0, 1));
    assert.equal(await defaultRunDir(root, resolved, later), first, "same spec: same folder");
    const other = resolveExperiment({ ...spec, seed: 5 });
    assert.match(await defaultRunDir(root, other, later), /20260101T000000Z-[0-9a-f]{8}$/);
  });
});

Deno.test("evenlySpaced picks first and last and spreads the rest", () => {
  assert.deepEqual(evenlySpaced(10, 4), [0, 3, 6, 9]);
  assert.deepEqual(evenlySpaced(3, 5), [0, 1, 2]);
  assert.deepEqual(evenlySpaced(5, 1), [0]);
});

Deno.test("a foreign manifest in --out is not trusted", async () => {
  await withTempDir(async (dir) => {
    const first = (await run(spec, dir).result).manifest;
    // Same files, but keys that do not match: nothing may be reused.
    await writeManifest(dir, {
      ...first,
      frames: first.frames.map((f) => ({ ...f, key: "0".repeat(64) })),
    });
    const again = run(spec, dir);
    assert.equal((await again.result).manifest.summary!.computed, 7);
  });
});

Deno.test("progress goes to the writer: labelled lines and a closing line", async () => {
  await withTempDir(async (dir) => {
    const { deps } = fakeDeps();
    let text = "";
    const writer = {
      writeSync(bytes: Uint8Array) {
        text += new TextDecoder().decode(bytes);
        return bytes.length;
      },
      isTerminal: () => false,
    };
    await runExperiment(spec, { out: dir, deps, log: () => {}, progressWriter: writer });
    assert.match(text, /^runner-test /m);
    assert.match(text, /done: 7 frames in \d+:\d\d/);
  });
});

const { seed: _seed, ...noSeed } = spec;
/** 3 seeds × 4 colours of the runner spec's path. */
const gridSpec = { ...noSeed, seeds: [43, 7, "18446744073709551615"], frames: { count: 4 } };

Deno.test("a multi-seed run: seed-major frames with seed and colorIndex, batches within a seed", async () => {
  await withTempDir(async (dir) => {
    const { result, log } = run(gridSpec, dir);
    const { manifest } = await result;
    assert.equal(manifest.status, "complete");
    assert.deepEqual(manifest.spec.seeds, [43, 7, "18446744073709551615"]);
    assert.equal(manifest.spec.seed, undefined);
    assert.equal(manifest.frames.length, 12);
    const seeds = ["43", "7", "18446744073709551615"];
    for (const frame of manifest.frames) {
      assert.equal(frame.seed, seeds[Math.floor(frame.index / 4)]);
      assert.equal(frame.colorIndex, frame.index % 4);
      assert.equal(frame.index, seeds.indexOf(frame.seed!) * 4 + frame.colorIndex!);
    }
    // Batch 3 over 4 colours: every seed is split 3 + 1, never mixed with the next seed.
    assert.deepEqual(log.samples.map((s) => [String(s.seed), s.colors.length]), [
      ["43", 3],
      ["43", 1],
      ["7", 3],
      ["7", 1],
      ["18446744073709551615", 3],
      ["18446744073709551615", 1],
    ]);
    assert.equal(typeof log.samples[0].seed, "number", "small seeds reach the sampler as numbers");
    assert.equal(log.samples[4].seed, 18446744073709551615n);
    // Neighbour distances only along each seed's path.
    for (const frame of manifest.frames) {
      if (frame.colorIndex === 0) assert.equal(frame.distanceToPrevious, null);
      else assert.equal(typeof frame.distanceToPrevious, "number");
    }
    // The fake images differ by seed, so a jump across seeds would have been the largest.
    const largest = manifest.summary!.largestJump!;
    assert.notEqual(manifest.frames[largest.index].colorIndex, 0);
    const pixels = await Promise.all(
      manifest.frames.map(async (f) =>
        (await decodePng(await Deno.readFile(join(dir, f.file)))).rgba
      ),
    );
    const across = rmsDistance(pixels[3], pixels[4]);
    assert.ok(across > largest.value, `across seeds ${across} vs within ${largest.value}`);
    // Pictures: grid of 3 × 4, the path's 4 colours plotted once, sheet and video of all frames.
    assert.deepEqual(log.pictures, ["contactSheet:12", "grid:3x4", "pathPlot:4", "gif:12"]);
    assert.equal(manifest.outputs.grid, "grid.png");
    assert.ok((await Deno.stat(join(dir, "grid.png"))).isFile);
  });
});

Deno.test("a single-seed run's manifest has no seed, colorIndex or grid fields", async () => {
  await withTempDir(async (dir) => {
    const { manifest } = await run(spec, dir).result;
    assert.ok(!("grid" in manifest.outputs));
    for (const frame of manifest.frames) {
      assert.ok(!("seed" in frame) && !("colorIndex" in frame), JSON.stringify(frame));
    }
    assert.deepEqual(Object.keys(manifest.spec).filter((k) => k.startsWith("seed")), ["seed"]);
  });
});

Deno.test("grid.png of a multi-seed run: each cell is its frame, each header its colour", async () => {
  const { renderGridSheet, gridSheet, colorToBytes } = await import("../render/mod.ts");
  await withTempDir(async (dir) => {
    const { deps } = fakeDeps({ size: 8 });
    const { manifest } = await runExperiment(gridSpec, {
      out: dir,
      deps: { ...deps, gridSheet },
      log: () => {},
      progressWriter: quietWriter,
    });
    const grid = await decodePng(await Deno.readFile(join(dir, manifest.outputs.grid!)));
    const frame = async (i: number) => {
      const f = manifest.frames[i];
      return { ...(await decodePng(await Deno.readFile(join(dir, f.file)))), f };
    };
    const frames = await Promise.all(manifest.frames.map((_, i) => frame(i)));
    // The same layout the runner drew, from the frames on disk and with its heading (a heading
    // too long for the grid widens it).
    const { layout } = await renderGridSheet({
      rows: [0, 1, 2].map((r) => ({
        label: String(manifest.spec.seeds![r]),
        cells: frames.slice(r * 4, r * 4 + 4),
      })),
      colors: frames.slice(0, 4).map((x) => x.f.color),
    }, { title: pictureTitle(manifest.spec) });
    assert.deepEqual([grid.width, grid.height], [layout.width, layout.height]);
    for (const { rgba, f } of frames) {
      const tile = layout.rows[manifest.spec.seeds!.map(String).indexOf(f.seed!)].cells[
        f.colorIndex!
      ];
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const g = 4 * ((tile.y + y) * grid.width + tile.x + x);
          const p = 4 * (y * 8 + x);
          assert.deepEqual([...grid.rgba.subarray(g, g + 3)], [...rgba.subarray(p, p + 3)]);
        }
      }
    }
    for (const [c, column] of layout.columns.entries()) {
      const { x, y } = column.swatch;
      const g = 4 * ((y + 1) * grid.width + x + 1);
      assert.deepEqual([...grid.rgba.subarray(g, g + 3)], colorToBytes(frames[c].f.color));
    }
  });
});

Deno.test("picture options of a multi-seed run: sheet rows are seeds; wide grids get 128 px cells", async () => {
  await withTempDir(async (dir) => {
    const calls: { what: string; columns?: number; tileSize?: number }[] = [];
    const { deps } = fakeDeps({ size: 200 });
    const record = (what: string) => (_: unknown, o: { columns?: number; tileSize?: number }) => {
      calls.push({ what, columns: o.columns, tileSize: o.tileSize });
      return encodePng(new Uint8Array(4).fill(255), 1, 1);
    };
    const wide = { ...gridSpec, frames: { count: 11 }, outputs: { video: false } } as const;
    await runExperiment(wide, {
      out: join(dir, "wide"),
      deps: { ...deps, contactSheet: record("sheet"), gridSheet: record("grid") },
      log: () => {},
      progressWriter: quietWriter,
    });
    // 11 colours × 200 px > 2048 px: 128 px cells; 33 frames on the sheet: 11 per row.
    assert.deepEqual(calls, [
      { what: "sheet", columns: 11, tileSize: 128 },
      { what: "grid", columns: undefined, tileSize: 128 },
    ]);
    calls.length = 0;
    const narrow = {
      ...gridSpec,
      frames: { count: 10 },
      outputs: { video: false, contactSheet: { maxFrames: 5 } },
    } as const;
    await runExperiment(narrow, {
      out: join(dir, "narrow"),
      deps: { ...deps, contactSheet: record("sheet"), gridSheet: record("grid") },
      log: () => {},
      progressWriter: quietWriter,
    });
    // 10 × 200 px fits: cells 1:1; a sheet of chosen frames keeps its own layout.
    assert.deepEqual(calls, [
      { what: "sheet", columns: undefined, tileSize: undefined },
      { what: "grid", columns: undefined, tileSize: undefined },
    ]);
  });
});

Deno.test("a grid run after a single-seed run in the same folder reuses that seed's frames", async () => {
  await withTempDir(async (dir) => {
    const single = await run({ ...spec, seed: 7, frames: { count: 4 } }, dir).result;
    const { result, log } = run(gridSpec, dir);
    const { manifest } = await result;
    const row = manifest.frames.filter((f) => f.seed === "7");
    // Same content keys and files: the seed is part of the key, the grid position is not.
    assert.deepEqual(row.map((f) => f.key), single.manifest.frames.map((f) => f.key));
    assert.deepEqual(row.map((f) => f.sha256), single.manifest.frames.map((f) => f.sha256));
    assert.ok(row.every((f) => !f.computed));
    assert.deepEqual([manifest.summary!.computed, manifest.summary!.reused], [8, 4]);
    assert.ok(log.samples.every((s) => String(s.seed) !== "7"), "seed 7 is not sampled again");
    // And back: the single-seed run in this folder now finds all its frames in the grid's manifest.
    const again = run({ ...spec, seed: 7, frames: { count: 4 } }, dir);
    assert.deepEqual([(await again.result).manifest.summary!.computed, again.log.samples.length], [
      0,
      0,
    ]);
  });
});

Deno.test("reuse is per run folder: a grid in a fresh folder recomputes a seed run elsewhere", async () => {
  await withTempDir(async (dir) => {
    await run({ ...spec, seed: 7, frames: { count: 4 } }, join(dir, "single")).result;
    const { result, log } = run(gridSpec, join(dir, "grid"));
    assert.equal((await result).manifest.summary!.computed, 12);
    assert.equal(log.samples.filter((s) => String(s.seed) === "7").length, 2);
  });
});
