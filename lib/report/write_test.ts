import assert from "node:assert/strict";
import { fakeRun } from "./_test_util.ts";
import { join } from "node:path";
import { RunOpenError } from "../compare/run_folder.ts";
import { withTempDir } from "../experiments/_fakes.ts";
import { MANIFEST_FILE } from "../experiments/manifest.ts";
import { parseManifestText } from "../experiments/manifest_schema.ts";
import { embeddedReportData } from "./_read_report.ts";
import { reportData } from "./data.ts";
import { reportHtml } from "./page.ts";
import { REPORT_FILE, writeReport, writeReportOrWarn } from "./write.ts";

const RUN = { name: "report-write", seed: 4, count: 4 };

Deno.test("writeReport: report.html from the manifest on disk, nothing else touched", async () => {
  await withTempDir("report_write_", async (dir) => {
    await fakeRun(dir, RUN);
    await Deno.remove(join(dir, REPORT_FILE));
    const manifestBytes = await Deno.readFile(join(dir, MANIFEST_FILE));
    const before = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    const path = await writeReport(dir);
    assert.equal(path, join(dir, REPORT_FILE));
    // The manifest as the one schema reads it (which fixes the order of its keys).
    const manifest = parseManifestText(new TextDecoder().decode(manifestBytes), "manifest.json");
    assert.equal(await Deno.readTextFile(path), reportHtml(reportData(manifest)));
    assert.deepEqual(await Deno.readFile(join(dir, MANIFEST_FILE)), manifestBytes);
    assert.ok(!JSON.stringify(manifest.outputs).includes(REPORT_FILE), "not a manifest output");
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      [...before, REPORT_FILE].sort(),
      "only report.html is added: no temporary file is left",
    );
    // The manifest's own path works too.
    assert.equal(await writeReport(join(dir, MANIFEST_FILE)), path);
    assert.equal(embeddedReportData(await Deno.readTextFile(path)).frames.length, 4);
  });
});

Deno.test("writeReport refuses a missing folder, a folder without manifest and an invalid one", async () => {
  await withTempDir("report_write_", async (dir) => {
    const problem = async (path: string) => {
      const error = await writeReport(path).catch((e) => e);
      assert.ok(error instanceof RunOpenError, String(error));
      return error;
    };
    const missing = await problem(join(dir, "nope"));
    assert.equal(missing.problem, "not-found");
    assert.match(missing.message, /nope: no such run folder or manifest file/);
    const empty = await problem(dir);
    assert.equal(empty.problem, "no-manifest");
    assert.match(empty.message, /not a run folder \(no manifest\.json in it\)/);
    const manifest = await fakeRun(join(dir, "run"), RUN);
    (manifest.frames[1] as unknown as Record<string, unknown>).sha256 = 5;
    await Deno.writeTextFile(join(dir, "run", MANIFEST_FILE), JSON.stringify(manifest));
    await Deno.remove(join(dir, "run", REPORT_FILE));
    const invalid = await problem(join(dir, "run"));
    assert.equal(invalid.problem, "invalid");
    assert.match(
      invalid.message,
      /run\/manifest\.json is not a valid run manifest: frames\[1\]\.sha256/,
    );
    await assert.rejects(Deno.stat(join(dir, "run", REPORT_FILE)), Deno.errors.NotFound);
  });
});

Deno.test("writeReportOrWarn: a failure is a warning naming the file, the cause and the command", async () => {
  await withTempDir("report_write_", async (dir) => {
    const lines: string[] = [];
    assert.equal(await writeReportOrWarn(dir, (l) => lines.push(l)), null);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      /^warning: .*report\.html was not written \(.*not a run folder.*\); the frames and manifest\.json are not affected: run deno task report /,
    );
    await fakeRun(join(dir, "run"), RUN);
    const quiet: string[] = [];
    assert.equal(
      await writeReportOrWarn(join(dir, "run"), (l) => quiet.push(l)),
      join(dir, "run", REPORT_FILE),
    );
    assert.deepEqual(quiet, []);
  });
});
