import assert from "node:assert/strict";
import { LruCache } from "./lru.ts";

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
