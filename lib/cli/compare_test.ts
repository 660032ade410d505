import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "./compare.ts";
import { captureIo, gradientImage, writeTestRun } from "../compare/_test_util.ts";
import type { RunComparison } from "../compare/manifest_diff.ts";

async function withRuns(
  fn: (tmp: string) => Promise<void>,
  bFrames = [gradientImage(16, 16, 1), gradientImage(16, 16, 2)],
  bSeed = 2,
) {
  const tmp = await Deno.makeTempDir();
  try {
    await writeTestRun(
      join(tmp, "a"),
      [gradientImage(16, 16, 1), gradientImage(16, 16, 2)].map((rgba) => ({ rgba })),
    );
    await writeTestRun(join(tmp, "b"), bFrames.map((rgba) => ({ rgba })), { seed: bSeed });
    await fn(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("compare CLI: same frames, changed seed: exit 0, seed in the spec diff", async () => {
  await withRuns(async (tmp) => {
    const { out, io } = captureIo();
    const code = await main([join(tmp, "a"), join(tmp, "b", "manifest.json")], io);
    assert.equal(code, 0);
    const text = out.join("\n");
    assert.match(text, /spec\.seed: 1 → 2/);
    assert.match(text, /^OK: 2 frame\(s\): 2 identical/m);
  });
});

Deno.test("compare CLI: a different frame exits 1; --json parses with stable fields", async () => {
  const changed = gradientImage(16, 16, 2).map((v, i) => (i % 4 === 3 ? v : 255 - v));
  await withRuns(async (tmp) => {
    const text = captureIo();
    assert.equal(await main([join(tmp, "a"), join(tmp, "b")], text.io), 1);
    assert.match(text.out.join("\n"), /DIFFERENT/);

    const json = captureIo();
    assert.equal(await main(["--json", join(tmp, "a"), join(tmp, "b")], json.io), 1);
    const result = JSON.parse(json.out.join("\n")) as RunComparison;
    assert.equal(result.ok, false);
    assert.deepEqual(result.frames.map((f) => [f.index, f.status]), [[0, "identical"], [
      1,
      "different",
    ]]);
    assert.equal(result.frames[0].psnr, null);
    assert.equal(typeof result.frames[1].psnr, "number");
    assert.deepEqual(result.diffs.spec.map((c) => c.path), ["spec.seed"]);
    assert.equal(result.tolerance.maxDiff, 2);
    assert.equal(result.counts.different, 1);
  }, [gradientImage(16, 16, 1), changed]);
});

Deno.test("compare CLI: loosened tolerance accepts a small change", async () => {
  const small = gradientImage(16, 16, 2).map((v, i) => (i % 4 === 3 ? v : Math.min(255, v + 5)));
  await withRuns(async (tmp) => {
    assert.equal(await main([join(tmp, "a"), join(tmp, "b")], captureIo().io), 1);
    const loose = ["--max-diff", "5", "--min-psnr", "30", "--max-share", "1", "--min-ssim", "0.9"];
    assert.equal(await main([...loose, join(tmp, "a"), join(tmp, "b")], captureIo().io), 0);
  }, [gradientImage(16, 16, 1), small]);
});

Deno.test("compare CLI: usage errors exit 2 and name the problem", async () => {
  await withRuns(async (tmp) => {
    const missing = captureIo();
    assert.equal(await main([join(tmp, "a"), join(tmp, "nope")], missing.io), 2);
    assert.match(missing.err.join(), /nope: no such run folder/);

    const noManifest = captureIo();
    await Deno.mkdir(join(tmp, "empty"));
    assert.equal(await main([join(tmp, "a"), join(tmp, "empty")], noManifest.io), 2);
    assert.match(noManifest.err.join(), /empty: not a run folder/);

    const flag = captureIo();
    assert.equal(await main(["--max-diff", "x", join(tmp, "a"), join(tmp, "b")], flag.io), 2);
    assert.match(flag.err.join(), /--max-diff: "x" is not a number/);
    assert.equal(
      await main(["--min-ssim", "3", join(tmp, "a"), join(tmp, "b")], captureIo().io),
      2,
    );
    assert.equal(await main([join(tmp, "a")], captureIo().io), 2);
    assert.equal(await main(["--bogus", join(tmp, "a"), join(tmp, "b")], captureIo().io), 2);

    await Deno.writeTextFile(join(tmp, "b", "manifest.json"), '{"version": 1, "fr');
    const corrupt = captureIo();
    assert.equal(await main([join(tmp, "a"), join(tmp, "b")], corrupt.io), 1);
    assert.match(corrupt.err.join(), /manifest\.json is damaged \(not valid JSON/);
  });
});
