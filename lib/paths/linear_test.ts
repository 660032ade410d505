import assert from "node:assert/strict";
import { linear, LINEAR_DEFAULTS } from "./linear.ts";

Deno.test("linear: exact endpoints, constant velocity, defaults", () => {
  const p = linear({ from: [0.1, 0.9, 0.3], to: [0.7, 0.2, 0.3], duration: 3 });
  assert.deepEqual(p.at(0), [0.1, 0.9, 0.3]);
  assert.deepEqual(p.at(3), [0.7, 0.2, 0.3]);
  const mid = p.at(1.5);
  [0.4, 0.55, 0.3].forEach((v, i) => assert.ok(Math.abs(mid[i] - v) < 1e-15));
  // Equal time steps give equal displacements.
  const d = (a: number, b: number) => Math.hypot(...p.at(b).map((x, i) => x - p.at(a)[i]));
  assert.ok(Math.abs(d(0, 0.3) - d(2.1, 2.4)) < 1e-14);
  assert.deepEqual(linear().params, { ...LINEAR_DEFAULTS });
});

Deno.test("linear: validation names the field and rejects bad times", () => {
  assert.throws(() => linear({ from: [0, 0, 2] as [number, number, number] }), {
    name: "RangeError",
    message: "linear.from[2] must be a finite number in [0, 1], got 2",
  });
  assert.throws(
    () => linear({ duration: -1 }),
    /linear\.duration must be a finite number > 0, got -1/,
  );
  const p = linear();
  assert.throws(() => p.at(1.5), /linear\.at: t must be in \[0, 1\], got 1\.5/);
  assert.throws(() => p.at(NaN), RangeError);
  assert.deepEqual(p.at(1 + 1e-14), [1, 1, 1]); // float dust past the end snaps to the end
});
