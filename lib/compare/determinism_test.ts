/**
 * Reproducibility of real runs on the tiny model: the same spec run twice gives byte-identical
 * frames; another thread count or batch size stays within the default tolerance.
 */

import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { compareRuns } from "./manifest_diff.ts";
import { openRun } from "./run_folder.ts";
import { formatComparison } from "./report.ts";
import { REPO_ROOT, runInProcess, type SnapshotEntry } from "./snapshot.ts";
import { DEFAULT_TOLERANCE } from "./tolerance.ts";

// path1: every frame has the same injection, so a batch of 3 really samples 3 frames at once.
const BASE: SnapshotEntry = {
  name: "path1",
  file: resolve(REPO_ROOT, "experiments/path1.ts"),
  model: "tiny",
  frames: 3,
  steps: 10,
  threads: 1,
  batch: 1,
};

Deno.test("determinism: repeat, thread count and batch size", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "determinism_test_" });
  try {
    const run = async (label: string, change: Partial<SnapshotEntry>) => {
      const out = join(tmp, label);
      await runInProcess({ ...BASE, ...change }, out);
      return openRun(out);
    };
    const first = await run("first", {});
    assert.equal(first.manifest.frames.length, BASE.frames);

    await t.step("the same spec twice gives identical frame hashes", async () => {
      const again = await run("again", {});
      assert.deepEqual(
        again.manifest.frames.map((f) => f.sha256),
        first.manifest.frames.map((f) => f.sha256),
      );
      const result = await compareRuns(first, again);
      assert.equal(result.counts.identical, BASE.frames, formatComparison(result));
    });

    await t.step("2 threads instead of 1 stays within the default tolerance", async () => {
      const threads = await run("threads2", { threads: 2 });
      assert.equal(threads.manifest.runtime.threads, 2);
      const result = await compareRuns(first, threads, { tolerance: DEFAULT_TOLERANCE });
      assert.ok(result.ok, formatComparison(result));
      assert.deepEqual(result.diffs.runtime.map((c) => c.path), ["runtime.threads"]);
    });

    await t.step("batches of 3 instead of 1 stay within the default tolerance", async () => {
      const batched = await run("batch3", { batch: 3 });
      assert.deepEqual(batched.manifest.frames.map((f) => f.timings.batchSize), [3, 3, 3]);
      const result = await compareRuns(first, batched, { tolerance: DEFAULT_TOLERANCE });
      assert.ok(result.ok, formatComparison(result));
      assert.deepEqual(result.diffs.spec.map((c) => c.path), ["spec.batch"]);
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
