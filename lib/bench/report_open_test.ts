import assert from "node:assert/strict";
import { isAbsolute, join, relative } from "node:path";
import { browserTest } from "../browser/testing.ts";
import { fakeRun } from "../report/_test_util.ts";
import { benchReportOpen, formatResult, main } from "./report_open.ts";

browserTest("bench:report measures what the page really loads", async (browser) => {
  const dir = await Deno.makeTempDir({ prefix: "fluidity-bench-report-" });
  try {
    await fakeRun(dir, { name: "bench-report", seed: 3, count: 6 });
    const result = await benchReportOpen(dir, 2, browser);
    const html = await Deno.stat(join(dir, "report.html"));
    assert.equal(result.frames, 6);
    assert.equal(result.htmlBytes, html.size);
    assert.ok(result.htmlGzipBytes > 0 && result.htmlGzipBytes < result.htmlBytes);
    assert.equal(result.loads.length, 2, "the warm-up load is not counted");
    const files = result.median.files;
    assert.ok(files.includes("report.html"), files.join(", "));
    // The current frame is shown at once; the table's thumbnails wait until scrolled to.
    assert.ok(files.filter((f) => f.startsWith("frames/")).length >= 1, files.join(", "));
    let bytes = 0;
    for (const f of files) bytes += (await Deno.stat(join(dir, f))).size;
    assert.equal(result.median.bytes, bytes);
    for (const load of result.loads) {
      // The page marks itself drawn from its own script, before the load event can fire.
      assert.ok(load.readyMs > 0 && load.readyMs <= load.loadMs, JSON.stringify(load));
    }
    assert.match(formatResult(result), /report\.html of a 6-frame run/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Every file under `dir`, relative to it, sorted. */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(join(dir, prefix))) {
    const name = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) found.push(...await filesUnder(dir, name));
    else found.push(name);
  }
  return found.sort();
}

browserTest(
  "bench:report: a run folder given relative to the working directory",
  async (browser) => {
    const dir = await Deno.makeTempDir({ prefix: "fluidity-bench-report-relative-" });
    try {
      await fakeRun(dir, { name: "bench-report-relative", seed: 3, count: 2 });
      // As `deno task bench:report results/x` passes it: relative to where the task runs.
      const given = relative(Deno.cwd(), dir);
      assert.ok(!isAbsolute(given), given);
      const result = await benchReportOpen(given, 1, browser);
      // Two frames are all in view, so the page loads every file of the run folder but the
      // manifest (its data is in the page), each named relative to the folder.
      const expected = (await filesUnder(dir)).filter((f) => f !== "manifest.json");
      assert.deepEqual([...result.median.files].sort(), expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("bench:report: exit 2 for usage and no run folder, 1 for a damaged manifest, as the CLIs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fluidity-bench-report-cli-" });
  const errors: string[] = [];
  const consoleError = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    await Deno.writeTextFile(join(dir, "manifest.json"), "{}");
    assert.equal(await main(["--loads", "0"]), 2);
    assert.equal(await main(["--bogus"]), 2);
    assert.equal(await main([dir, dir]), 2);
    assert.equal(await main([join(dir, "missing")]), 2);
    assert.equal(await main([dir]), 1);
    assert.match(errors.join("\n"), /--loads: expected a positive integer, got "0"/);
    assert.match(errors.join("\n"), /manifest\.json/);
  } finally {
    console.error = consoleError;
    await Deno.remove(dir, { recursive: true });
  }
});
