/**
 * Building any colour path from a plain JSON spec `{ type, ...params }`, with the list of types
 * and their defaults for schema wrappers (zod) and documentation.
 *
 * @module
 */

import { BOUNCING_BALL_DEFAULTS, bouncingBall, type BouncingBallOptions } from "./bouncing_ball.ts";
import { brownian, BROWNIAN_DEFAULTS, type BrownianOptions } from "./brownian.ts";
import { keyframes, KEYFRAMES_DEFAULTS, type KeyframesOptions } from "./keyframes.ts";
import { linear, LINEAR_DEFAULTS, type LinearOptions } from "./linear.ts";
import {
  MIRROR_REFLECTION_DEFAULTS,
  mirrorReflection,
  type MirrorReflectionOptions,
} from "./mirror.ts";
import type { ColorPath } from "./path.ts";
import { checkOneOf, describeValue } from "./validate.ts";

/** Every path type {@link createPath} knows. */
export const PATH_TYPES = [
  "bouncingBall",
  "mirrorReflection",
  "brownian",
  "linear",
  "keyframes",
] as const;

/** One of {@link PATH_TYPES}. */
export type PathType = typeof PATH_TYPES[number];

/** Parameters of each path type; every field is optional in a spec. */
export interface PathOptionsByType {
  /** See {@link bouncingBall}. */
  bouncingBall: BouncingBallOptions;
  /** See {@link mirrorReflection}. */
  mirrorReflection: MirrorReflectionOptions;
  /** See {@link brownian}. */
  brownian: BrownianOptions;
  /** See {@link linear}. */
  linear: LinearOptions;
  /** See {@link keyframes}. */
  keyframes: KeyframesOptions;
}

/** A path spec: its type plus any of that type's parameters (the rest take their defaults). */
export type PathSpec = {
  [K in PathType]: { type: K } & Partial<PathOptionsByType[K]>;
}[PathType];

/**
 * Default parameters of each path type, deeply frozen. `brownian` has no `dt` here because it
 * follows from `duration / steps`.
 */
export const PATH_DEFAULTS: {
  readonly [K in PathType]: Readonly<Partial<PathOptionsByType[K]>>;
} = Object.freeze({
  bouncingBall: BOUNCING_BALL_DEFAULTS,
  mirrorReflection: MIRROR_REFLECTION_DEFAULTS,
  brownian: BROWNIAN_DEFAULTS,
  linear: LINEAR_DEFAULTS,
  keyframes: KEYFRAMES_DEFAULTS,
});

/** A mutable deep copy of one type's defaults, e.g. as a starting point for a spec. */
export function defaultParams<K extends PathType>(type: K): Partial<PathOptionsByType[K]> {
  return structuredClone(PATH_DEFAULTS[type]) as Partial<PathOptionsByType[K]>;
}

/**
 * Builds the path a spec describes, after validating every field. The path's `name` and `params`
 * recreate it: `createPath({ type: path.name, ...path.params })`.
 *
 * @throws {TypeError} if the spec is not an object, `type` is not a string, a field has the wrong
 *   JavaScript type, or a field is unknown to that type.
 * @throws {RangeError} if `type` is unknown or a number is NaN, infinite or out of range; the
 *   message names the field (e.g. `bouncingBall.restitution`), the value and what is allowed.
 */
export function createPath(spec: PathSpec): ColorPath {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw new TypeError(
      `path spec must be an object with a "type" field, got ${describeValue(spec)}`,
    );
  }
  const { type, ...params } = spec as { type: unknown } & Record<string, unknown>;
  switch (checkOneOf("path spec type", type, PATH_TYPES)) {
    case "bouncingBall":
      return bouncingBall(params);
    case "mirrorReflection":
      return mirrorReflection(params);
    case "brownian":
      return brownian(params);
    case "linear":
      return linear(params);
    case "keyframes":
      return keyframes(params);
  }
}
