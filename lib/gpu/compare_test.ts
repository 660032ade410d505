import assert from "node:assert/strict";
import { compareToReference, TOLERANCES } from "./compare.ts";

const reference = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 4);

Deno.test("differences are measured relative to the reference's largest magnitude", () => {
  const actual = reference.map((v, i) => v + (i === 10 ? 0.02 : 0.001));
  const c = compareToReference(actual, reference, TOLERANCES.fp32);
  assert.ok(Math.abs(c.refMax - 4) < 1e-3);
  assert.ok(Math.abs(c.maxAbs - 0.02) < 1e-6);
  assert.ok(Math.abs(c.maxRel - 0.005) < 1e-4);
  assert.ok(Math.abs(c.meanAbs - (0.02 + 999 * 0.001) / 1000) < 1e-6);
  assert.equal(c.ok, true);
});

Deno.test("fp32 fails beyond 1e-2 max or 1e-3 mean; fp16 allows 2e-2 and 2e-3", () => {
  const spike = reference.map((v, i) => v + (i === 3 ? 0.06 : 0)); // 1.5e-2 · max|ref|
  assert.equal(compareToReference(spike, reference, TOLERANCES.fp32).ok, false);
  assert.match(compareToReference(spike, reference, TOLERANCES.fp32).reason!, /^max \|Δ\|/);
  assert.equal(compareToReference(spike, reference, TOLERANCES.fp16).ok, true);

  const drift = reference.map((v) => v + 0.006); // mean and max 1.5e-3 · max|ref|
  const c = compareToReference(drift, reference, TOLERANCES.fp32);
  assert.equal(c.ok, false);
  assert.match(c.reason!, /^mean \|Δ\|/);
  assert.equal(compareToReference(drift, reference, TOLERANCES.fp16).ok, true);
});

Deno.test("NaN, infinity and a length mismatch always fail", () => {
  const withNaN = reference.slice();
  withNaN[5] = NaN;
  withNaN[6] = Infinity;
  const c = compareToReference(withNaN, reference, TOLERANCES.fp16);
  assert.equal(c.ok, false);
  assert.equal(c.nonFinite, 2);
  const short = compareToReference(reference.subarray(1), reference, TOLERANCES.fp16);
  assert.equal(short.ok, false);
  assert.match(short.reason!, /999 values, the reference has 1000/);
  assert.equal(compareToReference(reference, reference, TOLERANCES.fp32).maxAbs, 0);
});
