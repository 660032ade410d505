import assert from "node:assert/strict";
import { AXES, type Color, norm3, type Vec3 } from "./cube.ts";
import { mirrorReflection } from "./mirror.ts";

/** Independent reference: step from face hit to face hit, flipping the component that hit. */
function bruteForce(start: Color, velocity: Vec3, times: number[]): Color[] {
  const p = [...start];
  const v = [...velocity];
  let now = 0;
  return times.map((target) => {
    for (;;) {
      let next = Infinity;
      for (let a = 0; a < 3; a++) {
        if (v[a] > 0) next = Math.min(next, (1 - p[a]) / v[a]);
        if (v[a] < 0) next = Math.min(next, -p[a] / v[a]);
      }
      if (now + next > target) break;
      for (let a = 0; a < 3; a++) p[a] += v[a] * next;
      now += next;
      for (let a = 0; a < 3; a++) {
        if (v[a] > 0 && p[a] >= 1 - 1e-12) v[a] = -v[a];
        else if (v[a] < 0 && p[a] <= 1e-12) v[a] = -v[a];
      }
    }
    const dt = target - now;
    return p.map((x, a) => x + v[a] * dt) as Color;
  });
}

Deno.test("mirror: matches an independent hit-by-hit simulation", () => {
  const start: Color = [0.1, 0.75, 0.4];
  const direction: Vec3 = [0.83, -0.31, 0.46];
  const path = mirrorReflection({ start, direction, speed: 4, duration: 5 });
  const v = direction.map((c) => (c / norm3(direction)) * 4) as Vec3;
  const times = Array.from({ length: 501 }, (_, i) => i / 100);
  const ref = bruteForce(start, v, times);
  let maxErr = 0;
  times.forEach((t, i) =>
    path.at(t).forEach((x, a) => maxErr = Math.max(maxErr, Math.abs(x - ref[i][a])))
  );
  assert.ok(maxErr < 1e-12, `max abs error ${maxErr}`);
});

Deno.test("mirror: speed is constant and every reflection obeys the mirror law", () => {
  const speed = 2.5;
  const path = mirrorReflection({
    start: [0.3, 0.6, 0.9],
    direction: [1, -2, 0.7],
    speed,
    duration: 6,
  });
  for (let i = 0; i <= 6000; i++) {
    assert.ok(Math.abs(norm3(path.velocityAt(i / 1000)) - speed) < 1e-12);
  }
  const hits = path.reflections();
  assert.ok(hits.length > 20, `${hits.length} reflections`);
  for (const hit of hits) {
    const axis = AXES.indexOf(hit.axis);
    const before = path.velocityAt(hit.t, "before");
    const after = path.velocityAt(hit.t, "after");
    assert.ok(Math.abs(path.at(hit.t)[axis] - hit.wall) < 1e-12, "hit lies on the face");
    // Normal component reverses, tangential ones unchanged: angle of incidence = reflection.
    assert.equal(after[axis], -before[axis]);
    assert.ok(
      hit.wall === 1 ? before[axis] > 0 : before[axis] < 0,
      "incoming moves toward the face",
    );
    for (let a = 0; a < 3; a++) if (a !== axis) assert.equal(after[a], before[a]);
    const incidence = Math.acos(Math.abs(before[axis]) / speed);
    const reflection = Math.acos(Math.abs(after[axis]) / speed);
    assert.equal(incidence, reflection);
    // Cross-check against finite differences around the hit.
    const h = 1e-7;
    const fdBefore = (path.at(hit.t)[axis] - path.at(Math.max(0, hit.t - h))[axis]) / h;
    const fdAfter = (path.at(Math.min(6, hit.t + h))[axis] - path.at(hit.t)[axis]) / h;
    if (hit.t > h && hit.t < 6 - h) {
      assert.ok(Math.abs(fdBefore - before[axis]) < 1e-6 && Math.abs(fdAfter - after[axis]) < 1e-6);
    }
  }
});

Deno.test("mirror: a rational direction gives a periodic orbit, per axis and overall", () => {
  // v = (1, 2, 3): axis periods 2/|v_i| = 2, 1, 2/3; the whole orbit closes after 2.
  const path = mirrorReflection({
    start: [0.2, 0.3, 0.55],
    direction: [1, 2, 3],
    speed: Math.hypot(1, 2, 3),
    duration: 10,
  });
  const periods = [2, 1, 2 / 3];
  for (let i = 0; i <= 700; i++) {
    const t = i / 100;
    for (let a = 0; a < 3; a++) {
      assert.ok(Math.abs(path.at(t + periods[a])[a] - path.at(t)[a]) < 1e-12, `axis ${a} t ${t}`);
    }
    const back = path.at(t + 2);
    path.at(t).forEach((x, a) => assert.ok(Math.abs(back[a] - x) < 1e-12));
  }
  // Half a period is not a period on the red axis (it has moved to the mirror image).
  assert.ok(Math.abs(path.at(1)[0] - path.at(0)[0]) > 0.1);
});

Deno.test("mirror: edge and corner hits reverse every component that arrives", () => {
  // From the centre along the diagonal: reaches the (1,1,1) corner at t = 0.5 and returns.
  const path = mirrorReflection({
    start: [0.5, 0.5, 0.5],
    direction: [1, 1, 1],
    speed: Math.sqrt(3),
    duration: 2,
  });
  assert.deepEqual(path.at(0.5), [1, 1, 1]);
  assert.deepEqual(path.velocityAt(0.5, "after"), path.velocityAt(0.5, "before").map((x) => -x));
  const back = path.at(1);
  back.forEach((x) => assert.ok(Math.abs(x - 0.5) < 1e-15));
  assert.equal(path.reflections().filter((h) => h.t === 0.5).length, 3);
  // Edge: two components flip, the third keeps going.
  const edge = mirrorReflection({
    start: [0.5, 0.5, 0.2],
    direction: [1, 1, 0.1],
    speed: Math.hypot(1, 1, 0.1),
    duration: 1,
  });
  const vb = edge.velocityAt(0.5, "before");
  const va = edge.velocityAt(0.5, "after");
  assert.deepEqual(va, [-vb[0], -vb[1], vb[2]]);
});

Deno.test("mirror: starting on a face heading outward reflects at t = 0; validation", () => {
  const path = mirrorReflection({
    start: [0, 0.5, 0.5],
    direction: [-1, 0, 0],
    speed: 1,
    duration: 1,
  });
  assert.deepEqual(path.velocityAt(0, "before"), [-1, 0, 0]);
  assert.deepEqual(path.velocityAt(0, "after"), [1, 0, 0]);
  assert.ok(Math.abs(path.at(0.25)[0] - 0.25) < 1e-15);
  assert.deepEqual(path.reflections()[0], { t: 0, axis: "r", wall: 0 });
  assert.throws(() => mirrorReflection({ direction: [0, 0, 0] }), {
    name: "RangeError",
    message: "mirrorReflection.direction must be a non-zero vector of finite length, got [0,0,0]",
  });
  assert.throws(
    () => mirrorReflection({ speed: -1 }),
    /mirrorReflection\.speed must be a finite number >= 0, got -1/,
  );
  assert.throws(() => mirrorReflection({ start: [0.5, 0.5, NaN] }), /mirrorReflection\.start\[2\]/);
});
