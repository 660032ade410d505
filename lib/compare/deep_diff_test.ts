import assert from "node:assert/strict";
import { childPath, deepDiff, formatChange } from "./deep_diff.ts";

Deno.test("deepDiff: equal values give no changes", () => {
  const value = { a: 1, b: [1, { c: "x" }], d: null };
  assert.deepEqual(deepDiff(value, structuredClone(value), "spec"), []);
});

Deno.test("deepDiff: changed, added and removed values with JSON paths", () => {
  const a = {
    seed: 1,
    frames: [{ color: [1, 0, 0] }],
    info: { sha256: { "unet.onnx": "aa" } },
    gone: 1,
  };
  const b = {
    seed: 2,
    frames: [{ color: [1, 0, 0.5] }, { color: [0, 0, 0] }],
    info: { sha256: { "unet.onnx": "bb" } },
    label: "x",
  };
  const changes = deepDiff(a, b, "spec");
  assert.deepEqual(changes.map(formatChange), [
    "spec.frames[0].color[2]: 0 → 0.5",
    'spec.frames[1]: (absent) → {"color":[0,0,0]}',
    "spec.gone: 1 → (absent)",
    'spec.info.sha256["unet.onnx"]: "aa" → "bb"',
    'spec.label: (absent) → "x"',
    "spec.seed: 1 → 2",
  ]);
  assert.deepEqual(changes.map((c) => c.kind), [
    "changed",
    "added",
    "removed",
    "changed",
    "added",
    "changed",
  ]);
});

Deno.test("deepDiff: a type change is one change at that path", () => {
  assert.deepEqual(deepDiff({ v: [1] }, { v: { 0: 1 } }, "x"), [
    { path: "x.v", kind: "changed", a: [1], b: { 0: 1 } },
  ]);
  assert.equal(childPath("", "seed"), "seed");
  assert.equal(childPath("a", "b-c"), 'a["b-c"]');
});
