import assert from "node:assert/strict";
import { join } from "node:path";
import { openRun } from "../compare/run_folder.ts";
import { makeTestResults } from "./_test_util.ts";
import { Comparer, LruCache } from "./compare.ts";

Deno.test("LruCache: computes once per key, keeps the most recent, forgets failures", async () => {
  const cache = new LruCache<number>(2);
  let calls = 0;
  const make = (v: number) => () => {
    calls++;
    return Promise.resolve(v);
  };
  const [x, y] = await Promise.all([cache.get("a", make(1)), cache.get("a", make(9))]);
  assert.deepEqual([x, y, calls], [1, 1, 1]);
  await cache.get("b", make(2));
  await cache.get("a", make(9)); // touches a: b is now the oldest
  await cache.get("c", make(3));
  assert.equal(cache.size, 2);
  assert.equal(await cache.get("a", make(9)), 1);
  assert.equal(await cache.get("b", make(20)), 20);
  await assert.rejects(cache.get("bad", () => Promise.reject(new Error("no"))));
  assert.equal(await cache.get("bad", make(4)), 4);
});

Deno.test("Comparer: one comparison per pair and manifest version", async () => {
  const r = await makeTestResults();
  try {
    const run = async (path: string) => ({ path, run: await openRun(join(r.root, path)) });
    const [a, b] = [await run(r.complete), await run(r.other)];
    const comparer = new Comparer({ comparisons: 4 });
    const first = await comparer.compare(a, b);
    assert.equal(await comparer.compare(a, b), first);
    assert.equal(comparer.cachedComparisons, 1);
    const later = { ...b, run: { ...b.run, manifest: { ...b.run.manifest, updatedAt: "later" } } };
    assert.notEqual(await comparer.compare(a, later), first);
    assert.equal(comparer.cachedComparisons, 2);
  } finally {
    await Deno.remove(r.root, { recursive: true });
  }
});
