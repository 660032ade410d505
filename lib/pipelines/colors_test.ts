import assert from "node:assert/strict";
import { ColorError, parseColor, toHex } from "./colors.ts";

Deno.test("parseColor reads [0,1] triples as they are", () => {
  assert.deepEqual(parseColor([0.2, 0.5, 0.9]), [0.2, 0.5, 0.9]);
  assert.deepEqual(parseColor([1, 1, 1]), [1, 1, 1]);
  assert.deepEqual(parseColor([0, 0, 0]), [0, 0, 0]);
});

Deno.test("parseColor reads 0–255 triples, hex and rgb() strings", () => {
  assert.deepEqual(parseColor([255, 0, 51]), [1, 0, 0.2]);
  assert.deepEqual(parseColor("#ff0033"), [1, 0, 0.2]);
  assert.deepEqual(parseColor("#F03"), [1, 0, 0.2]);
  assert.deepEqual(parseColor("rgb(255, 0, 51)"), [1, 0, 0.2]);
  assert.deepEqual(parseColor("  #00ff00 "), [0, 1, 0]);
});

Deno.test("parseColor refuses bad colours with a message naming the value", () => {
  const bad: unknown[] = [
    [NaN, 0, 0],
    [Infinity, 0, 0],
    [-0.1, 0, 0],
    [0.5, 0.5],
    [0.5, 0.5, 0.5, 0.5],
    [256, 0, 0],
    [2.5, 0, 0],
    "#12345",
    "#gg0000",
    "red",
    "rgb(300, 0, 0)",
    ["1", 0, 0],
  ];
  for (const value of bad) {
    assert.throws(
      () => parseColor(value as [number, number, number]),
      (err: Error) => err instanceof ColorError && err.message.includes(JSON.stringify(value)),
      `expected a ColorError naming ${JSON.stringify(value)}`,
    );
  }
});

Deno.test("toHex rounds to the nearest byte and clamps", () => {
  assert.deepEqual(toHex([1, 0, 0.2]), "#ff0033");
  assert.deepEqual(toHex([0.5, 1.2, -1]), "#80ff00");
});
