/**
 * Light reflecting between mirrors: a ray inside the RGB cube whose six faces are perfect
 * mirrors.
 *
 * @module
 */

import {
  AXES,
  type Axis,
  type Color,
  cubeColor,
  norm3,
  reflectedVelocity,
  reflectIntoUnit,
  type Vec3,
  wallHits,
} from "./cube.ts";
import { checkTime, type ColorPath, deepFreeze } from "./path.ts";
import { checkColor, checkNumber, checkObject, checkVector } from "./validate.ts";

/** Parameters of {@link mirrorReflection}. */
export interface MirrorReflectionOptions {
  /** Colour at t = 0. @default [0.1, 0.2, 0.3] */
  start: Color;
  /**
   * Initial direction of travel; any non-zero vector (only its direction matters).
   *
   * @default [1, 1.4142135623730951, 1.7320508075688772] (1 : √2 : √3, so the ray never
   *   retraces itself and fills the cube densely over time)
   */
  direction: Vec3;
  /** Path length travelled per unit time, in cube side lengths; >= 0. @default 3 */
  speed: number;
  /** Length of the time interval; > 0. @default 1 */
  duration: number;
}

/** Defaults of {@link mirrorReflection}. */
export const MIRROR_REFLECTION_DEFAULTS: Readonly<MirrorReflectionOptions> = deepFreeze({
  start: [0.1, 0.2, 0.3],
  direction: [1, Math.SQRT2, Math.sqrt(3)],
  speed: 3,
  duration: 1,
});

/** One reflection of the ray off a face of the cube. */
export interface MirrorHit {
  /** Time of the reflection. */
  t: number;
  /** The axis normal to the face. */
  axis: Axis;
  /** Which face: value of that axis on it. */
  wall: 0 | 1;
}

/** A path built by {@link mirrorReflection}. */
export interface MirrorReflectionPath extends ColorPath {
  /** Always `"mirrorReflection"`. */
  readonly name: "mirrorReflection";
  /** The resolved parameters (`direction` as given, not normalised). */
  readonly params: Readonly<MirrorReflectionOptions>;
  /**
   * Velocity of the ray at `t`; at a reflection instant `side` picks the incoming (`"before"`)
   * or outgoing (`"after"`, default) velocity. Its length is always `speed`.
   */
  velocityAt(t: number, side?: "before" | "after"): Vec3;
  /** Every face reflection in [0, duration], by time; a corner hit lists one entry per axis. */
  reflections(): MirrorHit[];
  /** Times in (0, duration) where the velocity jumps (see {@link ColorPath.kinks}). */
  kinks(): number[];
}

/**
 * Straight flight at constant `speed` along `direction`, reflecting specularly off the cube's
 * faces: at a face the velocity component normal to it reverses and the others are unchanged,
 * so the angle of incidence equals the angle of reflection and the speed never changes.
 * Computed in closed form by unfolding each axis into a triangle wave, so it is exact at any time
 * with no step size. An edge or corner hit reverses two or three components at once (the
 * continuous limit of nearby face hits; a corner sends the ray straight back). Along an axis the
 * motion is periodic with period 2 / |v_axis|, so a direction with rational component ratios
 * gives a closed orbit.
 *
 * @throws {TypeError|RangeError} naming the bad field, its value and what is allowed.
 */
export function mirrorReflection(
  options: Partial<MirrorReflectionOptions> = {},
): MirrorReflectionPath {
  const d = MIRROR_REFLECTION_DEFAULTS;
  checkObject("mirrorReflection", options, ["start", "direction", "speed", "duration"]);
  const start = checkColor("mirrorReflection.start", options.start ?? d.start);
  const direction = checkVector("mirrorReflection.direction", options.direction ?? d.direction);
  const length = norm3(direction);
  if (!(length > 0) || !Number.isFinite(length)) {
    throw new RangeError(
      `mirrorReflection.direction must be a non-zero vector of finite length, got [${direction}]`,
    );
  }
  const speed = checkNumber("mirrorReflection.speed", options.speed ?? d.speed, { min: 0 });
  const duration = checkNumber("mirrorReflection.duration", options.duration ?? d.duration, {
    min: 0,
    minExclusive: true,
  });
  const velocity = direction.map((c) => (c / length) * speed) as Vec3;
  const unfolded = (t: number, axis: number) => start[axis] + velocity[axis] * t;

  return {
    name: "mirrorReflection",
    params: deepFreeze({
      start: [...start] as Color,
      direction: [...direction] as Vec3,
      speed,
      duration,
    }),
    duration,
    at(t: number): Color {
      t = checkTime("mirrorReflection", t, duration);
      return cubeColor(
        reflectIntoUnit(unfolded(t, 0)),
        reflectIntoUnit(unfolded(t, 1)),
        reflectIntoUnit(unfolded(t, 2)),
        "mirrorReflection",
      );
    },
    velocityAt(t: number, side: "before" | "after" = "after"): Vec3 {
      t = checkTime("mirrorReflection", t, duration);
      return velocity.map((v, axis) => reflectedVelocity(unfolded(t, axis), v, side)) as Vec3;
    },
    reflections(): MirrorHit[] {
      const hits: MirrorHit[] = [];
      for (let axis = 0; axis < 3; axis++) {
        for (const h of wallHits(start[axis], velocity[axis], duration, "mirrorReflection")) {
          hits.push({ t: h.t, axis: AXES[axis], wall: h.wall });
        }
      }
      return hits.sort((a, b) => a.t - b.t);
    },
    kinks(): number[] {
      const ts = this.reflections().map((h) => h.t).filter((t) => t > 0 && t < duration);
      return [...new Set(ts)];
    },
  };
}
