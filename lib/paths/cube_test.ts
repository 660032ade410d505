import assert from "node:assert/strict";
import {
  clampDust,
  FLOAT_DUST,
  reflectedVelocity,
  reflectIntoUnit,
  reflectSlopeAfter,
  reflectSlopeBefore,
  wallHits,
} from "./cube.ts";

Deno.test("reflectIntoUnit is the identity on [0, 1], even about 0, 2-periodic and stays in [0, 1]", () => {
  for (let i = 0; i <= 1000; i++) {
    const x = i / 1000;
    assert.equal(reflectIntoUnit(x), x);
  }
  for (let i = -5000; i <= 5000; i++) {
    const u = i * 0.0137 + 0.001;
    const y = reflectIntoUnit(u);
    assert.ok(y >= 0 && y <= 1, `u=${u} -> ${y}`);
    assert.ok(Math.abs(reflectIntoUnit(-u) - y) < 1e-12, `even at ${u}`);
    assert.ok(Math.abs(reflectIntoUnit(u + 2) - y) < 1e-12, `periodic at ${u}`);
    // Mirror symmetry about the wall at 1: u and 2 − u fold to the same point.
    assert.ok(Math.abs(reflectIntoUnit(2 - u) - y) < 1e-12, `mirror at ${u}`);
  }
});

Deno.test("reflect slopes match finite differences away from walls and differ across a wall", () => {
  for (let i = -300; i <= 300; i++) {
    const u = i * 0.0731 + 0.0123;
    const h = 1e-7;
    const fd = (reflectIntoUnit(u + h) - reflectIntoUnit(u - h)) / (2 * h);
    if (Math.abs(u - Math.round(u)) > 1e-6) {
      assert.ok(Math.abs(fd - reflectSlopeAfter(u)) < 1e-6);
      assert.equal(reflectSlopeBefore(u), reflectSlopeAfter(u));
    }
  }
  for (const wall of [-3, -2, -1, 0, 1, 2, 3]) {
    assert.equal(reflectSlopeBefore(wall), -reflectSlopeAfter(wall), `wall ${wall}`);
  }
  assert.equal(reflectSlopeAfter(0), 1);
  assert.equal(reflectSlopeBefore(1), 1);
  assert.equal(reflectSlopeAfter(1), -1);
});

Deno.test("reflectedVelocity gives incoming before and outgoing after a wall, for both directions", () => {
  // Moving up into the 1 face (unfolded u = 1): +v before, −v after.
  assert.equal(reflectedVelocity(1, 2, "before"), 2);
  assert.equal(reflectedVelocity(1, 2, "after"), -2);
  // Moving down into the 0 face: −v before, +v after.
  assert.equal(reflectedVelocity(0, -2, "before"), -2);
  assert.equal(reflectedVelocity(0, -2, "after"), 2);
  // A hit time that lands u an ulp short of the wall still counts as at the wall.
  assert.equal(reflectedVelocity(1 - 2e-16, 2, "after"), -2);
  assert.equal(reflectedVelocity(-1e-17, -2, "after"), 2);
  assert.equal(reflectedVelocity(0.4, 0, "after"), 0);
});

Deno.test("wallHits agrees with a brute-force scan for walls crossed by the unfolded coordinate", () => {
  for (const [x0, v] of [[0.3, 2.7], [0.3, -2.7], [0, 1], [0, -1], [1, 1], [1, -1], [0.5, 0.01]]) {
    const tEnd = 3;
    const hits = wallHits(x0, v, tEnd, "test");
    const expected: { t: number; wall: 0 | 1 }[] = [];
    for (let k = -20; k <= 20; k++) {
      const t = (k - x0) / v;
      // A wall at t = 0 is a hit only if the velocity points out of the cube there.
      const hitsNow = t > 0 || (t === 0 && ((k === 0 && v < 0) || (k === 1 && v > 0)));
      if (hitsNow && t <= tEnd) expected.push({ t: t + 0, wall: Math.abs(k) % 2 === 0 ? 0 : 1 });
    }
    expected.sort((a, b) => a.t - b.t);
    assert.deepEqual(hits, expected, `x0=${x0} v=${v}`);
    for (const h of hits) {
      assert.ok(Math.abs(reflectIntoUnit(x0 + v * h.t) - h.wall) < 1e-12);
    }
  }
  assert.deepEqual(wallHits(0.5, 0, 10, "test"), []);
  assert.throws(() => wallHits(0.5, 1e7, 1, "fast path"), /fast path: more than 1000000 wall/);
});

Deno.test("clampDust snaps rounding error but throws on a real excursion", () => {
  assert.equal(clampDust(0.25, "x"), 0.25);
  assert.equal(clampDust(-FLOAT_DUST, "x"), 0);
  assert.equal(clampDust(1 + FLOAT_DUST, "x"), 1);
  assert.throws(() => clampDust(-1e-9, "demo path"), /demo path left the unit cube/);
  assert.throws(() => clampDust(1.001, "demo path"), /component 1\.001/);
  assert.throws(() => clampDust(NaN, "demo path"), /NaN/);
});
