import assert from "node:assert/strict";
import type { RgbaImage } from "../render/png.ts";
import { shownFrameDiff } from "./_browser_util.ts";

/** A 2×2 frame: red, green / blue, white. */
const FRAME: RgbaImage = {
  width: 2,
  height: 2,
  rgba: new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]),
};

/** An 8×6 grey screenshot showing {@link FRAME} scaled 2× (nearest neighbour) at (3, 1). */
function shot(): RgbaImage {
  const rgba = new Uint8Array(8 * 6 * 4).fill(128);
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 4; x++) {
      const j = ((y >> 1) * 2 + (x >> 1)) * 4;
      rgba.set(FRAME.rgba.subarray(j, j + 4), ((1 + y) * 8 + 3 + x) * 4);
    }
  }
  return { width: 8, height: 6, rgba };
}

Deno.test("shownFrameDiff: reads the frame back from its cells, and differences where it is not", () => {
  assert.deepEqual(shownFrameDiff(shot(), { x: 3, y: 1, width: 4, height: 4 }, FRAME), {
    max: 0,
    mean: 0,
  });
  // One cell (2 px) to the left: each cell centre reads its left neighbour's colour or the grey.
  const shifted = shownFrameDiff(shot(), { x: 1, y: 1, width: 4, height: 4 }, FRAME);
  assert.equal(shifted.max, 255);
});

Deno.test("shownFrameDiff: a rectangle not inside the screenshot is an error, not a match", () => {
  for (
    const rect of [
      { x: 6, y: 1, width: 4, height: 4 }, // past the right edge
      { x: 3, y: 4, width: 4, height: 4 }, // past the bottom
      { x: -2, y: 1, width: 4, height: 4 }, // left of the screen
      { x: 3, y: 20, width: 4, height: 4 }, // scrolled away entirely
      { x: 3, y: 1, width: 0, height: 4 }, // nothing
      { x: NaN, y: 1, width: 4, height: 4 }, // not measured
    ]
  ) {
    assert.throws(() => shownFrameDiff(shot(), rect, FRAME), RangeError, JSON.stringify(rect));
  }
});
