import assert from "node:assert/strict";
import { canonicalJson } from "./canonical.ts";

Deno.test("canonicalJson: key order does not matter, at any depth", () => {
  const a = { b: 1, a: { y: [1, { q: 2, p: 3 }], x: "s" } };
  const b = { a: { x: "s", y: [1, { p: 3, q: 2 }] }, b: 1 };
  assert.equal(canonicalJson(a), canonicalJson(b));
  assert.equal(canonicalJson(a), '{"a":{"x":"s","y":[1,{"p":3,"q":2}]},"b":1}');
});

Deno.test("canonicalJson: parses back to the same value", () => {
  const value = { n: 0.1, big: 1e300, neg: -2.5e-7, s: 'é\n"', t: true, z: null, l: [[], {}] };
  assert.deepEqual(JSON.parse(canonicalJson(value)), value);
});

Deno.test("canonicalJson: bigints as decimal strings, undefined fields dropped", () => {
  assert.equal(
    canonicalJson({ seed: 2n ** 64n - 1n, skip: undefined }),
    '{"seed":"18446744073709551615"}',
  );
});

Deno.test("canonicalJson: values without a canonical form are errors naming where", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(() => canonicalJson({ a: [1, bad] }), /\$\.a\[1\]/);
  }
  assert.throws(() => canonicalJson({ f: () => 1 }), /\$\.f/);
  assert.throws(() => canonicalJson([undefined]), TypeError);
});
