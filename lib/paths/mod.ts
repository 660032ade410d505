/**
 * Colour paths through the RGB cube [0, 1]^3: the physical paths of the paper (a bouncing ball,
 * light reflecting between mirrors, Brownian motion), user paths (straight line, keyframes), a
 * validating factory for JSON specs, and samplers that turn a path into a list of colours evenly
 * spaced in time or in arc length.
 *
 * ```ts
 * import { createPath, sampleArcLength } from "./mod.ts";
 * const path = createPath({ type: "bouncingBall", restitution: 0.8 });
 * const frames = sampleArcLength(path, 60); // [{ t, color: [r, g, b] }, ...]
 * ```
 *
 * @module
 */

export type { Axis, Color, Vec3 } from "./cube.ts";
export { AXES, FLOAT_DUST, reflectIntoUnit } from "./cube.ts";
export type { ColorPath } from "./path.ts";
export {
  ARC_SEGMENTS_PER_SAMPLE,
  type ArcLengthOptions,
  type ArcLengthTable,
  arcLengthTable,
  DEFAULT_ARC_RESOLUTION,
  pathLength,
  type PathSample,
  sampleArcLength,
  sampleUniformTime,
} from "./sample.ts";
export {
  type BallCollision,
  BOUNCING_BALL_DEFAULTS,
  BOUNCING_BALL_MAX_EVENTS,
  BOUNCING_BALL_MAX_MAGNITUDE,
  bouncingBall,
  type BouncingBallOptions,
  type BouncingBallPath,
} from "./bouncing_ball.ts";
export {
  MIRROR_REFLECTION_DEFAULTS,
  type MirrorHit,
  mirrorReflection,
  type MirrorReflectionOptions,
  type MirrorReflectionPath,
} from "./mirror.ts";
export {
  brownian,
  BROWNIAN_DEFAULTS,
  BROWNIAN_MAX_STEPS,
  type BrownianOptions,
  type BrownianPath,
} from "./brownian.ts";
export { linear, LINEAR_DEFAULTS, type LinearOptions, type LinearPath } from "./linear.ts";
export {
  type Keyframe,
  KEYFRAME_INTERPOLATIONS,
  type KeyframeInterpolation,
  keyframes,
  KEYFRAMES_DEFAULTS,
  type KeyframesOptions,
  type KeyframesPath,
} from "./keyframes.ts";
export {
  createPath,
  defaultParams,
  PATH_DEFAULTS,
  PATH_TYPES,
  type PathOptionsByType,
  type PathSpec,
  type PathType,
} from "./factory.ts";
export { SeededRandom } from "./random.ts";
