import assert from "node:assert/strict";
import { join } from "node:path";
import { openRun } from "../compare/run_folder.ts";
import { makeTestResults } from "./_test_util.ts";
import { Comparer } from "./compare.ts";

Deno.test("Comparer: one comparison per pair and manifest version", async () => {
  const r = await makeTestResults();
  try {
    const run = async (path: string) => ({ path, run: await openRun(join(r.root, path)) });
    const [a, b] = [await run(r.complete), await run(r.other)];
    const comparer = new Comparer({ comparisons: 4 });
    const first = await comparer.compare(a, b);
    assert.equal(await comparer.compare(a, b), first);
    assert.equal(comparer.cachedComparisons, 1);
    // The same manifest object, asked for again: the comparison kept.
    assert.equal(await comparer.compare({ ...a }, { ...b, run: { ...b.run } }), first);
    assert.equal(comparer.cachedComparisons, 1);
    // A manifest read again after its text changed is a new object, also when its updatedAt is
    // the same (a hand edit, a copied reference): compared again.
    const edited = { ...b, run: { ...b.run, manifest: { ...b.run.manifest } } };
    assert.notEqual(await comparer.compare(a, edited), first);
    assert.equal(comparer.cachedComparisons, 2);
  } finally {
    await Deno.remove(r.root, { recursive: true });
  }
});
