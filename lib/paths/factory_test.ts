import assert from "node:assert/strict";
import { createPath, defaultParams, PATH_DEFAULTS, PATH_TYPES, type PathSpec } from "./factory.ts";
import type { ColorPath } from "./path.ts";
import { arcLengthTable, sampleArcLength, sampleUniformTime } from "./sample.ts";

const defaults = (): ColorPath[] => PATH_TYPES.map((type) => createPath({ type } as PathSpec));

/** Max distance between consecutive colours of n + 1 uniform samples. */
function maxStep(path: ColorPath, n: number): number {
  let max = 0;
  let prev = path.at(0);
  for (let i = 1; i <= n; i++) {
    const c = path.at((path.duration * i) / n);
    max = Math.max(max, Math.hypot(c[0] - prev[0], c[1] - prev[1], c[2] - prev[2]));
    prev = c;
  }
  return max;
}

Deno.test("every default path stays inside the cube over 100 000 samples", () => {
  for (const path of defaults()) {
    for (const { color } of sampleUniformTime(path, 100_001)) {
      for (const x of color) assert.ok(x >= 0 && x <= 1, `${path.name}: ${color}`);
    }
  }
});

Deno.test("every default path is continuous: the largest sample step shrinks ~4x per 4x samples", () => {
  for (const path of defaults()) {
    const coarse = maxStep(path, 2000);
    const fine = maxStep(path, 8000);
    // Lipschitz paths: the step is ≤ (max speed)·Δt, so 4x the samples → ~1/4 the step.
    assert.ok(fine < coarse / 3, `${path.name}: ${coarse} → ${fine}`);
  }
});

Deno.test("paths are deterministic and rebuild from name + params (JSON round trip)", () => {
  for (const path of defaults()) {
    const json = JSON.parse(JSON.stringify({ type: path.name, ...path.params }));
    const again = createPath(json);
    assert.equal(again.name, path.name);
    assert.deepEqual(again.params, path.params);
    for (let i = 0; i <= 1000; i++) {
      const t = (path.duration * i) / 1000;
      assert.deepEqual(again.at(t), path.at(t), `${path.name} at ${t}`);
    }
  }
});

Deno.test("params are frozen and the defaults table matches what each path resolves", () => {
  for (const type of PATH_TYPES) {
    const path = createPath({ type } as PathSpec);
    assert.ok(Object.isFrozen(path.params));
    for (const [key, value] of Object.entries(PATH_DEFAULTS[type])) {
      assert.deepEqual(path.params[key], value, `${type}.${key}`);
    }
    const copy = defaultParams(type) as Record<string, unknown>;
    assert.deepEqual(copy, { ...PATH_DEFAULTS[type] });
    assert.ok(!Object.isFrozen(copy));
    assert.deepEqual(createPath({ type, ...copy } as PathSpec).params, path.params);
  }
  assert.throws(() => {
    (PATH_DEFAULTS.bouncingBall.start as number[])[0] = 0.9;
  }, TypeError);
});

Deno.test("arc-length samples are equally spaced along every default path within 1%", () => {
  for (const path of defaults()) {
    const count = 61;
    const samples = sampleArcLength(path, count);
    assert.equal(samples[0].t, 0);
    assert.equal(samples[count - 1].t, path.duration);
    // Independent measure: a 16x finer polyline; length up to t = table length to the vertex
    // before t plus the chord from it.
    const table = arcLengthTable(path, 2 ** 17);
    let j = 0;
    const lengthAt = (t: number): number => {
      while (j + 1 < table.times.length && table.times[j + 1] <= t) j++;
      const a = path.at(table.times[j]);
      const b = path.at(t);
      return table.lengths[j] + Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]);
    };
    const expected = table.length / (count - 1);
    let worst = 0;
    let prev = 0;
    for (const { t } of samples.slice(1)) {
      const s = lengthAt(t);
      worst = Math.max(worst, Math.abs(s - prev - expected) / expected);
      prev = s;
    }
    assert.ok(worst < 0.01, `${path.name}: worst relative spacing error ${worst}`);
  }
});

Deno.test("createPath validation: unknown type, wrong types, NaN/Infinity, out-of-range values", () => {
  const bad: [unknown, ErrorConstructor, RegExp][] = [
    [
      { type: "spiral" },
      RangeError,
      /path spec type must be one of "bouncingBall", "mirrorReflection", "brownian", "linear", "keyframes", got "spiral"/,
    ],
    [{}, TypeError, /path spec type must be one of .* got undefined/],
    [null, TypeError, /path spec must be an object with a "type" field, got null/],
    ["linear", TypeError, /path spec must be an object/],
    [
      { type: "linear", to: [1, 1, NaN] },
      RangeError,
      /linear\.to\[2\] must be a finite number in \[0, 1\], got NaN/,
    ],
    [
      { type: "linear", duration: Infinity },
      RangeError,
      /linear\.duration must be a finite number > 0, got Infinity/,
    ],
    [
      { type: "linear", duration: "1" },
      TypeError,
      /linear\.duration must be a finite number > 0, got "1"/,
    ],
    [
      { type: "bouncingBall", restitution: -0.1 },
      RangeError,
      /bouncingBall\.restitution must be a finite number in \[0, 1\], got -0\.1/,
    ],
    [
      { type: "bouncingBall", start: [0.5, 0.5] },
      TypeError,
      /bouncingBall\.start must be an array of 3 numbers in \[0, 1\], got \[0\.5,0\.5\]/,
    ],
    [
      { type: "mirrorReflection", duration: 0 },
      RangeError,
      /mirrorReflection\.duration must be a finite number > 0, got 0/,
    ],
    [
      { type: "mirrorReflection", start: [-0.01, 0, 0] },
      RangeError,
      /mirrorReflection\.start\[0\] .* got -0\.01/,
    ],
    [{ type: "brownian", steps: 1.5 }, RangeError, /brownian\.steps must be an integer/],
    [
      { type: "brownian", speed: 1 },
      TypeError,
      /brownian has unknown field "speed"; allowed fields: start, sigma, steps, dt, seed, duration/,
    ],
    [
      { type: "keyframes", interpolation: 3 },
      TypeError,
      /keyframes\.interpolation must be one of "linear", "catmull-rom", got 3/,
    ],
  ];
  for (const [spec, type, message] of bad) {
    assert.throws(() => createPath(spec as PathSpec), (err: Error) => {
      assert.ok(err instanceof type, `${JSON.stringify(spec)} threw ${err.name}: ${err.message}`);
      assert.match(err.message, message);
      return true;
    });
  }
});
