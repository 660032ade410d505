import assert from "node:assert/strict";
import { formatIndices, formatShard, inShard, isShard, parseShard } from "./shard.ts";

Deno.test("parseShard: i/n with 0 ≤ i < n; anything else is null", () => {
  assert.deepEqual(parseShard("0/4"), { index: 0, count: 4 });
  assert.deepEqual(parseShard(" 3 / 4 "), { index: 3, count: 4 });
  for (const bad of ["4/4", "0/0", "-1/2", "1", "a/b", "1/2/3", "0.5/2", "", "0/100001"]) {
    assert.equal(parseShard(bad), null, bad);
  }
  assert.equal(formatShard({ index: 2, count: 5 }), "2/5");
  assert.ok(isShard({ index: 0, count: 1 }));
  assert.ok(!isShard({ index: 1, count: 1 }) && !isShard(null) && !isShard({ index: 0 }));
});

Deno.test("inShard: the shards of n partition the frames, each frame in exactly one", () => {
  for (const count of [1, 2, 3, 7]) {
    for (let frame = 0; frame < 50; frame++) {
      const owners = Array.from({ length: count }, (_, index) => index)
        .filter((index) => inShard(frame, { index, count }));
      assert.deepEqual(owners, [frame % count]);
    }
  }
});

Deno.test("formatIndices: ranges, cut when long", () => {
  assert.equal(formatIndices([8, 0, 1, 2, 3, 12, 13]), "0-3, 8, 12-13");
  assert.equal(formatIndices([]), "");
  assert.match(
    formatIndices(Array.from({ length: 30 }, (_, i) => i * 2), 3),
    /^0, 2, 4, … \(30 in all\)$/,
  );
});
