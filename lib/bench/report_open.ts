/**
 * `deno task bench:report [RUN_DIR] [--loads N] [--json FILE]`: what opening a long run's
 * `report.html` costs. Without RUN_DIR it first makes a 300-frame tiny-model run of path 1 (the
 * paper's frame count; `experiments/path1.ts --model tiny --frames 300 --steps 10`, MP4 + GIF,
 * identity on) in a temporary folder. Then it reports:
 *
 * - the size of report.html, raw and gzipped (the data of every frame is embedded in it);
 * - the page weight loaded on open: the sizes of the files the page requested by the time it
 *   was ready and its load event had fired (lazy thumbnails below the fold are not fetched);
 * - the time from navigation start to `body[data-ready="1"]` (drawn: table, charts, path) and
 *   to the window's load event (every eager picture and the video's metadata), median of N
 *   fresh tabs from file:// in headless Chromium, after one warm-up load that is not counted.
 *
 * @module
 */

import { join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Browser, launchBrowser } from "../browser/chromium.ts";
import { parseStrict, reportCliError, UsageError } from "../compare/cli_options.ts";
import { openRun } from "../compare/run_folder.ts";
import { median } from "./machine.ts";
import { makeTinyRun } from "../report/_test_runs.ts";
import { writeReport } from "../report/write.ts";

/** Frames of the run the bench makes: the paper's count. */
export const BENCH_FRAMES = 300;

/** One load of the report. */
export interface ReportLoad {
  /** Navigation start to `body[data-ready="1"]`, ms. */
  readyMs: number;
  /** Navigation start to the window's load event, ms. */
  loadMs: number;
  /** Files requested (unique URLs), the document included. */
  requests: number;
  /** Their total size on disk, bytes (a video counts whole, though its metadata may suffice). */
  bytes: number;
  /** The files, relative to the run folder. */
  files: string[];
}

/** What the bench measured. */
export interface ReportOpenResult {
  /** The run folder measured. */
  runDir: string;
  /** Frames in the run. */
  frames: number;
  /** Size of report.html, bytes. */
  htmlBytes: number;
  /** report.html gzipped (what a server with compression would send), bytes. */
  htmlGzipBytes: number;
  /** Every load, in order. */
  loads: ReportLoad[];
  /** Medians over {@link loads} (every load requested the same files). */
  median: ReportLoad;
}

// Installed before the page's own scripts: records when the report marks itself ready, on the
// page's own clock (milliseconds since navigation start), so polling adds no delay to it.
const RECORD_READY = `new MutationObserver((_, observer) => {
  if (document.body?.dataset.ready === "1") {
    window.__readyMs = performance.now();
    observer.disconnect();
  }
}).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-ready"] });`;

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/**
 * Opens `runDir/report.html` `loads` times (plus a warm-up) and measures each load, in fresh
 * tabs of `browser` (a headless Chromium launched for it, and closed after, when not given).
 */
export async function benchReportOpen(
  runDir: string,
  loads = 5,
  browser?: Browser,
): Promise<ReportOpenResult> {
  // The page's requests come back as absolute file URLs: names are taken relative to the
  // absolute folder, so a RUN_DIR given relative to the working directory names them right.
  const root = resolve(runDir);
  const htmlPath = join(root, "report.html");
  const html = await Deno.readFile(htmlPath);
  const { manifest } = await openRun(runDir);
  await using launched = browser ? null : await launchBrowser();
  browser ??= launched!;
  const measured: ReportLoad[] = [];
  for (let i = 0; i <= loads; i++) {
    const page = await browser.newPage();
    await page.setViewport(1280, 900);
    await page.send("Page.addScriptToEvaluateOnNewDocument", { source: RECORD_READY });
    await page.goto(pathToFileURL(htmlPath).href, {
      waitFor: 'window.__readyMs !== undefined && document.readyState === "complete"',
      timeoutMs: 60_000,
    });
    const times = await page.evaluate<{ readyMs: number; loadMs: number }>(`({
      readyMs: window.__readyMs,
      loadMs: performance.getEntriesByType("navigation")[0].loadEventStart,
    })`);
    const files = [...new Set(page.requests.filter((u) => u.startsWith("file:")))];
    let bytes = 0;
    for (const url of files) bytes += (await Deno.stat(fileURLToPath(url))).size;
    if (page.failedRequests.length || page.pageErrors.length) {
      throw new Error(
        `the report did not open cleanly: ${
          JSON.stringify({ failed: page.failedRequests, errors: page.pageErrors })
        }`,
      );
    }
    await page.close();
    const names = files.map((u) => relative(root, fileURLToPath(u)));
    if (i > 0) measured.push({ ...times, requests: files.length, bytes, files: names });
  }
  return {
    runDir,
    frames: manifest.frames.length,
    htmlBytes: html.length,
    htmlGzipBytes: await gzipSize(html),
    loads: measured,
    median: {
      readyMs: median(measured.map((l) => l.readyMs)),
      loadMs: median(measured.map((l) => l.loadMs)),
      requests: median(measured.map((l) => l.requests)),
      bytes: median(measured.map((l) => l.bytes)),
      files: sameFiles(measured),
    },
  };
}

/** The files every load requested; they differ only if the page loads differently each time. */
function sameFiles(loads: readonly ReportLoad[]): string[] {
  const first = loads[0].files;
  const key = (files: readonly string[]) => [...files].sort().join("\n");
  const other = loads.find((l) => key(l.files) !== key(first));
  if (other) {
    throw new Error(
      `the loads requested different files: ${first.join(", ")} / ${other.files.join(", ")}`,
    );
  }
  return first;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The result as a small text table. */
export function formatResult(r: ReportOpenResult): string {
  return [
    `report.html of a ${r.frames}-frame run (${r.runDir})`,
    `  report.html               ${kb(r.htmlBytes)} (gzip ${kb(r.htmlGzipBytes)})`,
    `  loaded on open            ${kb(r.median.bytes)} in ${r.median.requests} files`,
    `  files on open             ${r.median.files.join(", ")}`,
    `  open → data-ready         ${r.median.readyMs.toFixed(0)} ms (median of ${r.loads.length})`,
    `  open → window load        ${r.median.loadMs.toFixed(0)} ms (median of ${r.loads.length})`,
    `  loads (ready/load ms)     ${
      r.loads.map((l) => `${l.readyMs.toFixed(0)}/${l.loadMs.toFixed(0)}`).join(", ")
    }`,
  ].join("\n");
}

/** The command; returns the exit code (0 measured, 1 failure or damaged manifest, 2 usage). */
export async function main(args: string[]): Promise<number> {
  let temp: string | undefined;
  try {
    const { values, positionals } = parseStrict(args, {
      json: { type: "string" },
      loads: { type: "string", default: "5" },
    });
    const loads = Number(values.loads);
    if (!Number.isInteger(loads) || loads < 1) {
      throw new UsageError(`--loads: expected a positive integer, got "${values.loads}"`);
    }
    if (positionals.length > 1) {
      throw new UsageError(`one run folder at most, got ${positionals.length}`);
    }
    let runDir = positionals[0];
    if (runDir) {
      // The page as this version draws it, from the run's manifest (no frame is recomputed).
      await writeReport(runDir);
    } else {
      temp = await Deno.makeTempDir({ prefix: "fluidity-bench-report-" });
      runDir = temp;
      const started = performance.now();
      console.error(`making a ${BENCH_FRAMES}-frame tiny run of path 1 in ${runDir} …`);
      await makeTinyRun(runDir, { frames: BENCH_FRAMES, steps: 10, fps: 30, gif: true });
      console.error(`made in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const result = await benchReportOpen(runDir, loads);
    console.log(formatResult(result));
    if (typeof values.json === "string") {
      await Deno.writeTextFile(values.json, JSON.stringify(result, null, 2) + "\n");
    }
    return 0;
  } catch (e) {
    return reportCliError(e, console.error);
  } finally {
    if (temp) await Deno.remove(temp, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
