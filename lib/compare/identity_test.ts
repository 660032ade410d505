import assert from "node:assert/strict";
import { join } from "node:path";
import { fakeDeps, quietWriter } from "../experiments/_fakes.ts";
import { runExperiment } from "../experiments/runner.ts";
import type { ExperimentInput } from "../experiments/spec.ts";
import { fakeEmbedder } from "../identity/_fake_embedder.ts";
import { distance } from "../identity/analysis.ts";
import { compareRuns } from "./manifest_diff.ts";
import { formatComparison } from "./report.ts";
import { openRun } from "./run_folder.ts";
import { verifyRun } from "./verify.ts";

const spec = {
  name: "compare-identity",
  model: "tiny",
  seed: 1,
  steps: 12,
  path: { type: "linear", from: [0.2, 0, 0], to: [0.8, 1, 0.5] },
  frames: { count: 3 },
  batch: 3,
} satisfies ExperimentInput;

async function render(out: string, seed: number, identity: boolean, sha?: string) {
  const { deps } = fakeDeps({ size: 8, embedder: fakeEmbedder(sha).embedder });
  return (await runExperiment({ ...spec, seed }, {
    out,
    deps,
    identity,
    log: () => {},
    progressWriter: quietWriter,
  })).manifest;
}

Deno.test("compare: identity distance between matching frames when both runs have descriptors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "compare_identity_" });
  try {
    const a = await render(join(dir, "a"), 1, true);
    const b = await render(join(dir, "b"), 2, true);
    const result = await compareRuns(await openRun(join(dir, "a")), await openRun(join(dir, "b")));
    assert.equal(result.identity?.compared, true);
    result.frames.forEach((row, i) => {
      assert.equal(
        row.identityDistance,
        distance(a.frames[i].identity!.descriptor, b.frames[i].identity!.descriptor),
      );
      assert.ok(row.identityDistance! > 0);
    });
    const text = formatComparison(result);
    assert.match(text, /│ identity │/);
    assert.match(text, /identity: Euclidean distance between A's and B's face descriptors/);
    // A run without identity numbers: no column, and the report says why.
    await render(join(dir, "c"), 2, false);
    const without = await compareRuns(await openRun(join(dir, "a")), await openRun(join(dir, "c")));
    assert.ok(without.frames.every((f) => f.identityDistance === null));
    assert.deepEqual(without.identity, {
      compared: false,
      note: "no identity numbers in B (deno task analyze adds them)",
    });
    assert.doesNotMatch(formatComparison(without), /│ identity │/);
    // Descriptors of different networks are not compared.
    await render(join(dir, "d"), 2, true, "d".repeat(64));
    const other = await compareRuns(await openRun(join(dir, "a")), await openRun(join(dir, "d")));
    assert.equal(other.identity?.compared, false);
    assert.match(other.identity!.note, /embedders differ/);
    assert.ok(other.frames.every((f) => f.identityDistance === null));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify: the reference face counts as a listed file and is checked", async () => {
  const dir = await Deno.makeTempDir({ prefix: "verify_identity_" });
  try {
    const manifest = await render(dir, 1, true);
    const report = await verifyRun(dir);
    assert.ok(report.ok, JSON.stringify(report));
    assert.equal(report.files, 4, "3 frames + the reference face");
    const ref = manifest.identity!.references[0];
    await Deno.writeFile(join(dir, ref.file), new Uint8Array([1, 2, 3]));
    const damaged = await verifyRun(dir);
    assert.equal(damaged.ok, false);
    assert.deepEqual(damaged.corrupt.map((c) => c.file), [ref.file]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
