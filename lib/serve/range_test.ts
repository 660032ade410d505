import assert from "node:assert/strict";
import { parseRange } from "./range.ts";

Deno.test("parseRange: the three single-range forms, clamped to the file", () => {
  assert.deepEqual(parseRange("bytes=0-99", 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange("bytes=990-2000", 1000), { start: 990, end: 999 });
  assert.deepEqual(parseRange("bytes=500-", 1000), { start: 500, end: 999 });
  assert.deepEqual(parseRange("bytes=-100", 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange("bytes=-5000", 1000), { start: 0, end: 999 });
});

Deno.test("parseRange: ranges outside the file are unsatisfiable", () => {
  assert.equal(parseRange("bytes=1000-", 1000), "unsatisfiable");
  assert.equal(parseRange("bytes=1000-1001", 1000), "unsatisfiable");
  assert.equal(parseRange("bytes=-0", 1000), "unsatisfiable");
  assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
});

Deno.test("parseRange: no header, other units, several or malformed ranges send the whole file", () => {
  for (const header of [null, "items=0-1", "bytes=0-1,5-6", "bytes=5-1", "bytes=-", "bytes=a-b"]) {
    assert.equal(parseRange(header, 1000), null, String(header));
  }
});
