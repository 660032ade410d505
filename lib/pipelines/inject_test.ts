import assert from "node:assert/strict";
import { injectColor, inWindow, validateWindow } from "./inject.ts";

Deno.test("injectColor adds scale·colour to channels 0–2 of each batch element only", () => {
  const hw = 4;
  const channels = 4; // a fourth channel must stay untouched
  const latents = new Float32Array(2 * channels * hw).fill(1);
  injectColor(latents, [[1, 0, 0.5], [0.25, 1, 0]], hw, 0.5);
  const expect = (b: number, c: number) =>
    c === 3 ? 1 : 1 + Math.fround(0.5 * [[1, 0, 0.5], [0.25, 1, 0]][b][c]);
  for (let b = 0; b < 2; b++) {
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < hw; i++) {
        assert.deepEqual(latents[(b * channels + c) * hw + i], Math.fround(expect(b, c)));
      }
    }
  }
});

Deno.test("injectColor in gaussian mode multiplies M by the shared noise", () => {
  const hw = 3;
  const noise = Float32Array.from([1, -1, 2, 0, 0.5, -2, 3, 3, 3]);
  const latents = new Float32Array(2 * 3 * hw);
  injectColor(latents, [[1, 1, 1], [0, 0.5, 1]], hw, 0.1, noise);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < hw; i++) {
      assert.deepEqual(latents[c * hw + i], Math.fround(Math.fround(0.1) * noise[c * hw + i]));
      const v2 = Math.fround(Math.fround(0.1) * [0, 0.5, 1][c]);
      assert.equal(latents[(3 + c) * hw + i], Math.fround(0 + v2 * noise[c * hw + i]));
    }
  }
});

Deno.test("injectColor rejects mismatched buffers", () => {
  assert.throws(() => injectColor(new Float32Array(10), [[1, 1, 1]], 4, 1), RangeError);
  assert.throws(
    () => injectColor(new Float32Array(12), [[1, 1, 1]], 4, 1, new Float32Array(5)),
    RangeError,
  );
});

Deno.test("window checks are 1-based and inclusive", () => {
  assert.deepEqual([0, 1, 5, 10, 11].map((k) => inWindow(k, [1, 10])), [
    false,
    true,
    true,
    true,
    false,
  ]);
  validateWindow([1, 10], 10);
  for (const w of [[0, 3], [3, 2], [1, 11], [1.5, 3]] as [number, number][]) {
    assert.throws(() => validateWindow(w, 10), /^RangeError: window/);
  }
});
