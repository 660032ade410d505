/**
 * Geometry of the unit RGB cube [0, 1]^3 shared by every colour path: the colour and vector
 * types, the float-dust guard, and the triangle-wave "unfolding" that turns straight motion in
 * free space into motion reflected specularly off the cube's faces.
 *
 * Reflection by unfolding: a point moving freely along one axis at unfolded coordinate `u` sits
 * at `reflectIntoUnit(u)` inside [0, 1] when every wall it meets reflects it. Walls sit at the
 * integers of `u`: even integers are the 0 face, odd integers the 1 face. Because the three axes
 * unfold independently, a corner or edge hit simply reverses every component that hits at that
 * instant, which is the continuous limit of hitting the faces one after the other.
 *
 * @module
 */

/** An RGB colour; every component lies in [0, 1]. */
export type Color = [number, number, number];

/** A vector in RGB space (velocity, direction); components are unbounded finite numbers. */
export type Vec3 = [number, number, number];

/** Channel names in axis order; axis 0 is red, 1 green, 2 blue. */
export const AXES = ["r", "g", "b"] as const;

/** One of the cube's axes by channel name. */
export type Axis = typeof AXES[number];

/**
 * How far a computed colour component may stray outside [0, 1] and still be treated as rounding
 * error (then clamped). Anything further is a bug in the path and throws.
 */
export const FLOAT_DUST = 1e-12;

/**
 * Snaps float dust (at most {@link FLOAT_DUST} outside [0, 1]) back onto the cube.
 *
 * @param what names the computation for the error message
 * @throws {Error} if `x` is NaN or further outside [0, 1]: the path computed a wrong colour.
 */
export function clampDust(x: number, what: string): number {
  if (x >= 0 && x <= 1) return x;
  if (x < 0 && x >= -FLOAT_DUST) return 0;
  if (x > 1 && x <= 1 + FLOAT_DUST) return 1;
  throw new Error(`internal error: ${what} left the unit cube (component ${x})`);
}

/** Applies {@link clampDust} to the three components. */
export function cubeColor(r: number, g: number, b: number, what: string): Color {
  return [clampDust(r, what), clampDust(g, what), clampDust(b, what)];
}

/**
 * Position in [0, 1] of a point at unfolded coordinate `u` reflected between walls at 0 and 1:
 * the triangle wave with period 2 that is the identity on [0, 1].
 */
export function reflectIntoUnit(u: number): number {
  const y = u - 2 * Math.floor(u / 2);
  return y <= 1 ? y : 2 - y;
}

/**
 * d reflectIntoUnit / du just after `u` (right limit): +1 on [2k, 2k+1), -1 on [2k+1, 2k+2).
 * Multiplying the unfolded velocity by it gives the reflected velocity after a wall hit at `u`.
 */
export function reflectSlopeAfter(u: number): 1 | -1 {
  const y = u - 2 * Math.floor(u / 2);
  return y < 1 ? 1 : -1;
}

/** d reflectIntoUnit / du just before `u` (left limit): +1 on (2k, 2k+1], -1 on (2k+1, 2k+2]. */
export function reflectSlopeBefore(u: number): 1 | -1 {
  const y = u - 2 * Math.floor(u / 2);
  return y > 0 && y <= 1 ? 1 : -1;
}

/**
 * Velocity along one axis of the reflected motion whose unfolded coordinate is `u` and unfolded
 * velocity `v`: the time limit just before or just after the current instant, so at a wall hit
 * `"before"` is the incoming and `"after"` the outgoing velocity. (Which side of `u` is earlier in
 * time depends on the sign of `v`.)
 */
export function reflectedVelocity(u: number, v: number, side: "before" | "after"): number {
  if (v === 0) return 0;
  // A hit time computed as (wall − x0) / v lands u within an ulp or so of the wall, on either
  // side; snapping keeps "before"/"after" at that time the incoming/outgoing velocity.
  const wall = Math.round(u);
  if (Math.abs(u - wall) <= FLOAT_DUST * Math.max(1, Math.abs(u))) u = wall;
  const towardLargerU = (side === "after") === (v > 0);
  return v * (towardLargerU ? reflectSlopeAfter(u) : reflectSlopeBefore(u));
}

/** A wall hit of straight motion along one axis. */
export interface WallHit {
  /** Time of the hit. */
  t: number;
  /** Which face: the 0 face or the 1 face of this axis. */
  wall: 0 | 1;
}

/**
 * Wall hits in [0, tEnd] of the reflected motion whose unfolded coordinate is `x0 + v t`
 * (`x0` in [0, 1]). A start on a face with velocity pointing out of the cube counts as a hit at
 * t = 0; leaving a face does not.
 *
 * @param maxHits guards against absurd speed × duration; exceeded → RangeError naming `what`
 */
export function wallHits(
  x0: number,
  v: number,
  tEnd: number,
  what: string,
  maxHits = 1_000_000,
): WallHit[] {
  const hits: WallHit[] = [];
  if (v === 0) return hits;
  // Moving up, the walls met are unfolded integers 1, 2, 3, ...; moving down, 0, -1, -2, ...
  // (x0 = 1 moving up and x0 = 0 moving down hit at t = 0, as they must).
  const step = v > 0 ? 1 : -1;
  for (let k = v > 0 ? 1 : 0;; k += step) {
    const t = (k - x0) / v;
    if (t > tEnd) break;
    if (hits.length >= maxHits) {
      throw new RangeError(
        `${what}: more than ${maxHits} wall reflections within the duration; ` +
          `reduce the speed or the duration`,
      );
    }
    hits.push({ t: t === 0 ? 0 : t, wall: Math.abs(k) % 2 === 0 ? 0 : 1 }); // no -0 in JSON-bound data
  }
  return hits;
}

/** Euclidean norm of a 3-vector. */
export function norm3(v: readonly number[]): number {
  return Math.hypot(v[0], v[1], v[2]);
}
