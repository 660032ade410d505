/**
 * `report.html` of a real tiny-model run, opened from file:// in headless Chromium: it loads
 * with no error and no network, its frames, pictures, video and charts are really drawn, and the
 * scrubber moves the frame, the path marker and the table together. What is on screen is
 * checked from screenshots, not from the DOM alone.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "../browser/page.ts";
import { decodeScreenshot, regionStats } from "../browser/region.ts";
import { browserTest } from "../browser/testing.ts";
import { SNAPSHOTS_DIR } from "../compare/snapshot.ts";
import { readManifest } from "../experiments/manifest.ts";
import type { Manifest } from "../experiments/mod.ts";
import { readPng, type RgbaImage } from "../render/png.ts";
import { brokenImages, shownFrameDiff } from "./_browser_util.ts";
import { makeTinyRun } from "./_test_runs.ts";
import { reportData } from "./data.ts";
import { reportHtml } from "./page.ts";

/**
 * Largest difference (0–255 per channel) between the mean colour of the shown frame's screenshot
 * and the `meanColor` the manifest recorded. This shows the frame is drawn in the right colours
 * overall (not blank, no colour shift); it cannot tell which frame is shown, since the tiny
 * run's frames have recorded means within 0.25/255 of each other ({@link PIXEL_TOLERANCE} does
 * that). The image is scaled by a fraction (a 254 px content box for 64 px), so a frame pixel
 * covers 3 or 4 screen pixels a side and the screen's mean is the frame's only roughly; 6 leaves
 * room for that and for a colour-managed or smoothing build.
 */
const MEAN_TOLERANCE = 6;
/**
 * Largest per-pixel difference between a shown frame (cell centres) and its PNG: the check that
 * identifies the frame on screen (the tiny run's neighbouring frames differ by far more).
 */
const PIXEL_TOLERANCE = 3;

const READY = 'document.body.dataset.ready === "1"';

/** The part of `#frame-image` on screen and the PNG it should show. */
async function shownFrame(page: Page, dir: string, manifest: Manifest, position: number) {
  const frame = manifest.frames[position];
  // The image is swapped by `show()`; wait until the new one is decoded before the screenshot.
  await page.evaluate(`document.getElementById("frame-image").decode()`);
  const rect = await page.contentRect("#frame-image");
  const shot = await decodeScreenshot(await page.screenshot());
  return { frame, rect, shot, png: await readPng(join(dir, frame.file)) };
}

/**
 * Asserts that the screenshot shows `position`'s frame: its colours overall (the mean) and,
 * which identifies the frame, its pixels.
 */
async function assertShows(page: Page, dir: string, manifest: Manifest, position: number) {
  const { frame, rect, shot, png } = await shownFrame(page, dir, manifest, position);
  // 256 CSS px less the border (border-box): scaled up about 4×, not by a whole factor.
  assert.ok(rect.width >= 3 * frame.width, `the frame is shown scaled up: ${JSON.stringify(rect)}`);
  const stats = regionStats(shot, rect);
  const expected = frame.meanColor.map((c) => c * 255);
  for (let c = 0; c < 3; c++) {
    assert.ok(
      Math.abs(stats.mean[c] - expected[c]) <= MEAN_TOLERANCE,
      `frame ${position}: screenshot mean ${stats.mean} vs recorded ${expected}`,
    );
  }
  const diff = shownFrameDiff(shot, rect, png);
  assert.ok(
    diff.max <= PIXEL_TOLERANCE,
    `frame ${position} on screen vs its PNG: ${JSON.stringify(diff)}`,
  );
  return { rect, png };
}

/** Largest per-channel difference between two pictures of the same size. */
function maxDiff(a: RgbaImage, b: RgbaImage): number {
  assert.deepEqual([a.width, a.height], [b.width, b.height]);
  let max = 0;
  for (let i = 0; i < a.rgba.length; i++) {
    if (i % 4 !== 3) max = Math.max(max, Math.abs(a.rgba[i] - b.rgba[i]));
  }
  return max;
}

browserTest(
  "report: a tiny run's report.html from file:// works offline in Chromium",
  async (browser, t) => {
    const dir = await Deno.makeTempDir({ prefix: "fluidity-report-browser-" });
    try {
      const manifest = await makeTinyRun(dir, { frames: 8 });
      const frameWidth = manifest.frames[0].width;
      const page = await browser.newPage();
      await page.setViewport(1280, 900);
      const url = pathToFileURL(join(dir, "report.html")).href;
      await page.goto(url, { waitFor: READY });

      await t.step("ready with every frame, no errors, no network", async () => {
        assert.equal(
          await page.evaluate("document.body.dataset.frames"),
          String(manifest.frames.length),
        );
        // The video's metadata and the lazy thumbnails load after `ready`: look for errors after.
        assert.ok(
          await page.waitFor('document.getElementById("video").readyState >= 1', 10_000),
          "video metadata",
        );
        assert.deepEqual(await brokenImages(page, "#frames-table img"), []);
        assert.equal(
          await page.evaluate('document.querySelectorAll("#frames-table img").length'),
          manifest.frames.length,
        );
        assert.deepEqual(page.consoleErrors, []);
        assert.deepEqual(page.pageErrors, []);
        assert.deepEqual(page.failedRequests, []);
        // data: URLs are not network: Chromium's own <video> controls draw their icons from them.
        const offline = page.requests.filter((r) =>
          !r.startsWith(`file://${dir}/`) && !r.startsWith("data:")
        );
        assert.deepEqual(offline, [], "every request is a file of the run folder");
        for (const f of manifest.frames) {
          assert.ok(page.requests.includes(`file://${dir}/${f.file}`), f.file);
        }
      });

      await t.step("pictures and the MP4 load", async () => {
        assert.deepEqual(await brokenImages(page, "#frame-image, #path-plot, #identity-plot"), []);
        const video = await page.evaluate<
          { tag: string; readyState: number; width: number; height: number }
        >(
          `(() => { const v = document.getElementById("video");
          return { tag: v.tagName, readyState: v.readyState, width: v.videoWidth, height: v.videoHeight }; })()`,
        );
        assert.equal(video.tag, "VIDEO");
        assert.ok(video.readyState >= 1, `readyState ${video.readyState}`);
        assert.deepEqual([video.width, video.height], [frameWidth, manifest.frames[0].height]);
      });

      await t.step("the three charts are drawn", async () => {
        for (const id of ["chart-color", "chart-distance", "chart-identity"]) {
          assert.equal(
            await page.evaluate(`document.querySelectorAll("#${id} canvas").length`),
            1,
            id,
          );
          const rect = await page.contentRect(`#${id} canvas`);
          assert.ok(rect.width > 100 && rect.height > 50, `${id} canvas ${JSON.stringify(rect)}`);
          const shot = await decodeScreenshot(await page.screenshot());
          const stats = regionStats(shot, rect, { background: [255, 255, 255] });
          assert.ok(
            stats.nonBackgroundFraction > 0.01,
            `${id} looks blank: ${JSON.stringify(stats)}`,
          );
          assert.ok(stats.distinctColors >= 3, `${id}: ${stats.distinctColors} colours`);
        }
      });

      let first: Awaited<ReturnType<typeof assertShows>> | undefined;
      await t.step("frame 0 is on screen with its recorded colour and pixels", async () => {
        first = await assertShows(page, dir, manifest, 0);
      });

      await t.step("the scrubber moves frame, path marker and table together", async () => {
        const at = () =>
          page.evaluate<{ src: string; index: string; x: string; y: string; current: string[] }>(`({
          src: document.getElementById("frame-image").getAttribute("src"),
          index: document.getElementById("path-canvas").dataset.index,
          x: document.getElementById("path-canvas").dataset.x,
          y: document.getElementById("path-canvas").dataset.y,
          current: [...document.querySelectorAll("#frames-table tr.current")].map((tr) => tr.id),
        })`);
        const before = await at();
        assert.deepEqual([before.src, before.index, before.current], [
          manifest.frames[0].file,
          "0",
          ["frame-0"],
        ]);
        // Focus nothing in particular: the arrow keys belong to the page unless a field has focus.
        await page.evaluate("document.activeElement.blur()");
        await page.press("ArrowRight");
        const after = await at();
        assert.deepEqual([after.src, after.index, after.current], [manifest.frames[1].file, "1", [
          "frame-1",
        ]]);
        assert.notDeepEqual([after.x, after.y], [before.x, before.y], "the path marker moved");
        assert.equal(await page.evaluate("fluidityReport.current()"), 1);
        assert.equal(await page.evaluate('document.getElementById("scrubber").value'), "1");
        // The screen now shows frame 1's pixels. With ±PIXEL_TOLERANCE allowed in each check,
        // this and frame 0's check prove the screen changed only if the two frames differ
        // somewhere by more than twice that, so that is asserted too.
        assert.ok(first, "frame 0 was checked on screen");
        const second = await assertShows(page, dir, manifest, 1);
        assert.deepEqual(second.rect, first.rect, "the image did not move");
        const frameDiff = maxDiff(first.png, second.png);
        assert.ok(
          frameDiff > 2 * PIXEL_TOLERANCE,
          `frames 0 and 1 differ by at most ${frameDiff}: the screen check cannot tell them apart`,
        );
      });

      await t.step("still no errors after scrubbing", () => {
        assert.deepEqual([page.consoleErrors, page.pageErrors, page.failedRequests], [[], [], []]);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** What the colour chart's canvas holds in one pixel column between two neighbouring frames. */
interface GapColumn {
  /** Position of the later frame of the two. */
  position: number;
  /** Whether the two frames belong to different seeds. */
  seedChanges: boolean;
  /** Pixels of the column in a series' colour (saturated; the grid and axes are grey). */
  linePixels: number;
}

browserTest(
  "report: a multi-seed run's chart lines break where the seed changes",
  async (browser) => {
    const dir = await Deno.makeTempDir({ prefix: "fluidity-report-gaps-" });
    try {
      // The bundled innate_external reference: 8 seeds × 3 colours, seed after seed. Its frames
      // are not needed (the charts draw from the manifest's numbers), so only the page is written.
      const manifest = await readManifest(join(SNAPSHOTS_DIR, "innate_external"));
      assert.ok(manifest, "snapshots/innate_external/manifest.json");
      await Deno.writeTextFile(join(dir, "report.html"), reportHtml(reportData(manifest)));
      const page = await browser.newPage();
      await page.setViewport(1280, 900);
      await page.goto(pathToFileURL(join(dir, "report.html")).href, { waitFor: READY });
      // The middle column between each pair of neighbouring frames of the colour chart (mean
      // colours solid, injected colours dashed, in red, green and blue), read from its canvas.
      const columns = await page.evaluate<GapColumn[]>(`(() => {
        const plot = fluidityReport.charts()[0];
        const frames = fluidityReport.data().frames;
        const x = plot.data[0];
        const top = Math.round(plot.bbox.top), height = Math.round(plot.bbox.height);
        const columns = [];
        for (let i = 1; i < frames.length; i++) {
          const left = plot.valToPos(x[i - 1], "x", true), right = plot.valToPos(x[i], "x", true);
          const d = plot.ctx.getImageData(Math.round((left + right) / 2), top, 1, height).data;
          let linePixels = 0;
          for (let p = 0; p < d.length; p += 4) {
            const hi = Math.max(d[p], d[p + 1], d[p + 2]), lo = Math.min(d[p], d[p + 1], d[p + 2]);
            if (d[p + 3] > 200 && hi - lo > 60) linePixels++;
          }
          columns.push({ position: i, seedChanges: frames[i].seed !== frames[i - 1].seed, linePixels });
        }
        return columns;
      })()`);
      assert.equal(columns.length, manifest.frames.length - 1);
      const boundaries = columns.filter((c) => c.seedChanges);
      const inside = columns.filter((c) => !c.seedChanges);
      assert.deepEqual([boundaries.length, inside.length], [7, 16], "8 seeds of 3 colours");
      // Within a seed the solid mean lines cross every column: the check sees lines where they are.
      assert.deepEqual(inside.filter((c) => c.linePixels === 0), [], "lines within a seed");
      assert.deepEqual(boundaries.filter((c) => c.linePixels > 0), [], "lines across seeds");
      assert.deepEqual(page.pageErrors, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

browserTest(
  "report: identity numbers with fields missing draw as '–', and the page is drawn whole",
  async (browser) => {
    const dir = await Deno.makeTempDir({ prefix: "fluidity-report-partial-" });
    try {
      // A foreign manifest: the schema leaves summary.identity to its writer, and this one has
      // no embedder record and none of the correlation numbers.
      const manifest = await readManifest(join(SNAPSHOTS_DIR, "innate_external"));
      assert.ok(manifest?.summary, "snapshots/innate_external/manifest.json");
      delete manifest.identity;
      (manifest.summary as { identity?: unknown }).identity = { framesAboveThreshold: 2 };
      await Deno.writeTextFile(join(dir, "report.html"), reportHtml(reportData(manifest)));
      const page = await browser.newPage();
      await page.goto(pathToFileURL(join(dir, "report.html")).href, { waitFor: READY });
      const drawn = await page.evaluate<{ rows: number; spec: boolean; identity: string[] }>(`({
        rows: document.querySelectorAll("#frames-table tr").length,
        spec: document.getElementById("spec").textContent.includes('"innate_external"'),
        identity: [...document.querySelectorAll("#identity-table tr")].map((tr) => tr.textContent),
      })`);
      assert.equal(drawn.rows, manifest.frames.length);
      assert.ok(drawn.spec, "the spec is shown");
      assert.ok(drawn.identity.includes("embedder–"), JSON.stringify(drawn.identity));
      assert.ok(drawn.identity.includes("frames at or above the threshold2 of –"));
      // Only the pictures, which this page was written without, fail to load.
      const errors = page.consoleErrors.filter((e) => !e.startsWith("Failed to load resource"));
      assert.deepEqual([errors, page.pageErrors], [[], []]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
