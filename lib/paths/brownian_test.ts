import assert from "node:assert/strict";
import { brownian, BROWNIAN_DEFAULTS } from "./brownian.ts";
import { reflectIntoUnit } from "./cube.ts";
import { SeededRandom } from "./random.ts";

Deno.test("brownian: same seed same path, different seed different path", () => {
  const a = brownian({ seed: 5 });
  const b = brownian({ seed: 5 });
  const c = brownian({ seed: 6 });
  let differs = 0;
  for (let i = 0; i <= 2000; i++) {
    const t = i / 2000;
    assert.deepEqual(a.at(t), b.at(t));
    if (a.at(t).some((x, k) => x !== c.at(t)[k])) differs++;
  }
  assert.equal(differs, 2000); // all but t = 0
  assert.deepEqual(brownian().params, { ...BROWNIAN_DEFAULTS, dt: 0.001 });
});

Deno.test("brownian: free increments have std sigma·sqrt(dt) and mean 0 within 5 standard errors", () => {
  const sigma = 0.05;
  const steps = 20_000;
  const duration = 2;
  const dt = duration / steps;
  const p = brownian({ start: [0.5, 0.5, 0.5], sigma, steps, duration, seed: 123 });
  // sigma·sqrt(duration) = 0.07: the walk stays far from the faces, so folding never acts.
  let s1 = 0;
  let s2 = 0;
  let prev = p.at(0);
  for (let k = 1; k <= steps; k++) {
    const cur = p.at(k * dt);
    for (let c = 0; c < 3; c++) {
      assert.ok(cur[c] > 0.1 && cur[c] < 0.9, "free run stays away from the faces");
      const d = cur[c] - prev[c];
      s1 += d;
      s2 += d * d;
    }
    prev = cur;
  }
  const n = 3 * steps;
  const expected = sigma * Math.sqrt(dt);
  const std = Math.sqrt(s2 / n - (s1 / n) ** 2);
  // Sample std of n normals has relative standard error 1/sqrt(2n) (0.29% here).
  assert.ok(Math.abs(std / expected - 1) < 5 / Math.sqrt(2 * n), `std ${std} vs ${expected}`);
  assert.ok(Math.abs(s1 / n) < (5 * expected) / Math.sqrt(n), `mean ${s1 / n}`);
});

Deno.test("brownian: reflecting walls keep a wild walk inside the cube, continuously", () => {
  const p = brownian({ start: [0.02, 0.98, 0.5], sigma: 3, steps: 500, seed: 9, duration: 1 });
  let touched = 0;
  let maxStep = 0;
  let prev = p.at(0);
  for (let i = 1; i <= 200_000; i++) {
    const c = p.at(i / 200_000);
    for (const x of c) {
      assert.ok(x >= 0 && x <= 1);
      if (x < 0.01 || x > 0.99) touched++;
    }
    maxStep = Math.max(maxStep, Math.hypot(c[0] - prev[0], c[1] - prev[1], c[2] - prev[2]));
    prev = c;
  }
  assert.ok(touched > 1000, "the walk does reach the faces");
  // Piecewise linear: 1/200000 of the time (1/400 of a step) moves 1/400 of an increment.
  assert.ok(maxStep < 0.01, `max step ${maxStep}`);
});

Deno.test("brownian: the path is the fold of the piecewise-linear free walk", () => {
  // With one step the free walk is a straight segment; the path must be its reflection.
  const p = brownian({ start: [0.5, 0.5, 0.5], sigma: 4, steps: 1, seed: 3 });
  const kinks = p.kinks();
  for (const t of kinks) {
    // Each kink is a face crossing: some component is on a face there.
    assert.ok(p.at(t).some((x) => Math.abs(x) < 1e-12 || Math.abs(x - 1) < 1e-12), `kink at ${t}`);
  }
  // Between kinks the path is straight: midpoint of each piece equals the average of its ends.
  const ts = [0, ...kinks, 1];
  for (let i = 1; i < ts.length; i++) {
    const a = p.at(ts[i - 1]);
    const b = p.at(ts[i]);
    const m = p.at((ts[i - 1] + ts[i]) / 2);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(m[c] - (a[c] + b[c]) / 2) < 1e-12);
  }
  assert.ok(kinks.length >= 3, `${kinks.length} face crossings`);
  // And it ends where the fold of the free endpoint is: reproduce the walk's single step.
  const rng = new SeededRandom(3);
  const free = [0, 1, 2].map(() => 0.5 + 4 * rng.nextGaussian());
  p.at(1).forEach((x, c) => assert.ok(Math.abs(x - reflectIntoUnit(free[c])) < 1e-15));
});

Deno.test("brownian: steps and dt are interchangeable; sigma 0 stays put; validation", () => {
  const a = brownian({ steps: 250, duration: 2 });
  const b = brownian({ dt: 0.008, duration: 2 });
  assert.equal(b.params.steps, 250);
  for (let i = 0; i <= 100; i++) assert.deepEqual(a.at(i / 50), b.at(i / 50));
  const still = brownian({ sigma: 0, start: [0.1, 0.2, 0.3] });
  assert.deepEqual(still.at(0.77), [0.1, 0.2, 0.3]);
  assert.throws(
    () => brownian({ dt: 0.3 }),
    /brownian\.dt must divide brownian\.duration = 1 into a whole number of steps, got dt = 0\.3/,
  );
  assert.throws(
    () => brownian({ dt: 0.25, steps: 5 }),
    /brownian\.steps = 5 contradicts brownian\.dt = 0\.25/,
  );
  assert.throws(
    () => brownian({ steps: 0 }),
    /brownian\.steps must be an integer in \[1, 10000000\], got 0/,
  );
  assert.throws(
    () => brownian({ seed: -1 }),
    /brownian\.seed must be an integer in \[0, 4294967295\], got -1/,
  );
  assert.throws(
    () => brownian({ sigma: -0.1 }),
    /brownian\.sigma must be a finite number >= 0, got -0\.1/,
  );
  assert.throws(() => brownian({ seed: "1" as unknown as number }), TypeError);
});
