import assert from "node:assert/strict";
import { encodePng } from "../render/png.ts";
import { colorDistance, decodeScreenshot, regionBounds, regionStats } from "./region.ts";

/** 4×2 image: left half red, right half white except one black pixel. */
function sample() {
  const rgba = new Uint8Array(4 * 2 * 4).fill(255);
  for (const [x, y] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    rgba.set([255, 0, 0, 255], (y * 4 + x) * 4);
  }
  rgba.set([0, 0, 0, 255], (1 * 4 + 3) * 4);
  return { width: 4, height: 2, rgba };
}

Deno.test("regionStats: mean, distinct colours and foreground of a rectangle", () => {
  const red = regionStats(sample(), { x: 0, y: 0, width: 2, height: 2 });
  assert.deepEqual(red.mean, [255, 0, 0]);
  assert.equal(red.distinctColors, 1);
  assert.equal(red.nonBackgroundFraction, 0);
  const right = regionStats(sample(), { x: 2, y: 0, width: 2, height: 2 });
  assert.deepEqual(right.background, [255, 255, 255]);
  assert.equal(right.distinctColors, 2);
  assert.equal(right.nonBackgroundFraction, 0.25);
  const all = regionStats(sample(), { x: 0, y: 0, width: 4, height: 2 }, {
    background: [255, 255, 255],
  });
  assert.equal(all.nonBackgroundFraction, 5 / 8);
  assert.deepEqual(all.mean, [(4 * 255 + 3 * 255) / 8, 3 * 255 / 8, 3 * 255 / 8]);
});

Deno.test("regionStats: a rectangle outside the image is an error", () => {
  assert.throws(() => regionStats(sample(), { x: 3, y: 0, width: 2, height: 1 }), RangeError);
  assert.throws(() => regionStats(sample(), { x: 0, y: 0, width: 0, height: 1 }), RangeError);
  // A position that was not measured (NaN) is not inside either.
  assert.throws(() => regionStats(sample(), { x: NaN, y: 0, width: 2, height: 1 }), RangeError);
});

Deno.test("regionBounds: the whole pixels a rectangle covers, edges rounded", () => {
  const image = { width: 4, height: 2 };
  assert.deepEqual(regionBounds(image, { x: 0.4, y: 0.5, width: 3.2, height: 1.4 }), {
    x0: 0,
    y0: 1,
    x1: 4,
    y1: 2,
  });
  assert.throws(() => regionBounds(image, { x: 0.6, y: 0, width: 3.9, height: 1 }), RangeError);
  assert.throws(() => regionBounds(image, { x: 0, y: -0.6, width: 1, height: 1 }), RangeError);
});

Deno.test("decodeScreenshot + colorDistance: round trip through the project's PNG codec", async () => {
  const s = sample();
  const image = await decodeScreenshot(await encodePng(s.rgba, s.width, s.height));
  assert.deepEqual([image.width, image.height], [4, 2]);
  assert.deepEqual(image.rgba, s.rgba);
  assert.equal(colorDistance([10, 20, 30], [12, 17, 30]), 3);
});
