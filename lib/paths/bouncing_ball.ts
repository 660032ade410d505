/**
 * A bouncing ball: a point mass in the RGB cube under constant gravity along one axis, bouncing
 * inelastically off the floor and elastically off the other five faces. Event driven and exact:
 * every collision time comes from solving the flight's quadratic in closed form, so there is no
 * integration step and no energy drift.
 *
 * @module
 */

import {
  AXES,
  type Axis,
  clampDust,
  type Color,
  reflectedVelocity,
  reflectIntoUnit,
  type Vec3,
  wallHits,
} from "./cube.ts";
import { checkTime, type ColorPath, deepFreeze } from "./path.ts";
import { checkColor, checkNumber, checkObject, checkOneOf, checkVector } from "./validate.ts";

/** Most collisions {@link bouncingBall} will compute within the duration before giving up. */
export const BOUNCING_BALL_MAX_EVENTS = 1_000_000;

/** Largest magnitude accepted for velocity components and gravity (keeps squares finite). */
export const BOUNCING_BALL_MAX_MAGNITUDE = 1e6;

/** Parameters of {@link bouncingBall}. Units: cube side lengths and path time units. */
export interface BouncingBallOptions {
  /** Colour at t = 0. @default [0.15, 0.35, 0.95] */
  start: Color;
  /** Velocity at t = 0 (cube sides per time unit). @default [1.3, 0.9, 0] */
  velocity: Vec3;
  /** Gravitational acceleration g >= 0, pulling toward the floor (cube sides per time²). @default 30 */
  gravity: number;
  /** The vertical axis; its 0 face is the floor, its 1 face the ceiling. @default "b" */
  gravityAxis: Axis;
  /**
   * Coefficient of restitution e in [0, 1] of the floor: each floor bounce multiplies the normal
   * speed by e (and the normal kinetic energy by e²). 1 is elastic, 0 stops the bounce dead.
   *
   * @default 0.75
   */
  restitution: number;
  /**
   * Bounces that would rise less than this (in cube sides) are not resolved: the ball comes to
   * rest on the floor instead, ending the otherwise infinite (Zeno) sequence of ever smaller
   * bounces. In (0, 1]; unused when restitution is 1 or gravity is 0.
   *
   * @default 1e-9 (far below one 8-bit colour step, 1/255)
   */
  restHeight: number;
  /** Length of the time interval; > 0. @default 1 */
  duration: number;
}

/** Defaults of {@link bouncingBall}: about two and a half bounces in one time unit. */
export const BOUNCING_BALL_DEFAULTS: Readonly<BouncingBallOptions> = deepFreeze({
  start: [0.15, 0.35, 0.95],
  velocity: [1.3, 0.9, 0],
  gravity: 30,
  gravityAxis: "b",
  restitution: 0.75,
  restHeight: 1e-9,
  duration: 1,
});

/** One collision of the ball with a face of the cube. */
export interface BallCollision {
  /** Time of the collision. */
  t: number;
  /** The axis normal to the face. */
  axis: Axis;
  /** Which face: value of that axis on it. */
  wall: 0 | 1;
  /** `"floor"` (inelastic), `"ceiling"` or `"wall"` (both elastic). */
  kind: "floor" | "ceiling" | "wall";
  /** Velocity component along `axis` just before the collision. */
  before: number;
  /** Velocity component along `axis` just after (−e·before at the floor, −before elsewhere). */
  after: number;
  /** True for the floor contact where the ball stopped bouncing (`after` is then 0). */
  rest: boolean;
}

/** A path built by {@link bouncingBall}. */
export interface BouncingBallPath extends ColorPath {
  /** Always `"bouncingBall"`. */
  readonly name: "bouncingBall";
  /** The resolved parameters. */
  readonly params: Readonly<BouncingBallOptions>;
  /** Time the ball stopped bouncing and began to roll on the floor, or null if not by `duration`. */
  readonly restTime: number | null;
  /** Velocity at `t`; at a collision instant `side` picks incoming or outgoing (default). */
  velocityAt(t: number, side?: "before" | "after"): Vec3;
  /**
   * Mechanical energy per unit mass, ½|v|² + g·height, at `t` (`side` as in velocityAt).
   * Constant during flight; each floor bounce removes (1 − e²) of the normal kinetic energy.
   */
  energyAt(t: number, side?: "before" | "after"): number;
  /** Every collision in [0, duration], by time. */
  collisions(): BallCollision[];
  /** Times in (0, duration) where the velocity jumps (see {@link ColorPath.kinks}). */
  kinks(): number[];
}

/**
 * A free flight along the vertical axis: height(t) = z0 + w0·τ − ½·g·τ², τ = t − t0. Resting on
 * the floor is a flight with z0 = w0 = g = 0.
 */
interface Flight {
  t0: number;
  z0: number;
  w0: number;
  g: number;
}

/**
 * Bouncing ball. Along the gravity axis the height z obeys z'' = −g between collisions; hitting
 * the floor (z = 0) the vertical velocity becomes −e times itself, hitting the ceiling (z = 1) it
 * reverses. The two other axes move at constant speed and reflect elastically off their faces
 * (closed-form triangle waves), so the floor is frictionless: bounces never change horizontal
 * motion. Collisions are found in closed form one after another; the vertical motion is exactly
 * periodic when e = 1 (one period is computed and repeated), and when e < 1 the ball comes to
 * rest once a bounce would rise less than `restHeight`, after which it rolls along the floor
 * (still reflecting off the side walls). With gravity 0 the ball flies straight and every face
 * is a mirror except the floor, which still takes energy.
 *
 * @throws {TypeError|RangeError} naming the bad field, its value and what is allowed, or a
 *   RangeError if the parameters imply more than {@link BOUNCING_BALL_MAX_EVENTS} collisions.
 */
export function bouncingBall(options: Partial<BouncingBallOptions> = {}): BouncingBallPath {
  const d = BOUNCING_BALL_DEFAULTS;
  checkObject("bouncingBall", options, Object.keys(d));
  const start = checkColor("bouncingBall.start", options.start ?? d.start);
  const velocity = checkVector("bouncingBall.velocity", options.velocity ?? d.velocity);
  const max = BOUNCING_BALL_MAX_MAGNITUDE;
  velocity.forEach((v, i) =>
    checkNumber(`bouncingBall.velocity[${i}]`, v, { min: -max, max: max })
  );
  const gravity = checkNumber("bouncingBall.gravity", options.gravity ?? d.gravity, {
    min: 0,
    max,
  });
  const gravityAxis = checkOneOf(
    "bouncingBall.gravityAxis",
    options.gravityAxis ?? d.gravityAxis,
    AXES,
  );
  const restitution = checkNumber(
    "bouncingBall.restitution",
    options.restitution ?? d.restitution,
    {
      min: 0,
      max: 1,
    },
  );
  const restHeight = checkNumber("bouncingBall.restHeight", options.restHeight ?? d.restHeight, {
    min: 0,
    minExclusive: true,
    max: 1,
  });
  const duration = checkNumber("bouncingBall.duration", options.duration ?? d.duration, {
    min: 0,
    minExclusive: true,
    max,
  });

  const vAxis = AXES.indexOf(gravityAxis);
  const g = gravity;
  const e = restitution;

  // --- vertical motion: enumerate flights and floor/ceiling collisions -------------------------
  const flights: Flight[] = [];
  const verticalEvents: BallCollision[] = [];
  let restTime: number | null = null;
  let periodStart = 0; // first floor bounce, when e = 1
  let period = 0; // time between floor bounces when e = 1 (0: not periodic within duration)
  let floorBounces = 0;

  const rest = (t0: number) => flights.push({ t0, z0: 0, w0: 0, g: 0 });
  if (g > 0 && start[vAxis] === 0 && velocity[vAxis] === 0) {
    rest(0);
    restTime = 0;
  } else {
    flights.push({ t0: 0, z0: start[vAxis], w0: velocity[vAxis], g });
  }
  for (;;) {
    const { t0: t, z0: z, w0: w } = flights[flights.length - 1];
    if (restTime !== null || (g === 0 && w === 0)) break; // no vertical motion from here on
    if (flights.length > BOUNCING_BALL_MAX_EVENTS) {
      throw new RangeError(
        `bouncingBall: more than ${BOUNCING_BALL_MAX_EVENTS} collisions with floor and ceiling ` +
          `within duration ${duration}; reduce velocity, gravity or duration, or raise restHeight`,
      );
    }
    // Reaches the ceiling iff rising and the apex z + w²/2g lies above it (grazing is no hit).
    if (w > 0 && (g === 0 || z + (w * w) / (2 * g) > 1)) {
      const wHit = Math.sqrt(Math.max(0, w * w - 2 * g * (1 - z)));
      // Root of z + w·τ − gτ²/2 = 1 written without cancellation.
      const tHit = t + (2 * (1 - z)) / (w + wHit);
      if (tHit > duration) break;
      verticalEvents.push({
        t: tHit,
        axis: gravityAxis,
        wall: 1,
        kind: "ceiling",
        before: wHit,
        after: -wHit,
        rest: false,
      });
      flights.push({ t0: tHit, z0: 1, w0: -wHit, g });
      continue;
    }
    // Otherwise it falls to the floor; energy conservation gives the impact speed exactly.
    const wHit = Math.sqrt(w * w + 2 * g * z);
    const tHit = t + (w >= 0 ? (w + wHit) / g : (2 * z) / (wHit - w));
    if (tHit > duration) break;
    let bounce = e * wHit;
    const stops = bounce === 0 || (e < 1 && g > 0 && (bounce * bounce) / (2 * g) < restHeight);
    if (stops) bounce = 0;
    verticalEvents.push({
      t: tHit,
      axis: gravityAxis,
      wall: 0,
      kind: "floor",
      before: -wHit,
      after: bounce,
      rest: stops,
    });
    if (stops) {
      rest(tHit);
      restTime = tHit;
      break;
    }
    flights.push({ t0: tHit, z0: 0, w0: bounce, g });
    if (e === 1 && ++floorBounces === 2) {
      // Elastic: the state at this floor bounce repeats the previous one, so the motion from
      // the first bounce on is periodic; repeating it avoids drift and endless enumeration.
      periodStart = verticalEvents.find((ev) => ev.kind === "floor")!.t;
      period = tHit - periodStart;
      break;
    }
  }
  const periodEnd = periodStart + period;

  /** Maps t into the enumerated range; "before" maps a period boundary to its end, not start. */
  const reduce = (t: number, side: "before" | "after"): number => {
    if (period === 0 || t <= periodEnd) return t;
    const phase = (t - periodStart) % period;
    return side === "before" && phase === 0 ? periodEnd : periodStart + phase;
  };
  /** The flight in progress at t: the last starting at or (for "before") strictly before t. */
  const flightAt = (t: number, side: "before" | "after"): Flight => {
    let lo = 0;
    let hi = flights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const t0 = flights[mid].t0;
      if (side === "after" ? t0 <= t : t0 < t) lo = mid;
      else hi = mid - 1;
    }
    return flights[lo];
  };
  const height = (t: number): number => {
    const tr = reduce(t, "after");
    const f = flightAt(tr, "after");
    const tau = tr - f.t0;
    return f.z0 + f.w0 * tau - 0.5 * f.g * tau * tau;
  };
  const verticalVelocity = (t: number, side: "before" | "after"): number => {
    const tr = reduce(t, side);
    const f = flightAt(tr, side);
    return f.w0 - f.g * (tr - f.t0);
  };

  // --- horizontal motion: uniform, reflected at the side walls ----------------------------------
  const unfolded = (t: number, axis: number) => start[axis] + velocity[axis] * t;

  const at = (t: number): Color => {
    t = checkTime("bouncingBall", t, duration);
    const out = [0, 0, 0] as Color;
    for (let axis = 0; axis < 3; axis++) {
      const x = axis === vAxis ? height(t) : reflectIntoUnit(unfolded(t, axis));
      out[axis] = clampDust(x, "bouncingBall");
    }
    return out;
  };
  const velocityAt = (t: number, side: "before" | "after" = "after"): Vec3 => {
    t = checkTime("bouncingBall", t, duration);
    return [0, 1, 2].map((axis) =>
      axis === vAxis
        ? verticalVelocity(t, side)
        : reflectedVelocity(unfolded(t, axis), velocity[axis], side)
    ) as Vec3;
  };

  let collisionCache: BallCollision[] | undefined;
  const collisions = (): BallCollision[] => {
    if (!collisionCache) {
      const all: BallCollision[] = [...verticalEvents];
      if (period > 0) {
        // Repeat the events of one period, (periodStart, periodEnd], up to the duration.
        const cycle = verticalEvents.filter((ev) => ev.t > periodStart);
        for (let k = 1;; k++) {
          const shifted = cycle.map((ev) => ({ ...ev, t: ev.t + k * period }));
          const inside = shifted.filter((ev) => ev.t <= duration);
          all.push(...inside);
          if (inside.length < shifted.length) break;
          if (all.length > BOUNCING_BALL_MAX_EVENTS) {
            throw new RangeError(
              `bouncingBall: more than ${BOUNCING_BALL_MAX_EVENTS} collisions within duration ` +
                `${duration}; reduce velocity, gravity or duration`,
            );
          }
        }
      }
      for (let axis = 0; axis < 3; axis++) {
        if (axis === vAxis) continue;
        const speed = Math.abs(velocity[axis]);
        for (const hit of wallHits(start[axis], velocity[axis], duration, "bouncingBall")) {
          // Just before a hit the ball moves toward that wall.
          const before = hit.wall === 1 ? speed : -speed;
          all.push({
            t: hit.t,
            axis: AXES[axis],
            wall: hit.wall,
            kind: "wall",
            before,
            after: -before,
            rest: false,
          });
        }
      }
      collisionCache = all.sort((a, b) => a.t - b.t);
    }
    return collisionCache.map((c) => ({ ...c }));
  };

  return {
    name: "bouncingBall",
    params: deepFreeze({
      start: [...start] as Color,
      velocity: [...velocity] as Vec3,
      gravity,
      gravityAxis,
      restitution,
      restHeight,
      duration,
    }),
    duration,
    restTime,
    at,
    velocityAt,
    energyAt(t: number, side: "before" | "after" = "after"): number {
      const v = velocityAt(t, side);
      return 0.5 * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) +
        g * height(checkTime("bouncingBall", t, duration));
    },
    collisions,
    kinks(): number[] {
      const ts = collisions().map((c) => c.t).filter((t) => t > 0 && t < duration);
      return [...new Set(ts)];
    },
  };
}
