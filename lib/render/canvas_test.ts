import assert from "node:assert/strict";
import { Canvas } from "./canvas.ts";
import { defaultFont } from "./font.ts";

const WHITE = [255, 255, 255] as const;

/** Total "ink" of colour black drawn on white: sum of (255 − red) / 255 over all pixels. */
function ink(c: Canvas): number {
  let s = 0;
  for (let i = 0; i < c.width * c.height; i++) s += (255 - c.rgba[4 * i]) / 255;
  return s;
}

Deno.test("fillDisk paints its exact colour inside and covers π r² in total", () => {
  const c = new Canvas(40, 40, WHITE);
  c.fillDisk(20.3, 19.6, 9, [0, 0, 0]);
  assert.deepEqual(c.pixel(20, 19), [0, 0, 0]);
  assert.deepEqual(c.pixel(20, 30), [255, 255, 255]);
  assert.ok(Math.abs(ink(c) - Math.PI * 81) < 0.02 * Math.PI * 81, `ink ${ink(c)}`);
  for (let i = 3; i < c.rgba.length; i += 4) assert.equal(c.rgba[i], 255);
});

Deno.test("fillSquare covers (2·half)² and keeps its corners", () => {
  const c = new Canvas(30, 30, WHITE);
  c.fillSquare(15, 15, 6, [0, 0, 0]);
  assert.ok(Math.abs(ink(c) - 144) < 1, `ink ${ink(c)}`);
  assert.deepEqual(c.pixel(9, 9), [0, 0, 0]); // corner pixel [9,10)² is inside the square
  assert.deepEqual(c.pixel(8, 8), [255, 255, 255]);
});

Deno.test("strokeSegment covers length × width and grades its colour along the segment", () => {
  const c = new Canvas(60, 20, WHITE);
  c.strokeSegment(10, 10, 50, 10, 4, [0, 0, 0]);
  // a 40 × 4 body plus two round caps of radius 2
  const expected = 40 * 4 + Math.PI * 4;
  assert.ok(Math.abs(ink(c) - expected) < 0.03 * expected, `ink ${ink(c)} vs ${expected}`);
  const g = new Canvas(60, 20, WHITE);
  g.strokeSegment(10, 10, 50, 10, 4, [255, 0, 0], [0, 0, 255]);
  const [left, mid, right] = [g.pixel(10, 10), g.pixel(30, 10), g.pixel(49, 10)];
  assert.ok(left[0] > 240 && left[2] < 15, `left ${left}`);
  assert.ok(Math.abs(mid[0] - mid[2]) < 10, `middle ${mid}`);
  assert.ok(right[2] > 240 && right[0] < 15, `right ${right}`);
});

Deno.test("strokePolyline draws joints without double-blended seams", () => {
  // Two collinear halves must look exactly like one segment.
  const one = new Canvas(60, 20, WHITE);
  one.strokePolyline([[10, 10.3], [50, 10.3]], 3, [[0, 0, 0], [0, 0, 0]]);
  const two = new Canvas(60, 20, WHITE);
  two.strokePolyline([[10, 10.3], [30, 10.3], [50, 10.3]], 3, [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  assert.deepEqual(two.rgba, one.rgba);
  assert.throws(() => one.strokePolyline([[0, 0]], 2, []), /1 points but 0 colours/);
});

Deno.test("blend with alpha 1 writes the colour exactly, partial alpha mixes, off-canvas is ignored", () => {
  const c = new Canvas(2, 1, [100, 100, 100]);
  c.blend(0, 0, [7, 8, 9], 1);
  assert.deepEqual(c.pixel(0, 0), [7, 8, 9]);
  c.blend(1, 0, [200, 0, 100], 0.5);
  assert.deepEqual(c.pixel(1, 0), [150, 50, 100]);
  c.blend(5, 5, [0, 0, 0], 1);
  c.blend(-1, 0, [0, 0, 0], 1);
  assert.throws(() => new Canvas(0, 3, WHITE), /positive integers/);
});

Deno.test("blit copies pixels opaque and clips at the edges", () => {
  const c = new Canvas(4, 4, [0, 0, 0]);
  const src = new Uint8Array(3 * 3 * 4);
  for (let i = 0; i < 9; i++) src.set([i * 20, 1, 2, 0], 4 * i);
  c.blit(src, 3, 3, 2, 2);
  assert.deepEqual(c.pixel(2, 2), [0, 1, 2]);
  assert.deepEqual(c.pixel(3, 3), [80, 1, 2]);
  assert.equal(c.rgba[4 * (2 * 4 + 2) + 3], 255);
  assert.deepEqual(c.pixel(1, 1), [0, 0, 0]);
  assert.throws(() => c.blit(src, 2, 3, 0, 0), /expected 2×3×4/);
});

Deno.test("drawText aligns left, centre and right on the advance box", async () => {
  const font = await defaultFont();
  const c = new Canvas(200, 30, WHITE);
  const left = c.drawText(font, "ABC", 100, 5, 14, [0, 0, 0], "left");
  const centre = c.drawText(font, "ABC", 100, 5, 14, [0, 0, 0], "center");
  const right = c.drawText(font, "ABC", 100, 5, 14, [0, 0, 0], "right");
  assert.equal(left.x, 100);
  assert.equal(right.x + right.width, 100);
  assert.ok(Math.abs(centre.x + centre.width / 2 - 100) <= 0.5);
  assert.ok(ink(c) > 30);
});
