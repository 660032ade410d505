/**
 * Makes the README's screenshots: `lib/report/docs/report.png` (a demo-like run's report.html,
 * 1280×1600) and `lib/serve/docs/compare.png` (the viewer comparing it with the same run at
 * twice the injection scale, so the diff pictures show where the colour acts; another seed
 * would differ everywhere). Tiny-model runs of path 1 like the demo's (48 frames, 20 steps), in
 * a temporary folder.
 *
 * ```sh
 * deno run -A lib/report/docs/screenshot.ts
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { launchBrowser } from "../../browser/chromium.ts";
import { createHandler } from "../../serve/server.ts";
import { makeTinyRun } from "../_test_runs.ts";

const REPORT_PNG = fileURLToPath(new URL("./report.png", import.meta.url));
const COMPARE_PNG = fileURLToPath(new URL("../../serve/docs/compare.png", import.meta.url));
const READY = 'document.body?.dataset.ready === "1"';

/** Writes both screenshots and returns their paths. */
export async function main(): Promise<string[]> {
  const root = await Deno.makeTempDir({ prefix: "fluidity-screenshot-" });
  const controller = new AbortController();
  try {
    const a = "path1/scale-0.01", b = "path1/scale-0.02";
    await makeTinyRun(join(root, a), { frames: 48, steps: 20 });
    await makeTinyRun(join(root, b), { frames: 48, steps: 20, scale: 0.02 });
    await using browser = await launchBrowser();

    const report = await browser.newPage();
    await report.setViewport(1280, 1600);
    await report.goto(pathToFileURL(join(root, a, "report.html")).href, { waitFor: READY });
    // A frame part-way along the path, so the marker is not at the start.
    await report.evaluate("fluidityReport.show(17)");
    await report.evaluate('document.getElementById("frame-image").decode()');
    await Deno.writeFile(REPORT_PNG, await report.screenshot());

    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
      createHandler(root, {}),
    );
    const compare = await browser.newPage();
    await compare.setViewport(1280, 900);
    await compare.goto(
      `http://127.0.0.1:${server.addr.port}/compare?${new URLSearchParams({ a, b })}`,
      { waitFor: READY, timeoutMs: 60_000 },
    );
    await Deno.writeFile(COMPARE_PNG, await compare.screenshot());
    controller.abort();
    await server.finished;
    return [REPORT_PNG, COMPARE_PNG];
  } finally {
    controller.abort();
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) {
  for (const path of await main()) console.log(`${path}: ${(await Deno.stat(path)).size} bytes`);
}
