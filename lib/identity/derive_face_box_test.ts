import assert from "node:assert/strict";
import { alignedBox, celebaHqSquare, cutAligned } from "./derive_face_box.ts";

/** 68 points of an upright face: eyes centred at (40, 50) and (60, 50), mouth corners at y 72. */
function uprightFace(): { x: number; y: number }[] {
  const points = Array.from({ length: 68 }, () => ({ x: 50, y: 60 }));
  for (let i = 36; i < 42; i++) points[i] = { x: 40 + (i % 2 ? 1 : -1), y: 50 };
  for (let i = 42; i < 48; i++) points[i] = { x: 60 + (i % 2 ? 1 : -1), y: 50 };
  points[48] = { x: 44, y: 72 };
  points[54] = { x: 56, y: 72 };
  return points;
}

function close(a: number, b: number, what: string) {
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
}

Deno.test("celebaHqSquare: Karras et al.'s crop (side 2·max(2·eye-eye, 1.8·eye-mouth))", () => {
  const square = celebaHqSquare(uprightFace());
  // eye→eye (20, 0), eye→mouth (0, 22): half side max(40, 39.6) = 40, centre (50, 52.2).
  close(square.origin.x, 10, "origin x");
  close(square.origin.y, 12.2, "origin y");
  close(square.across.x, 80, "across x");
  close(square.across.y, 0, "across y");
  close(square.down.x, 0, "down x");
  close(square.down.y, 80, "down y");
  const box = alignedBox(uprightFace(), square);
  // Points span x 39..61, y 50..72 → (29/80 .. 51/80, 37.8/80 .. 59.8/80), padded by 20 %.
  close(box.width, 1.2 * 22 / 80, "width");
  close(box.height, 1.2 * 22 / 80, "height");
  close(box.x, 29 / 80 - 0.1 * 22 / 80, "x");
  close(box.y, 37.8 / 80 - 0.1 * 22 / 80, "y");
});

Deno.test("celebaHqSquare: a rotated, scaled, shifted face gives the same aligned box", () => {
  const angle = 0.5;
  const moved = uprightFace().map(({ x, y }) => ({
    x: 300 + 2.5 * (Math.cos(angle) * x - Math.sin(angle) * y),
    y: 100 + 2.5 * (Math.sin(angle) * x + Math.cos(angle) * y),
  }));
  const a = alignedBox(uprightFace(), celebaHqSquare(uprightFace()));
  // A bounding box is not rotation-invariant, but the box is taken in the aligned frame.
  const b = alignedBox(moved, celebaHqSquare(moved));
  for (const k of ["x", "y", "width", "height"] as const) close(a[k], b[k], k);
});

Deno.test("cutAligned: samples the square, holding the edge pixels outside the photo", () => {
  const width = 4;
  const height = 2;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([255, 0, (i % width) * 85, 255], i * 4);
  // The left 2×2 half of the photo, at 2×2: pixel centres land exactly on the source pixels.
  const out = cutAligned(rgba, width, height, {
    origin: { x: 0, y: 0 },
    across: { x: 2, y: 0 },
    down: { x: 0, y: 2 },
  }, 2);
  assert.deepEqual([...out.subarray(0, 4)], [1, 1, 1, 1]);
  assert.deepEqual([...out.subarray(4, 8)], [0, 0, 0, 0]);
  assert.deepEqual([...out.subarray(8, 12)].map((v) => Math.round(v * 255)), [0, 85, 0, 85]);
  // Far outside: the nearest edge pixel.
  const outside = cutAligned(rgba, width, height, {
    origin: { x: 10, y: 10 },
    across: { x: 1, y: 0 },
    down: { x: 0, y: 1 },
  }, 1);
  assert.equal(Math.round(outside[2] * 255), 255);
});
