import assert from "node:assert/strict";
import { join } from "node:path";
import { compareRuns, type DifferentFrame } from "./manifest_diff.ts";
import { formatComparison } from "./report.ts";
import { openRun } from "./run_folder.ts";
import { gradientImage, writeTestRun } from "./_test_util.ts";

function nudge(rgba: Uint8Array): Uint8Array {
  const b = rgba.slice();
  b[0] = b[0] < 255 ? b[0] + 1 : 254;
  return b;
}

function invertBlock(rgba: Uint8Array): Uint8Array {
  const b = rgba.slice();
  for (let i = 0; i < b.length / 2; i++) if (i % 4 !== 3) b[i] = 255 - b[i];
  return b;
}

Deno.test("compareRuns: statuses per frame, input and spec differences", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const imgs = [0, 1, 2, 3].map((s) => gradientImage(16, 16, s));
    await writeTestRun(join(tmp, "a"), imgs.map((rgba) => ({ rgba })));
    await writeTestRun(join(tmp, "b"), [
      { rgba: imgs[0] },
      { rgba: nudge(imgs[1]) },
      { rgba: invertBlock(imgs[2]), color: [1, 0, 0] },
    ], { seed: 2, threads: 2 });
    const different: DifferentFrame[] = [];
    const result = await compareRuns(await openRun(join(tmp, "a")), await openRun(join(tmp, "b")), {
      onDifferent: (d) => {
        different.push(d);
      },
    });
    assert.deepEqual(result.frames.map((f) => f.status), [
      "identical",
      "within-tolerance",
      "different",
      "missing-in-b",
    ]);
    assert.equal(result.ok, false);
    assert.equal(result.counts.identical, 1);
    assert.equal(result.counts["missing-in-b"], 1);
    assert.equal(result.frames[0].psnr, null);
    assert.equal(result.frames[1].maxAbsDiff, 1);
    assert.deepEqual(result.frames[2].inputsDiffer, ["color"]);
    assert.ok(result.frames[2].reasons.length > 0);
    assert.equal(different.length, 1);
    assert.equal(different[0].frame.index, 2);
    assert.equal(different[0].imageB.width, 16);
    assert.ok(different[0].diffImage instanceof Uint8Array);
    assert.deepEqual(
      result.diffs.spec.map((c) => [c.path, c.a, c.b]),
      [["spec.frames.count", 4, 3], ["spec.seed", 1, 2]],
    );
    assert.deepEqual(result.diffs.runtime.map((c) => c.path), ["runtime.threads"]);
    assert.deepEqual(result.diffs.model, []);
    const text = formatComparison(result);
    assert.match(text, /spec\.seed: 1 → 2/);
    assert.match(text, /MISSING in B/);
    assert.match(text, /^FAIL/m);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("compareRuns: files are re-hashed, not trusted from the manifest", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const imgs = [gradientImage(16, 16, 1), gradientImage(16, 16, 2)];
    await writeTestRun(join(tmp, "a"), imgs.map((rgba) => ({ rgba })));
    const mb = await writeTestRun(join(tmp, "b"), imgs.map((rgba) => ({ rgba })));
    // Frame 0 of B: another valid PNG under the old name; frame 1: broken bytes.
    const other = await Deno.readFile(join(tmp, "b", mb.frames[1].file));
    await Deno.writeFile(join(tmp, "b", mb.frames[0].file), other);
    await Deno.writeFile(join(tmp, "b", mb.frames[1].file), other.subarray(0, 40));
    const result = await compareRuns(await openRun(join(tmp, "a")), await openRun(join(tmp, "b")));
    assert.equal(result.frames[0].status, "different");
    assert.match(result.frames[0].warnings.join(), /B: .* recorded SHA-256/);
    assert.equal(result.frames[1].status, "unreadable");
    assert.match(result.frames[1].reasons.join(), /truncated/);
    assert.equal(result.ok, false);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("compareRuns: a size change and a frame only in B", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await writeTestRun(join(tmp, "a"), [{ rgba: gradientImage(16, 16) }]);
    await writeTestRun(join(tmp, "b"), [
      { rgba: gradientImage(8, 8), width: 8, height: 8, t: 0.5 },
      { rgba: gradientImage(16, 16) },
    ]);
    const result = await compareRuns(await openRun(join(tmp, "a")), await openRun(join(tmp, "b")));
    assert.deepEqual(result.frames.map((f) => f.status), ["different", "missing-in-a"]);
    assert.match(result.frames[0].reasons[0], /size differs: 16×16 vs 8×8/);
    assert.deepEqual(result.frames[0].inputsDiffer, ["t"]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
