/**
 * Runs are data from wherever they came from: a label or folder name holding markup must show as
 * text in the report and in the viewer, and run nothing. Checked in headless Chromium, where a
 * script that ran would set a global and an injected <img> would be requested.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "../browser/page.ts";
import { browserTest } from "../browser/testing.ts";
import { fakeDeps, quietWriter } from "../experiments/_fakes.ts";
import { runExperiment } from "../experiments/runner.ts";
import { createHandler } from "./server.ts";

const READY = 'document.body?.dataset.ready === "1"';
const LABEL = `</script><img src="injected-label.png" onerror="window.__xss='label'">`;
/** The experiment's name: shown by the list and the reports. */
const NAME = `<img src="injected-name.png" onerror="window.__xss='name'">`;
/** Another run's label: reaches the compare page in the spec differences. */
const OTHER_LABEL = `<img src="injected-diff.png" onerror="window.__xss='diff'">`;
/** A folder name is part of the run path shown by the list and the compare page. */
const FOLDER = `r"><img src=injected-folder.png onerror=window.__xss=1>`;

async function assertInert(page: Page, where: string): Promise<void> {
  assert.equal(await page.evaluate("window.__xss ?? null"), null, `${where}: a script ran`);
  const injected = page.requests.filter((u) => /\/injected-[a-z]+\.png$/.test(u));
  assert.deepEqual(injected, [], `${where}: injected markup was loaded`);
  assert.deepEqual(page.pageErrors, [], `${where}: page errors`);
}

browserTest(
  "hostile labels and folder names show as text in the report and the viewer",
  async (browser) => {
    const root = await Deno.makeTempDir({ prefix: "fluidity-hostile-" });
    const controller = new AbortController();
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const dir = join(root, "exp", FOLDER);
      const spec = {
        name: "hostile",
        model: "tiny",
        seed: 1,
        steps: 10,
        frames: [{ color: [1, 0, 0], label: LABEL }, { color: [0, 0, 1], label: "plain" }],
      } as const;
      const quiet = { deps: fakeDeps().deps, log: () => {}, progressWriter: quietWriter };
      await runExperiment(spec, { out: dir, ...quiet });
      await runExperiment({
        ...spec,
        frames: [{ color: [1, 0, 0], label: OTHER_LABEL }, spec.frames[1]],
      }, { out: join(root, "exp", "other"), ...quiet });
      // Specs hold slugs as names, but a manifest may come from anywhere (or a hand edit).
      const manifestPath = join(dir, "manifest.json");
      const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
      manifest.spec.name = NAME;
      await Deno.writeTextFile(manifestPath, JSON.stringify(manifest, null, 2));

      const report = await browser.newPage();
      await report.goto(pathToFileURL(join(dir, "report.html")).href, { waitFor: READY });
      await assertInert(report, "report.html");
      const text = await report.evaluate<string>("document.body.innerText");
      assert.ok(text.includes(LABEL), "the label is shown as text");

      server = Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        signal: controller.signal,
        onListen: () => {},
      }, createHandler(root, {}));
      const base = `http://127.0.0.1:${server.addr.port}`;
      const runPath = `exp/${FOLDER}`;
      const list = await browser.newPage();
      await list.goto(`${base}/`, { waitFor: READY });
      await assertInert(list, "run list");
      const listed = await list.evaluate<string>("document.body.innerText");
      assert.ok(listed.includes(FOLDER) && listed.includes(NAME), "folder and name as text");
      const compare = await browser.newPage();
      const query = `a=${encodeURIComponent(runPath)}&b=exp/other`;
      await compare.goto(`${base}/compare?${query}`, { waitFor: READY, timeoutMs: 20_000 });
      await assertInert(compare, "compare page");
      const compared = await compare.evaluate<string>("document.body.innerText");
      assert.ok(compared.includes(FOLDER), "the run path as text");
      // The differences quote their values as JSON: the markup is there as text, or, had it been
      // parsed, gone from the text.
      assert.ok(compared.includes(JSON.stringify(OTHER_LABEL)), "a spec difference as text");
      assert.ok(compared.includes(JSON.stringify(NAME)), "the name's difference as text");
      const served = await browser.newPage();
      await served.goto(
        `${base}/runs/${encodeURIComponent("exp")}/${encodeURIComponent(FOLDER)}/report.html`,
        {
          waitFor: READY,
        },
      );
      await assertInert(served, "served report");
      assert.ok(
        (await served.evaluate<string>("document.body.innerText")).includes(LABEL),
        "the served report shows the label as text",
      );
    } finally {
      controller.abort();
      await server?.finished;
      await Deno.remove(root, { recursive: true });
    }
  },
);
