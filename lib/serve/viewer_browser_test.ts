/**
 * The viewer (`deno task serve`) in headless Chromium on a results folder of real tiny-model
 * runs: the run list, choosing two runs and comparing them (the table against the JSON the page
 * was built from), a run's report served over HTTP with its MP4 fetched by Range requests, and a
 * running run's report following new frames without a reload.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "../browser/page.ts";
import { decodeScreenshot, regionStats } from "../browser/region.ts";
import { browserTest } from "../browser/testing.ts";
import { type Manifest, writeManifest } from "../experiments/manifest.ts";
import { brokenImages } from "../report/_browser_util.ts";
import { makeTinyRunPair } from "../report/_test_runs.ts";
import type { ViewerComparison } from "./compare.ts";
import { createHandler } from "./server.ts";

const READY = 'document.body?.dataset.ready === "1"';
/** The live report's poll interval here: short, so the test waits little. */
const POLL_MS = 200;
/** How long a running run's report may take to show new frames. */
const LIVE_WAIT_MS = 10_000;

/** A request the viewer answered: what Chromium asked for and what it got. */
interface Served {
  path: string;
  range: string | null;
  status: number;
}

/**
 * Writes `live/run`: run `source` as it was while running, with its frames at `positions` (all
 * frame files are copied up front, as a runner writes a frame's file before listing it).
 */
async function writeRunning(
  root: string,
  source: Manifest,
  sourceDir: string,
  positions: number[],
) {
  const dir = join(root, "live/run");
  await Deno.mkdir(join(dir, "frames"), { recursive: true });
  for (const f of source.frames) await Deno.copyFile(join(sourceDir, f.file), join(dir, f.file));
  const manifest = {
    ...source,
    status: "running",
    frames: positions.map((p) => source.frames[p]),
    summary: null,
    outputs: { contactSheet: null, pathPlot: null, video: { mp4: null, gif: null } },
  };
  delete (manifest as { identity?: unknown }).identity;
  // As the runner writes it (temporary file and rename): the viewer never reads half.
  await writeManifest(dir, manifest as Manifest);
}

/** Completes `live/run`: the pictures of `source` copied in, then its complete manifest. */
async function writeComplete(root: string, source: Manifest, sourceDir: string) {
  const dir = join(root, "live/run");
  const o = source.outputs;
  for (const file of [o.contactSheet, o.pathPlot, o.identityPlot, o.video.mp4, o.video.gif]) {
    if (file) await Deno.copyFile(join(sourceDir, file), join(dir, file));
  }
  await writeManifest(dir, source);
}

/** Texts of the cells matching `selector` in each `tr.frame` of the compare table. */
function cells(page: Page, selector: string): Promise<string[]> {
  return page.evaluate<string[]>(
    `[...document.querySelectorAll("#compare-table tr.frame ${selector}")].map((td) => td.textContent)`,
  );
}

browserTest(
  "viewer: list, compare, served report with Range video, live report",
  async (browser, t) => {
    const runs = await makeTinyRunPair(8);
    const { root, a, b, manifestA } = runs;
    const served: Served[] = [];
    const controller = new AbortController();
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const handler = createHandler(root, { pollMs: POLL_MS });
      server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
        async (req) => {
          const response = await handler(req);
          served.push({
            path: new URL(req.url).pathname,
            range: req.headers.get("range"),
            status: response.status,
          });
          return response;
        },
      );
      const origin = `http://127.0.0.1:${server.addr.port}`;
      // Frame 1 is missing: it arrives later, before frame 2 in the list (as a reused or
      // out-of-order frame does).
      await writeRunning(root, manifestA, join(root, a), [0, 2, 3]);
      const page = await browser.newPage();
      await page.setViewport(1280, 900);

      await t.step("the list shows every run with its status and progress", async () => {
        await page.goto(`${origin}/`, { waitFor: READY });
        const rows = await page.evaluate<Record<string, [string, string]>>(
          `Object.fromEntries([...document.querySelectorAll("#runs tr.run")].map((tr) =>
          [tr.dataset.run, [tr.querySelector("td.status").textContent,
                            tr.querySelector("td.progress").textContent]]))`,
        );
        assert.deepEqual(rows, {
          [a]: ["complete", "8 / 8"],
          [b]: ["complete", "8 / 8"],
          "live/run": ["running", "3 / 8"],
        });
        const rect = await page.contentRect("#runs");
        const stats = regionStats(await decodeScreenshot(await page.screenshot()), rect);
        assert.ok(
          stats.nonBackgroundFraction > 0.03,
          `the runs table looks blank: ${JSON.stringify(stats)}`,
        );
        assert.ok(stats.distinctColors >= 3, `${stats.distinctColors} colours`);
      });

      await t.step(
        "picking two runs opens their comparison, whose numbers are the API's",
        async () => {
          assert.equal(
            await page.evaluate('document.getElementById("compare-button").disabled'),
            true,
          );
          await page.click(`tr.run[data-run="${a}"] input.pick`);
          await page.click(`tr.run[data-run="${b}"] input.pick`);
          await page.click("#compare-button");
          assert.ok(
            // The click navigates: the old document goes away under an evaluation.
            await page.waitFor(`location.pathname === "/compare" && ${READY}`, 15_000, {
              retryErrors: true,
            }),
            "the compare page did not get ready",
          );
          const api = await (await fetch(`${origin}/api/compare?${new URLSearchParams({ a, b })}`))
            .json() as ViewerComparison;
          const frames = api.comparison.frames;
          assert.equal(frames.length, manifestA.frames.length);
          assert.equal(
            await page.evaluate('document.querySelectorAll("#compare-table tr.frame").length'),
            frames.length,
          );
          assert.deepEqual(
            await page.evaluate(
              `[...document.querySelectorAll("#compare-table tr.frame")].map((tr) => [tr.dataset.index, tr.dataset.status])`,
            ),
            frames.map((f) => [String(f.index), f.status]),
          );
          // Another seed: every frame differs, so every number is a real one, not a dash.
          assert.ok(
            frames.every((f) => f.status === "different" && f.maxAbsDiff! > 0),
            JSON.stringify(frames.map((f) => f.status)),
          );
          assert.deepEqual(await cells(page, ".max-diff"), frames.map((f) => String(f.maxAbsDiff)));
          assert.deepEqual(await cells(page, ".ssim"), frames.map((f) => f.ssim!.toFixed(5)));
          assert.deepEqual(
            await cells(page, ".identity"),
            frames.map((f) => f.identityDistance!.toFixed(4)),
          );
          assert.deepEqual(
            await brokenImages(page, "#compare-table img.diff, #compare-table img.frame"),
            [],
          );
          assert.equal(
            await page.evaluate('document.querySelectorAll("#compare-table img.diff").length'),
            frames.length,
          );
          assert.match(
            await page.evaluate<string>('document.getElementById("verdict").textContent'),
            /8 different/,
          );
        },
      );

      await t.step("a run's report loads its frames over HTTP and its MP4 by Range", async () => {
        const url = `${origin}/runs/${a}/report.html`;
        await page.goto(url, { waitFor: READY });
        assert.ok(
          await page.waitFor('document.getElementById("video").readyState >= 1', 10_000),
          "video metadata",
        );
        assert.equal(
          await page.evaluate('document.getElementById("video").videoWidth'),
          manifestA.frames[0].width,
        );
        assert.deepEqual(
          await brokenImages(page, "#frames-table img, #frame-image, #path-plot, #identity-plot"),
          [],
        );
        for (const f of manifestA.frames) {
          assert.ok(
            served.some((s) => s.path === `/runs/${a}/${f.file}` && s.status === 200),
            f.file,
          );
        }
        const video = served.filter((s) => s.path === `/runs/${a}/video.mp4`);
        assert.ok(
          video.some((s) => s.range?.startsWith("bytes=") && s.status === 206),
          `video requests: ${JSON.stringify(video)}`,
        );
      });

      await t.step("a running run's report shows new frames without a reload", async () => {
        await page.goto(`${origin}/runs/live/run/report.html`, { waitFor: READY });
        assert.deepEqual(
          await page.evaluate("[document.body.dataset.frames, document.body.dataset.status]"),
          ["3", "running"],
        );
        // Gone if the page reloaded instead of updating itself.
        await page.evaluate("window.sameDocument = true");
        // Gone if the pictures were redrawn although they did not change (a playing video would
        // restart on every poll).
        await page.evaluate('document.querySelector("#pictures > *").dataset.kept = "1"');
        // Frame 2, at position 1 now: when frame 1 arrives before it, it must stay on screen.
        await page.evaluate("fluidityReport.show(1)");
        assert.equal(
          await page.evaluate('document.getElementById("frame-image").dataset.index'),
          "2",
        );
        await writeRunning(root, manifestA, join(root, a), [0, 1, 2, 3, 4, 5]);
        const started = Date.now();
        assert.ok(
          await page.waitFor('document.body.dataset.frames === "6"', LIVE_WAIT_MS),
          `still ${await page.evaluate(
            "document.body.dataset.frames",
          )} frames after ${LIVE_WAIT_MS} ms`,
        );
        const tookMs = Date.now() - started;
        assert.equal(await page.evaluate("window.sameDocument"), true, "the page was reloaded");
        assert.deepEqual(
          await page.evaluate(
            '[document.getElementById("frame-image").dataset.index, fluidityReport.current()]',
          ),
          ["2", 2],
          "the frame shown stays frame 2, now at position 2",
        );
        assert.equal(
          await page.evaluate('document.querySelector("#pictures > *").dataset.kept'),
          "1",
          "the unchanged pictures were redrawn",
        );
        assert.equal(
          await page.evaluate('document.querySelectorAll("#frames-table tr").length'),
          6,
        );
        assert.deepEqual(await brokenImages(page, "#frames-table img"), []);
        console.log(`live report showed 6 frames ${tookMs} ms after the manifest changed`);
      });

      await t.step("when the run completes, its report shows the pictures", async () => {
        await writeComplete(root, manifestA, join(root, a));
        assert.ok(
          await page.waitFor('document.body.dataset.status === "complete"', LIVE_WAIT_MS),
          "the page never saw the run complete",
        );
        assert.equal(await page.evaluate("window.sameDocument"), true, "the page was reloaded");
        assert.equal(
          await page.evaluate('document.querySelector("#pictures > *").dataset.kept'),
          undefined,
          "the pictures changed but were not redrawn",
        );
        assert.equal(
          await page.evaluate('document.querySelectorAll("#path-plot, #contact-sheet").length'),
          2,
        );
        assert.deepEqual(await brokenImages(page, "#path-plot, #contact-sheet"), []);
        assert.equal(
          await page.evaluate('document.getElementById("video").tagName'),
          "VIDEO",
        );
      });

      await t.step("no errors, and no request left 127.0.0.1", () => {
        assert.deepEqual([page.consoleErrors, page.pageErrors, page.failedRequests], [[], [], []]);
        const elsewhere = page.requests.filter((r) =>
          !r.startsWith(`${origin}/`) && !r.startsWith("data:")
        );
        assert.deepEqual(elsewhere, [], "data: URLs are Chromium's own <video> control icons");
      });
    } finally {
      controller.abort();
      await server?.finished;
      await Deno.remove(root, { recursive: true });
    }
  },
);
