import assert from "node:assert/strict";
import { join } from "node:path";
import { encodePng } from "../render/png.ts";
import { sha256Hex } from "../util/hash.ts";
import { RunOpenError } from "./run_folder.ts";
import { formatVerifyReport, verifyRun } from "./verify.ts";
import { gradientImage, writeTestRun } from "./_test_util.ts";

async function withRun(fn: (dir: string, files: string[]) => Promise<void>) {
  const tmp = await Deno.makeTempDir();
  try {
    const manifest = await writeTestRun(
      tmp,
      [1, 2, 3].map((s) => ({ rgba: gradientImage(16, 16, s) })),
    );
    await fn(tmp, manifest.frames.map((f) => f.file));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("verifyRun: an intact run", async () => {
  await withRun(async (dir) => {
    const report = await verifyRun(dir);
    assert.equal(report.ok, true);
    assert.equal(report.intact, 3);
    assert.deepEqual([report.missing, report.corrupt, report.extra], [[], [], []]);
    assert.match(formatVerifyReport(report), /^OK: all 3 file\(s\) intact$/m);
  });
});

Deno.test("verifyRun: a flipped byte is a hash mismatch", async () => {
  await withRun(async (dir, files) => {
    const path = join(dir, files[1]);
    const bytes = await Deno.readFile(path);
    bytes[bytes.length >> 1] ^= 0x01;
    await Deno.writeFile(path, bytes);
    const report = await verifyRun(dir);
    assert.equal(report.ok, false);
    assert.equal(report.corrupt.length, 1);
    assert.equal(report.corrupt[0].file, files[1]);
    assert.deepEqual(report.corrupt[0].indices, [1]);
    assert.match(report.corrupt[0].reason, /SHA-256 mismatch/);
  });
});

Deno.test("verifyRun: a PNG that fails to decode is corrupt even with a matching hash", async () => {
  await withRun(async (dir, files) => {
    const manifestPath = join(dir, "manifest.json");
    const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
    const truncated = (await Deno.readFile(join(dir, files[0]))).subarray(0, 50);
    const sha = sha256Hex(truncated);
    await Deno.writeFile(join(dir, `frames/${sha}.png`), truncated);
    await Deno.remove(join(dir, files[0]));
    manifest.frames[0].file = `frames/${sha}.png`;
    manifest.frames[0].sha256 = sha;
    await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
    const report = await verifyRun(dir);
    assert.equal(report.corrupt.length, 1);
    assert.match(report.corrupt[0].reason, /not a valid PNG: truncated/);
  });
});

Deno.test("verifyRun: wrong image size", async () => {
  await withRun(async (dir) => {
    const manifestPath = join(dir, "manifest.json");
    const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
    manifest.frames[2].width = 32;
    await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
    const report = await verifyRun(dir);
    assert.match(report.corrupt[0]?.reason ?? "", /image is 16×16, manifest says 32×16/);
  });
});

Deno.test("verifyRun: a missing frame fails; an extra PNG is only a warning", async () => {
  await withRun(async (dir, files) => {
    const extra = await encodePng(gradientImage(4, 4), 4, 4);
    await Deno.writeFile(join(dir, "frames", "stray.png"), extra);
    // Leftovers of atomic writes are not PNGs and are not reported.
    await Deno.writeTextFile(join(dir, "frames", ".x.png.1234.tmp"), "");
    const warned = await verifyRun(dir);
    assert.equal(warned.verdict, "ok");
    assert.equal(warned.ok, true);
    assert.deepEqual(warned.extra, ["frames/stray.png"]);
    const warnedText = formatVerifyReport(warned);
    assert.match(warnedText, /^warning: frames\/stray\.png is not in the manifest/m);
    assert.match(warnedText, /^OK: all 3 file\(s\) intact, 1 warning\(s\)$/m);

    await Deno.remove(join(dir, files[2]));
    const report = await verifyRun(dir);
    assert.equal(report.ok, false);
    assert.equal(report.verdict, "fail");
    assert.deepEqual(report.missing, [{ file: files[2], indices: [2] }]);
    assert.deepEqual(report.extra, ["frames/stray.png"]);
    assert.equal(report.intact, 2);
    const text = formatVerifyReport(report);
    assert.match(text, /missing: frames\/[0-9a-f]{64}\.png \(frame 2\)/);
    assert.match(text, /^FAIL: 1 missing, 0 corrupt, 2 intact, 1 warning\(s\)$/m);
  });
});

Deno.test("verifyRun: a manifest path outside the run folder refuses the manifest", async () => {
  await withRun(async (dir) => {
    const manifestPath = join(dir, "manifest.json");
    const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
    manifest.frames[0].file = "../../etc/passwd";
    await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
    await assert.rejects(verifyRun(dir), (e: unknown) => {
      assert.ok(e instanceof RunOpenError);
      assert.equal(e.problem, "invalid");
      assert.match(e.message, /frames\[0\]\.file is "\.\.\/\.\.\/etc\/passwd"; allowed: frames\//);
      return true;
    });
  });
});

Deno.test("verifyRun: an unfinished run is INCOMPLETE, not OK, whatever its frames", async () => {
  await withRun(async (dir, files) => {
    const manifestPath = join(dir, "manifest.json");
    const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
    for (const status of ["running", "interrupted", "failed"]) {
      manifest.status = status;
      if (status === "failed") manifest.error = "sampler failed (test)";
      await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
      const report = await verifyRun(dir);
      assert.equal(report.ok, false, status);
      assert.equal(report.verdict, "incomplete", status);
      const text = formatVerifyReport(report);
      assert.match(text, new RegExp(`^status: ${status}: the run did not finish`, "m"));
      assert.match(text, new RegExp(`^INCOMPLETE: run status "${status}"; the 3 file\\(s\\)`, "m"));
    }
    assert.match(formatVerifyReport(await verifyRun(dir)), /^error recorded by the run: sampler/m);
    // Damage is worse than unfinished.
    await Deno.remove(join(dir, files[0]));
    assert.equal((await verifyRun(dir)).verdict, "fail");
  });
});

Deno.test("verifyRun: corrupt, truncated and malformed manifests are clear errors", async () => {
  await withRun(async (dir) => {
    const manifestPath = join(dir, "manifest.json");
    const text = await Deno.readTextFile(manifestPath);
    await Deno.writeTextFile(manifestPath, text.slice(0, text.length >> 1));
    await assert.rejects(verifyRun(dir), (e: unknown) => {
      assert.ok(e instanceof RunOpenError);
      assert.equal(e.problem, "invalid");
      assert.match(e.message, /manifest\.json is damaged \(not valid JSON, truncated or corrupt/);
      return true;
    });
    await Deno.writeTextFile(manifestPath, "");
    await assert.rejects(verifyRun(dir), /the file is empty/);
    const manifest = JSON.parse(text);
    manifest.frames[1].sha256 = "xyz";
    await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
    await assert.rejects(verifyRun(dir), /frames\[1\]\.sha256/);
    manifest.version = 99;
    await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
    await assert.rejects(
      verifyRun(dir),
      /is a manifest of version 99, this program reads version 1/,
    );
  });
});

Deno.test("verifyRun: a missing picture is a warning, not a failure", async () => {
  await withRun(async (dir) => {
    const manifestPath = join(dir, "manifest.json");
    const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
    manifest.outputs.contactSheet = "contact_sheet.png";
    await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
    const report = await verifyRun(dir);
    assert.equal(report.ok, true);
    assert.deepEqual(report.missingOutputs, ["contact_sheet.png"]);
    assert.match(formatVerifyReport(report), /warning: picture contact_sheet\.png is missing/);
  });
});
