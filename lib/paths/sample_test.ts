import assert from "node:assert/strict";
import type { Color } from "./cube.ts";
import { keyframes } from "./keyframes.ts";
import { linear } from "./linear.ts";
import type { ColorPath } from "./path.ts";
import { arcLengthTable, pathLength, sampleArcLength, sampleUniformTime } from "./sample.ts";

/** A path that moves fast, then rests, then moves slowly: t ∈ [0, 3]. */
function uneven(): ColorPath {
  return {
    name: "uneven",
    params: {},
    duration: 3,
    at(t: number): Color {
      if (t <= 1) return [0.9 * t, 0.1, 0.1];
      if (t <= 2) return [0.9, 0.1, 0.1];
      return [0.9, 0.1 + 0.05 * (t - 2), 0.1];
    },
    kinks: () => [1, 2],
  };
}

Deno.test("sampleUniformTime: equal time steps, exact endpoints", () => {
  const p = linear({ duration: 0.7 });
  const s = sampleUniformTime(p, 8);
  assert.equal(s.length, 8);
  assert.equal(s[0].t, 0);
  assert.equal(s[7].t, 0.7);
  assert.deepEqual(s[7].color, [1, 1, 1]);
  for (let i = 1; i < 8; i++) assert.ok(Math.abs(s[i].t - s[i - 1].t - 0.1) < 1e-15);
  assert.deepEqual(sampleUniformTime(p, 1).map((x) => x.t), [0]);
  assert.throws(() => sampleUniformTime(p, 0), /count must be an integer >= 1, got 0/);
  assert.throws(() => sampleUniformTime(p, 2.5), RangeError);
});

Deno.test("arc length of known curves: segment exact, quarter circle converges as 1/N²", () => {
  assert.ok(
    Math.abs(pathLength(linear({ from: [0, 0, 0], to: [1, 1, 1] })) - Math.sqrt(3)) < 1e-12,
  );
  const circle: ColorPath = {
    name: "circle",
    params: {},
    duration: Math.PI / 2,
    at: (t) => [0.5 + 0.4 * Math.cos(t), 0.5 + 0.4 * Math.sin(t), 0.5],
  };
  const exact = 0.4 * Math.PI / 2;
  const err = (n: number) => exact - pathLength(circle, n);
  assert.ok(err(64) > 0 && err(64) < 1e-4);
  // Second-order convergence: doubling N divides the error by ~4.
  assert.ok(Math.abs(err(64) / err(128) - 4) < 0.01, `ratio ${err(64) / err(128)}`);
});

Deno.test("arcLengthTable includes kinks exactly once, ascending", () => {
  const table = arcLengthTable(uneven(), 7);
  const times = [...table.times];
  assert.ok(times.includes(1) && times.includes(2));
  for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1]);
  assert.equal(times[0], 0);
  assert.equal(times[times.length - 1], 3);
  assert.ok(Math.abs(table.length - 0.95) < 1e-12);
});

Deno.test("sampleArcLength: equal spacing along the curve, skips rests, exact endpoints", () => {
  const p = uneven();
  const s = sampleArcLength(p, 20);
  assert.equal(s[0].t, 0);
  assert.equal(s[19].t, 3);
  const step = 0.95 / 19;
  for (let i = 1; i < 20; i++) {
    const d = Math.hypot(...s[i].color.map((x, c) => x - s[i - 1].color[c]));
    // Both stretches are straight, so chord = arc except across the corner at the rest.
    if (!(s[i - 1].t < 2 && s[i].t > 2)) {
      assert.ok(Math.abs(d - step) < 1e-9 * step, `step ${i}: ${d}`);
    }
  }
  // No sample sits inside the resting interval (1, 2).
  assert.ok(s.every(({ t }) => t <= 1 || t >= 2));
});

Deno.test("sampleArcLength on a zero-length path falls back to uniform time", () => {
  const still = keyframes({
    points: [{ t: 0, color: [0.2, 0.2, 0.2] }, { t: 2, color: [0.2, 0.2, 0.2] }],
  });
  assert.deepEqual(sampleArcLength(still, 5), sampleUniformTime(still, 5));
});
