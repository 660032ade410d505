import assert from "node:assert/strict";
import { resizeRgba } from "./resample.ts";

function ramp(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    out.set([(i * 37) & 255, (i * 91) & 255, (i * 13) & 255, 255], 4 * i);
  }
  return out;
}

Deno.test("resizeRgba returns the input unchanged at the same size", () => {
  const src = ramp(5, 3);
  assert.equal(resizeRgba(src, 5, 3, 5, 3), src);
});

Deno.test("resizeRgba replicates pixels for whole-number enlargement", () => {
  const [w, h, f] = [5, 3, 3];
  const src = ramp(w, h);
  const out = resizeRgba(src, w, h, w * f, h * f);
  for (let y = 0; y < h * f; y++) {
    for (let x = 0; x < w * f; x++) {
      const s = 4 * (Math.floor(y / f) * w + Math.floor(x / f)), d = 4 * (y * w * f + x);
      assert.deepEqual([...out.subarray(d, d + 4)], [...src.subarray(s, s + 4)], `(${x}, ${y})`);
    }
  }
});

Deno.test("resizeRgba halving averages each 2×2 block", () => {
  const [w, h] = [6, 4];
  const src = ramp(w, h);
  const out = resizeRgba(src, w, h, 3, 2);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 3; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
          sum += src[4 * ((2 * y + dy) * w + 2 * x + dx) + c];
        }
        assert.equal(out[4 * (y * 3 + x) + c], Math.round(sum / 4), `(${x}, ${y}) channel ${c}`);
      }
    }
  }
});

Deno.test("resizeRgba by a fractional factor keeps a flat image flat and the mean of a ramp", () => {
  const flat = new Uint8Array(7 * 5 * 4);
  for (let i = 0; i < 35; i++) flat.set([10, 200, 90, 255], 4 * i);
  const out = resizeRgba(flat, 7, 5, 4, 3);
  for (let i = 0; i < 12; i++) {
    assert.deepEqual([...out.subarray(4 * i, 4 * i + 4)], [10, 200, 90, 255]);
  }
  // area averaging conserves the mean (up to per-pixel rounding)
  const src = ramp(9, 9);
  const small = resizeRgba(src, 9, 9, 6, 6);
  const mean = (a: Uint8Array, n: number) =>
    a.filter((_, i) => i % 4 === 0).reduce((s, v) => s + v, 0) / n;
  assert.ok(Math.abs(mean(src, 81) - mean(small, 36)) < 0.5);
  assert.throws(() => resizeRgba(src, 9, 8, 3, 3), /expected 9×8×4/);
  assert.throws(() => resizeRgba(src, 9, 9, 0, 3), /positive integers/);
});
