import assert from "node:assert/strict";
import { fakeRun } from "../report/_test_util.ts";
import { join } from "node:path";
import { captureIo } from "../compare/_test_util.ts";
import { MANIFEST_FILE } from "../experiments/manifest.ts";
import { readReportData } from "../report/_read_report.ts";
import { reportData } from "../report/data.ts";
import { REPORT_FILE } from "../report/write.ts";
import { sha256File } from "../util/hash.ts";
import { runDeno } from "../util/_test_process.ts";
import { REPORT_USAGE, reportMain } from "./report.ts";

const RUN = { name: "report-cli", seed: 6, count: 5 };

/** Size, modification time and SHA-256 of every file in frames/. */
async function framesState(dir: string): Promise<string[]> {
  const state: string[] = [];
  for (
    const entry of [...Deno.readDirSync(join(dir, "frames"))].sort((a, b) =>
      a.name < b.name ? -1 : 1
    )
  ) {
    const path = join(dir, "frames", entry.name);
    const info = await Deno.stat(path);
    state.push(`${entry.name} ${info.size} ${info.mtime?.getTime()} ${await sha256File(path)}`);
  }
  return state;
}

Deno.test("report CLI: --help 0; usage errors, missing folder or manifest 2; invalid manifest 1", async () => {
  const root = await Deno.makeTempDir({ prefix: "report_cli_" });
  try {
    const help = captureIo();
    assert.equal(await reportMain(["--help"], help.io), 0);
    assert.deepEqual(help.out, [REPORT_USAGE]);
    const usage = async (args: string[], pattern: RegExp) => {
      const io = captureIo();
      assert.equal(await reportMain(args, io.io), 2, args.join(" "));
      assert.match(io.err.join("\n"), pattern);
      assert.deepEqual(io.out, []);
    };
    await usage([], /^error: expected at least one run folder \(RUN_DIR\), got none/);
    await usage(["--colour", root], /^error: Unknown option '--colour'/);
    await usage([join(root, "nope")], /^error: .*nope: no such run folder or manifest file/);
    await usage([root], /^error: .*: not a run folder \(no manifest\.json in it\)/);

    const manifest = await fakeRun(join(root, "bad"), RUN);
    (manifest as unknown as Record<string, unknown>).status = "done";
    await Deno.writeTextFile(join(root, "bad", MANIFEST_FILE), JSON.stringify(manifest));
    const invalid = captureIo();
    assert.equal(await reportMain([join(root, "bad")], invalid.io), 1);
    assert.match(
      invalid.err.join("\n"),
      /^error: .*bad\/manifest\.json is not a valid run manifest: status is "done"/,
    );

    // Several folders: each is tried, the worst exit code wins.
    await fakeRun(join(root, "good"), RUN);
    const mixed = captureIo();
    assert.equal(await reportMain([join(root, "good"), join(root, "nope")], mixed.io), 2);
    assert.deepEqual(mixed.out, [join(root, "good", REPORT_FILE)]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name:
    "deno task report (real process) remakes the run's report byte for byte from its manifest, touching no frame",
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "report_cli_" });
    try {
      const dirs = [join(root, "a"), join(root, "b")];
      const manifests = [await fakeRun(dirs[0], RUN), await fakeRun(dirs[1], RUN)];
      const written = await Deno.readFile(join(dirs[0], REPORT_FILE));
      const frames = await framesState(dirs[0]);
      const manifestBytes = await Deno.readFile(join(dirs[0], MANIFEST_FILE));
      await Deno.remove(join(dirs[1], REPORT_FILE));

      const result = await runDeno(["task", "-q", "report", ...dirs]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.stdout.trim().split("\n"), dirs.map((d) => join(d, REPORT_FILE)));
      assert.deepEqual(await Deno.readFile(join(dirs[0], REPORT_FILE)), written);
      assert.deepEqual(await framesState(dirs[0]), frames);
      assert.deepEqual(await Deno.readFile(join(dirs[0], MANIFEST_FILE)), manifestBytes);
      assert.deepEqual(await readReportData(dirs[1]), reportData(manifests[1]));

      const missing = await runDeno(["task", "-q", "report", join(root, "nope")]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /nope: no such run folder/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
