/**
 * The contract every colour path fulfils: a continuous map from path time [0, duration] into the
 * RGB cube, plus the resolved parameters that recreate it.
 *
 * @module
 */

import type { Color } from "./cube.ts";
import { FLOAT_DUST } from "./cube.ts";

/**
 * A continuous curve t ↦ colour in [0, 1]^3 for t in [0, duration].
 *
 * Round trip: `createPath({ type: path.name, ...path.params })` rebuilds an identical path, so
 * `name` and `params` are what a manifest should record.
 */
export interface ColorPath {
  /** The path type, e.g. `"bouncingBall"`. */
  readonly name: string;
  /** Every parameter after defaults were applied; plain JSON (numbers, strings, arrays). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Length of the time interval, in the path's own time unit; > 0. */
  readonly duration: number;
  /**
   * The colour at time `t`, each component in [0, 1].
   *
   * @throws {RangeError} if `t` is not a finite number in [0, duration] (float dust of
   *   1e-12 × max(1, duration) beyond either end is tolerated and snapped to the end).
   */
  at(t: number): Color;
  /**
   * Times in (0, duration) where the velocity may jump (reflections, bounces, random-walk
   * steps, keyframes), sorted ascending. Arc-length sampling adds them to its polyline so corners
   * are not cut. Optional: without it only the uniform polyline is used.
   */
  kinks?(): readonly number[];
}

/**
 * Validates a query time for `path.at` and snaps float dust at either end.
 *
 * @throws {RangeError} naming the path, the value and the allowed interval.
 */
export function checkTime(name: string, t: number, duration: number): number {
  if (typeof t !== "number" || !Number.isFinite(t)) {
    throw new RangeError(`${name}.at: t must be a finite number in [0, ${duration}], got ${t}`);
  }
  if (t >= 0 && t <= duration) return t;
  const dust = FLOAT_DUST * Math.max(1, duration);
  if (t < 0 && t >= -dust) return 0;
  if (t > duration && t <= duration + dust) return duration;
  throw new RangeError(`${name}.at: t must be in [0, ${duration}], got ${t}`);
}

/**
 * Freezes a parameter record and everything inside it, so a manifest writer (or anyone else)
 * cannot alter what a path reports it was built from.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
