import assert from "node:assert/strict";
import { isAbsolute, join, relative } from "node:path";
import { browserTest } from "../browser/testing.ts";
import { fakeRun } from "../report/_test_util.ts";
import { benchReportOpen, formatResult, main } from "./report_open.ts";

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

/** Frames of the run the test measures: enough that the frames table runs far below the fold. */
const FRAMES = 40;

browserTest("bench:report measures what the page really loads", async (browser) => {
  const dir = await Deno.makeTempDir({ prefix: "fluidity-bench-report-" });
  try {
    const manifest = await fakeRun(dir, { name: "bench-report", seed: 3, count: FRAMES });
    const result = await benchReportOpen(dir, 2, browser);
    const html = await Deno.stat(join(dir, "report.html"));
    assert.equal(result.frames, FRAMES);
    assert.equal(result.htmlBytes, html.size);
    assert.ok(result.htmlGzipBytes > 0 && result.htmlGzipBytes < result.htmlBytes);
    assert.equal(result.loads.length, 2, "the warm-up load is not counted");

    // What the folder holds, from the disk and the manifest rather than from the bench.
    const onDisk = await filesUnder(dir);
    const tableOrder = [...new Set(manifest.frames.map((f) => f.file))];
    assert.deepEqual(onDisk.filter((f) => f.startsWith("frames/")), [...tableOrder].sort());
    assert.equal(tableOrder.length, FRAMES, "every frame has a file of its own");
    const files = result.median.files;
    // Every picture but the frames loads on open; the manifest's data is in the page.
    assert.deepEqual(
      files.filter((f) => !f.startsWith("frames/")).sort(),
      onDisk.filter((f) => !f.startsWith("frames/") && f !== "manifest.json"),
    );
    // The current frame (the first) is shown at once, with the thumbnails of the table rows near
    // the viewport; the rows further down wait until scrolled to.
    const frames = files.filter((f) => f.startsWith("frames/"));
    assert.ok(
      frames.length >= 1 && frames.length < FRAMES,
      `${frames.length} of ${FRAMES} frames loaded on open`,
    );
    assert.deepEqual(frames.sort(), tableOrder.slice(0, frames.length).sort(), "the top rows");
    // The bytes are the folder's, less the manifest and the frames not fetched.
    const size = async (f: string) => (await Deno.stat(join(dir, f))).size;
    let all = 0, notFetched = 0;
    for (const f of onDisk) if (f !== "manifest.json") all += await size(f);
    for (const f of tableOrder.slice(frames.length)) notFetched += await size(f);
    assert.ok(notFetched > 0);
    assert.equal(result.median.bytes, all - notFetched);

    for (const load of result.loads) {
      // The page marks itself drawn from its own script, before the load event can fire.
      assert.ok(load.readyMs > 0 && load.readyMs <= load.loadMs, JSON.stringify(load));
    }
    assert.match(formatResult(result), new RegExp(`report\\.html of a ${FRAMES}-frame run`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

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
