import assert from "node:assert/strict";
import { descriptorDistance } from "./embedder.ts";

Deno.test("descriptorDistance: Euclidean distance between rows of two descriptor arrays", () => {
  const a = new Float32Array([0, 0, 3, 4]);
  const b = new Float32Array([1, 1, 0, 0]);
  assert.equal(descriptorDistance(a, a, 2, 0, 1), 5);
  assert.equal(descriptorDistance(a, b, 2, 0, 0), Math.SQRT2);
  assert.equal(descriptorDistance(a, b, 2, 1, 1), Math.sqrt(9 + 16));
});
