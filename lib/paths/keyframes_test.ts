import assert from "node:assert/strict";
import type { Color } from "./cube.ts";
import { keyframes, KEYFRAMES_DEFAULTS } from "./keyframes.ts";

const POINTS = [
  { t: 0, color: [0, 0, 0] as Color },
  { t: 0.3, color: [1, 0.2, 0.1] as Color },
  { t: 1.1, color: [0.9, 1, 0] as Color },
  { t: 1.5, color: [0.1, 0.5, 1] as Color },
];

Deno.test("keyframes pass exactly through their points with both interpolations", () => {
  for (const interpolation of ["linear", "catmull-rom"] as const) {
    const p = keyframes({ points: POINTS, interpolation });
    assert.equal(p.duration, 1.5);
    for (const { t, color } of POINTS) assert.deepEqual(p.at(t), color, `${interpolation} at ${t}`);
  }
  const d = keyframes();
  for (const { t, color } of KEYFRAMES_DEFAULTS.points) assert.deepEqual(d.at(t), color);
});

Deno.test("keyframes: linear is piecewise linear; catmull-rom is C1 at interior keys and clamped", () => {
  const lin = keyframes({ points: POINTS, interpolation: "linear" });
  const m = lin.at(0.7); // halfway between keys 1 and 2
  [0.95, 0.6, 0.05].forEach((v, i) => assert.ok(Math.abs(m[i] - v) < 1e-12));

  const cr = keyframes({ points: POINTS, interpolation: "catmull-rom" });
  const h = 1e-6;
  for (const key of [0.3, 1.1]) {
    const left = cr.at(key).map((x, i) => (x - cr.at(key - h)[i]) / h);
    const right = cr.at(key + h).map((x, i) => (x - cr.at(key)[i]) / h);
    // Clamping can pin a component at 0 or 1 on one side; compare only unclamped ones.
    for (let c = 0; c < 3; c++) {
      const v = cr.at(key)[c];
      if (v > 0 && v < 1) assert.ok(Math.abs(left[c] - right[c]) < 1e-4, `key ${key} channel ${c}`);
    }
  }
  // The spline overshoots near red = 1 at t = 0.3..1.1; clamping keeps it in the cube.
  let maxRed = 0;
  for (let i = 0; i <= 15000; i++) {
    const c = cr.at((1.5 * i) / 15000);
    for (const x of c) assert.ok(x >= 0 && x <= 1);
    maxRed = Math.max(maxRed, c[0]);
  }
  assert.equal(maxRed, 1);
});

Deno.test("keyframes: validation", () => {
  assert.throws(() => keyframes({ points: [POINTS[0]] }), {
    name: "RangeError",
    message: "keyframes.points must hold at least 2 keyframes, got 1",
  });
  assert.throws(
    () => keyframes({ points: [{ t: 0.1, color: [0, 0, 0] }, { t: 1, color: [1, 1, 1] }] }),
    /keyframes\.points\[0\]\.t must be 0/,
  );
  assert.throws(
    () => keyframes({ points: [POINTS[0], { t: 0, color: [1, 1, 1] }] }),
    /keyframes\.points\[1\]\.t must be greater than/,
  );
  assert.throws(
    () => keyframes({ points: [POINTS[0], { t: 1, color: [1, -0.5, 1] }] }),
    /keyframes\.points\[1\]\.color\[1\] must be a finite number in \[0, 1\], got -0\.5/,
  );
  assert.throws(() => keyframes({ interpolation: "cubic" as "linear" }), {
    name: "RangeError",
    message: 'keyframes.interpolation must be one of "linear", "catmull-rom", got "cubic"',
  });
  assert.throws(() => keyframes({ points: "x" as unknown as [] }), TypeError);
});
