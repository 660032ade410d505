import assert from "node:assert/strict";
import { join } from "node:path";
import { fakeDeps, quietWriter } from "../experiments/_fakes.ts";
import { runExperiment } from "../experiments/runner.ts";
import { MERGE_USAGE, mergeMain } from "./merge.ts";

const spec = {
  name: "merge-cli",
  model: "tiny",
  seed: 2,
  steps: 10,
  path: { type: "linear" },
  frames: { count: 5 },
};

async function merge(args: string[]) {
  const lines: string[] = [];
  const out: string[] = [];
  const code = await mergeMain(args, {
    out: (l) => out.push(l),
    err: (l) => lines.push(l),
    deps: fakeDeps().deps,
    signal: new AbortController().signal,
  });
  return { code, err: lines.join("\n"), out: out.join("\n") };
}

Deno.test("merge CLI: usage errors exit 2, --help exits 0", async () => {
  assert.deepEqual(await merge(["--help"]), { code: 0, err: "", out: MERGE_USAGE });
  for (const args of [[], ["out"], ["--colour", "x", "y"], ["--wait=1", "a", "b"]]) {
    const { code, err } = await merge(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(err, /^error: /);
  }
});

Deno.test("merge CLI: merges shard folders (exit 0, prints the folder); refusals exit 1", async () => {
  const root = await Deno.makeTempDir({ prefix: "merge_cli_" });
  try {
    const dirs = [0, 1].map((i) => join(root, `shard-${i}`));
    for (const [index, dir] of dirs.entries()) {
      await runExperiment(spec, {
        out: dir,
        shard: { index, count: 2 },
        deps: fakeDeps().deps,
        log: () => {},
        progressWriter: quietWriter,
      });
    }
    const missing = await merge([root, dirs[0]]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.err,
      /^error: 2 of 5 frames are missing:\n {2}shard 1\/2, no folder given/,
    );
    const done = await merge([root, ...dirs]);
    assert.equal(done.code, 0, done.err);
    assert.equal(done.out, root);
    assert.match(done.err, /merge-cli: merged 5 frames from 2 shard\(s\)/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
