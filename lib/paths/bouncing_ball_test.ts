import assert from "node:assert/strict";
import { BOUNCING_BALL_DEFAULTS, bouncingBall, type BouncingBallPath } from "./bouncing_ball.ts";
import { AXES } from "./cube.ts";
import { SeededRandom } from "./random.ts";

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));

/** A ball that reaches the ceiling for its first bounces and hits every side wall. */
function lively(restitution = 0.9): BouncingBallPath {
  return bouncingBall({
    start: [0.5, 0.5, 0.1],
    velocity: [2.3, -1.7, 12],
    gravity: 30,
    gravityAxis: "b",
    restitution,
    duration: 4,
  });
}

function flightsOf(path: BouncingBallPath): [number, number][] {
  const ts = [
    0,
    ...path.collisions().filter((c) => c.kind !== "wall").map((c) => c.t),
    path.duration,
  ];
  return ts.slice(1).map((t, i) => [ts[i], t]);
}

Deno.test("ball: defaults are recorded and the path starts where it should", () => {
  const p = bouncingBall();
  assert.deepEqual(p.params, { ...BOUNCING_BALL_DEFAULTS });
  assert.deepEqual(p.at(0), BOUNCING_BALL_DEFAULTS.start);
  assert.deepEqual(p.velocityAt(0), BOUNCING_BALL_DEFAULTS.velocity);
});

Deno.test("ball: agrees with an independent small-step simulation", () => {
  const p = bouncingBall();
  const { start, velocity, gravity: g, restitution: e } = BOUNCING_BALL_DEFAULTS;
  // Velocity Verlet with the bounce placed by linear interpolation: first order in dt.
  const dt = 1e-5;
  let z = start[2];
  let w = velocity[2];
  let maxErr = 0;
  for (let k = 1; k * dt <= 1; k++) {
    let zNew = z + w * dt - 0.5 * g * dt * dt;
    let wNew = w - g * dt;
    if (zNew < 0) {
      const f = z / (z - zNew);
      const wHit = w - g * f * dt;
      wNew = -e * wHit - g * (1 - f) * dt;
      zNew = -e * wHit * (1 - f) * dt - 0.5 * g * ((1 - f) * dt) ** 2;
    }
    z = zNew;
    w = wNew;
    if (k % 100 === 0) maxErr = Math.max(maxErr, Math.abs(p.at(k * dt)[2] - z));
  }
  assert.ok(maxErr < 1e-3, `max height error ${maxErr}`);
});

Deno.test("ball: height solves z'' = −g between collisions and horizontal speed is constant", () => {
  const p = lively();
  const g = 30;
  for (const [t0, t1] of flightsOf(p)) {
    const h = Math.min(1e-4, (t1 - t0) / 10);
    for (let i = 1; i < 10; i++) {
      const t = t0 + ((t1 - t0) * i) / 10;
      const z = (s: number) => p.at(s)[2];
      const second = (z(t + h) - 2 * z(t) + z(t - h)) / (h * h);
      assert.ok(Math.abs(second + g) < 1e-3 * g, `z'' = ${second} at ${t}`);
      const v = p.velocityAt(t);
      assert.ok(Math.abs(Math.abs(v[0]) - 2.3) < 1e-12 && Math.abs(Math.abs(v[1]) - 1.7) < 1e-12);
      assert.ok(
        Math.abs((z(t + h) - z(t - h)) / (2 * h) - v[2]) < 1e-6 * Math.max(1, Math.abs(v[2])),
      );
    }
  }
});

Deno.test("ball: reflection law at side walls and ceiling (elastic, mirror-like)", () => {
  const p = lively();
  const hits = p.collisions().filter((c) => c.kind !== "floor");
  const kinds = new Set(hits.map((c) => `${c.kind}:${c.axis}`));
  assert.ok(
    kinds.has("ceiling:b") && kinds.has("wall:r") && kinds.has("wall:g"),
    [...kinds].join(),
  );
  for (const c of hits) {
    const axis = AXES.indexOf(c.axis);
    const before = p.velocityAt(c.t, "before");
    const after = p.velocityAt(c.t, "after");
    assert.ok(Math.abs(p.at(c.t)[axis] - c.wall) < 1e-12, "collision happens on the face");
    assert.equal(c.after, -c.before);
    assert.ok(c.wall === 1 ? c.before > 0 : c.before < 0, "moving into the face");
    assert.ok(rel(before[axis], c.before) < 1e-12 && rel(after[axis], c.after) < 1e-12);
    for (let a = 0; a < 3; a++) if (a !== axis) assert.ok(rel(after[a], before[a]) < 1e-12);
    // Kinetic energy unchanged by an elastic wall.
    assert.ok(rel(p.energyAt(c.t, "before"), p.energyAt(c.t, "after")) < 1e-12);
  }
});

Deno.test("ball: every floor bounce has normal speed ratio e and removes exactly (1 − e²) of normal KE", () => {
  let worst = 0;
  for (const e of [0.9, 0.6, 0.3]) {
    const p = lively(e);
    const floors = p.collisions().filter((c) => c.kind === "floor" && !c.rest);
    assert.ok(floors.length >= 3, `e=${e}: ${floors.length} bounces`);
    for (const c of floors) {
      assert.ok(Math.abs(c.after / -c.before - e) < 1e-15, `ratio ${c.after / -c.before}`);
      const vb = p.velocityAt(c.t, "before")[2];
      const va = p.velocityAt(c.t, "after")[2];
      assert.ok(rel(vb, c.before) < 1e-12 && rel(va, c.after) < 1e-12, `${vb} vs ${c.before}`);
      const loss = p.energyAt(c.t, "before") - p.energyAt(c.t, "after");
      const normalKE = 0.5 * c.before * c.before;
      // The loss is a difference of totals, so rounding scales with the total energy.
      const total = p.energyAt(c.t, "before");
      assert.ok(
        Math.abs(loss - (1 - e * e) * normalKE) < 1e-13 * total,
        `loss ${loss} of ${normalKE}`,
      );
      worst = Math.max(worst, Math.abs(loss - (1 - e * e) * normalKE) / total);
    }
  }
});

Deno.test("ball: kinetic + potential energy is conserved between collisions", () => {
  const p = lively(0.8);
  let flights = 0;
  for (const [t0, t1] of flightsOf(p)) {
    const e0 = p.energyAt(t0, "after");
    for (let i = 1; i <= 20; i++) {
      const t = t0 + ((t1 - t0) * i) / 20;
      assert.ok(
        rel(p.energyAt(t, i === 20 ? "before" : "after"), e0) < 1e-12,
        `flight from ${t0} at ${t}`,
      );
    }
    flights++;
  }
  assert.ok(flights > 5);
});

Deno.test("ball: e = 1 conserves energy forever (periodic, no drift over 10^4 bounces)", () => {
  const p = bouncingBall({
    start: [0.2, 0.7, 0.6],
    velocity: [0.37, -0.21, 0.5],
    gravity: 20,
    restitution: 1,
    duration: 5000,
  });
  const e0 = p.energyAt(0);
  let maxDrift = 0;
  for (let i = 0; i <= 20000; i++) maxDrift = Math.max(maxDrift, rel(p.energyAt(i / 4), e0));
  assert.ok(maxDrift < 1e-12, `relative energy drift ${maxDrift}`);
  assert.equal(p.restTime, null);
  const floors = p.collisions().filter((c) => c.kind === "floor");
  assert.ok(floors.length > 10_000, `${floors.length} bounces`);
  for (const c of floors) assert.ok(rel(c.after, -c.before) < 1e-15);
  // The apex height is the same after every bounce: max height sampled late equals early.
  const apex = 0.6 + 0.5 ** 2 / (2 * 20);
  const lateMax = Math.max(...Array.from({ length: 2001 }, (_, i) => p.at(4990 + i / 200)[2]));
  assert.ok(Math.abs(lateMax - apex) < 1e-4, `late apex ${lateMax} vs ${apex}`);
});

Deno.test("ball: e = 0 stops at the first floor contact and then rolls", () => {
  const p = bouncingBall({
    start: [0.1, 0.5, 0.8],
    velocity: [0.3, 0, 1],
    gravity: 10,
    restitution: 0,
    duration: 3,
  });
  const floors = p.collisions().filter((c) => c.kind === "floor");
  assert.equal(floors.length, 1);
  assert.equal(floors[0].after, 0);
  assert.ok(floors[0].rest);
  // Fall time from z = 0.8 with w = 1, g = 10: (w + sqrt(w² + 2 g z)) / g.
  const tFloor = (1 + Math.sqrt(1 + 16)) / 10;
  assert.ok(Math.abs(floors[0].t - tFloor) < 1e-15);
  assert.equal(p.restTime, floors[0].t);
  for (let i = 0; i <= 100; i++) {
    const t = tFloor + ((3 - tFloor) * i) / 100;
    assert.equal(p.at(t)[2], 0);
    assert.equal(p.velocityAt(t)[2], 0);
    assert.ok(Math.abs(Math.abs(p.velocityAt(t)[0]) - 0.3) < 1e-15, "still rolling along red");
  }
});

Deno.test("ball: Zeno bounces end in finitely many steps at the analytic rest time", () => {
  const g = 10;
  for (const e of [0.5, 0.8, 0.95]) {
    const restHeight = 1e-9;
    const p = bouncingBall({
      start: [0.5, 0.5, 1],
      velocity: [0, 0, 0],
      gravity: g,
      restitution: e,
      restHeight,
      duration: 1000,
    });
    const floors = p.collisions().filter((c) => c.kind === "floor");
    // Impact speed at the first contact, then geometric: bounce k leaves with u1 e^k; all the
    // bounces together take 2 u1 e / (g (1 − e)) (sum of flight times 2u/g).
    const u1 = Math.sqrt(2 * g);
    const zenoTime = Math.sqrt(2 / g) + (2 * u1 * e) / (g * (1 - e));
    // The unresolved tail (bounces lower than restHeight) lasts at most this long.
    const tail = (2 * Math.sqrt(2 * g * restHeight)) / (g * (1 - e));
    assert.ok(
      p.restTime !== null && Math.abs(p.restTime - zenoTime) <= tail,
      `e=${e}: ${p.restTime} vs ${zenoTime}`,
    );
    // Bounce count: the first k whose rise (u1 e^k)² / 2g drops below restHeight.
    const expected = Math.ceil(Math.log(restHeight) / Math.log(e * e));
    assert.ok(Math.abs(floors.length - expected) <= 1, `e=${e}: ${floors.length} vs ${expected}`);
    assert.ok(floors.at(-1)!.rest && floors.slice(0, -1).every((c) => !c.rest));
    assert.equal(p.at(999)[2], 0);
  }
});

Deno.test("ball: without gravity it flies straight, loses speed only at the floor", () => {
  const p = bouncingBall({
    start: [0.5, 0.5, 0.5],
    velocity: [0, 0, -2],
    gravity: 0,
    restitution: 0.5,
    duration: 3,
  });
  const c = p.collisions();
  assert.deepEqual(c.map((x) => [x.kind, x.t]), [["floor", 0.25], ["ceiling", 1.25], [
    "floor",
    2.25,
  ]]);
  assert.deepEqual(c.map((x) => x.after), [1, -1, 0.5]);
  assert.equal(p.at(1)[2], 0.75);
});

Deno.test("ball: start on the floor heading down bounces at t = 0; resting start stays put", () => {
  const p = bouncingBall({
    start: [0.5, 0.5, 0],
    velocity: [0, 0, -4],
    gravity: 10,
    restitution: 0.5,
    duration: 1,
  });
  const first = p.collisions()[0];
  assert.deepEqual([first.t, first.kind, first.before, first.after], [0, "floor", -4, 2]);
  assert.deepEqual(p.velocityAt(0, "before"), [0, 0, -4]);
  assert.deepEqual(p.velocityAt(0, "after"), [0, 0, 2]);
  const still = bouncingBall({
    start: [0.5, 0.5, 0],
    velocity: [0.1, 0, 0],
    gravity: 10,
    duration: 1,
  });
  assert.equal(still.restTime, 0);
  assert.equal(still.at(1)[2], 0);
});

Deno.test("ball: any gravity axis works the same", () => {
  const b = bouncingBall({ start: [0.3, 0.6, 0.9], velocity: [0.4, 0.2, -0.3], gravityAxis: "b" });
  const r = bouncingBall({ start: [0.9, 0.6, 0.3], velocity: [-0.3, 0.2, 0.4], gravityAxis: "r" });
  for (let i = 0; i <= 100; i++) {
    const cb = b.at(i / 100);
    const cr = r.at(i / 100);
    assert.ok(
      Math.abs(cb[2] - cr[0]) < 1e-15 && Math.abs(cb[0] - cr[2]) < 1e-15 && cb[1] === cr[1],
    );
  }
});

Deno.test("ball: random parameters never leave the cube and never gain energy", () => {
  const rng = new SeededRandom(11);
  const pick = (lo: number, hi: number) => lo + (hi - lo) * rng.nextFloat();
  const coord = () => {
    const u = rng.nextFloat();
    return u < 0.1 ? 0 : u < 0.2 ? 1 : rng.nextFloat();
  };
  let checked = 0;
  for (let n = 0; n < 150; n++) {
    const e = [0, 1, pick(0, 1)][n % 3];
    const p = bouncingBall({
      start: [coord(), coord(), coord()],
      velocity: [pick(-5, 5), pick(-5, 5), pick(-5, 5)],
      gravity: n % 5 === 0 ? 0 : pick(0, 100),
      gravityAxis: AXES[n % 3],
      restitution: e,
      duration: pick(0.1, 5),
    });
    let prev = Infinity;
    for (let i = 0; i <= 500; i++) {
      const t = (p.duration * i) / 500;
      for (const x of p.at(t)) assert.ok(x >= 0 && x <= 1);
      const energy = p.energyAt(t);
      assert.ok(
        energy <= prev + 1e-9 * Math.max(1, prev),
        `energy rose at ${t}: ${JSON.stringify(p.params)}`,
      );
      prev = energy;
      checked++;
    }
  }
  assert.equal(checked, 150 * 501);
});

Deno.test("ball: validation names field, value and allowed values", () => {
  const cases: [Record<string, unknown>, RegExp, ErrorConstructor][] = [
    [
      { restitution: 1.2 },
      /bouncingBall\.restitution must be a finite number in \[0, 1\], got 1\.2/,
      RangeError,
    ],
    [{ restitution: NaN }, /bouncingBall\.restitution .* got NaN/, RangeError],
    [
      { gravity: -1 },
      /bouncingBall\.gravity must be a finite number in \[0, 1000000\], got -1/,
      RangeError,
    ],
    [
      { gravityAxis: "x" },
      /bouncingBall\.gravityAxis must be one of "r", "g", "b", got "x"/,
      RangeError,
    ],
    [{ gravityAxis: 2 }, /bouncingBall\.gravityAxis/, TypeError],
    [
      { duration: 0 },
      /bouncingBall\.duration must be a finite number in \(0, 1000000\], got 0/,
      RangeError,
    ],
    [
      { velocity: [0, Infinity, 0] },
      /bouncingBall\.velocity\[1\] must be a finite number, got Infinity/,
      RangeError,
    ],
    [
      { start: [0, 0, 1.1] },
      /bouncingBall\.start\[2\] must be a finite number in \[0, 1\], got 1\.1/,
      RangeError,
    ],
    [{ restHeight: 0 }, /bouncingBall\.restHeight/, RangeError],
    [{ restitusion: 0.5 }, /bouncingBall has unknown field "restitusion"/, TypeError],
  ];
  for (const [options, message, type] of cases) {
    assert.throws(
      () => bouncingBall(options as never),
      (err: Error) => err instanceof type && message.test(err.message),
      JSON.stringify(options),
    );
  }
  // Absurd speeds are refused with a message instead of hanging.
  assert.throws(
    () =>
      bouncingBall({
        start: [0.5, 0.5, 0.5],
        velocity: [0, 0, 1e6],
        gravity: 0,
        restitution: 1,
        duration: 1e6,
      }).collisions(),
    /more than 1000000 collisions/,
  );
});
