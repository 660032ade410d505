/**
 * User-drawn paths: colours pinned at given times, joined by straight segments or by a
 * Catmull–Rom spline.
 *
 * @module
 */

import { type Color, cubeColor } from "./cube.ts";
import { checkTime, type ColorPath, deepFreeze } from "./path.ts";
import { checkColor, checkNumber, checkObject, checkOneOf, describeValue } from "./validate.ts";

/** Interpolation between keyframes. */
export const KEYFRAME_INTERPOLATIONS = ["linear", "catmull-rom"] as const;

/** One of {@link KEYFRAME_INTERPOLATIONS}. */
export type KeyframeInterpolation = typeof KEYFRAME_INTERPOLATIONS[number];

/** A colour pinned at a path time. */
export interface Keyframe {
  /** Path time; the first keyframe is at 0 and times strictly increase. */
  t: number;
  /** Colour at `t`. */
  color: Color;
}

/** Parameters of {@link keyframes}. */
export interface KeyframesOptions {
  /**
   * At least two keyframes; the first at t = 0, times strictly increasing; the last time is the
   * path's duration.
   *
   * @default grey → red → green → blue → grey at t = 0, 0.25, 0.5, 0.75, 1
   */
  points: Keyframe[];
  /** How to join the keyframes. @default "catmull-rom" */
  interpolation: KeyframeInterpolation;
}

/** Defaults of {@link keyframes}: a closed loop from mid grey through red, green and blue. */
export const KEYFRAMES_DEFAULTS: Readonly<KeyframesOptions> = deepFreeze({
  points: [
    { t: 0, color: [0.5, 0.5, 0.5] },
    { t: 0.25, color: [0.9, 0.2, 0.2] },
    { t: 0.5, color: [0.2, 0.9, 0.2] },
    { t: 0.75, color: [0.2, 0.2, 0.9] },
    { t: 1, color: [0.5, 0.5, 0.5] },
  ],
  interpolation: "catmull-rom",
});

/** A path built by {@link keyframes}. */
export interface KeyframesPath extends ColorPath {
  /** Always `"keyframes"`. */
  readonly name: "keyframes";
  /** The resolved parameters. */
  readonly params: Readonly<KeyframesOptions>;
  /** Times in (0, duration) where the velocity jumps (see {@link ColorPath.kinks}). */
  kinks(): number[];
}

function checkPoints(value: unknown): Keyframe[] {
  const field = "keyframes.points";
  if (!Array.isArray(value)) {
    throw new TypeError(`${field} must be an array of {t, color}, got ${describeValue(value)}`);
  }
  if (value.length < 2) {
    throw new RangeError(`${field} must hold at least 2 keyframes, got ${value.length}`);
  }
  const points: Keyframe[] = value.map((p, i) => {
    const obj = checkObject(`${field}[${i}]`, p, ["t", "color"]);
    return {
      t: checkNumber(`${field}[${i}].t`, obj.t, { min: 0 }),
      color: checkColor(`${field}[${i}].color`, obj.color),
    };
  });
  if (points[0].t !== 0) {
    throw new RangeError(`${field}[0].t must be 0 (paths start at t = 0), got ${points[0].t}`);
  }
  for (let i = 1; i < points.length; i++) {
    if (!(points[i].t > points[i - 1].t)) {
      throw new RangeError(
        `${field}[${i}].t must be greater than ${field}[${i - 1}].t = ${points[i - 1].t} ` +
          `(times strictly increase), got ${points[i].t}`,
      );
    }
  }
  return points;
}

/**
 * Path through keyframes. `"linear"` joins them with straight segments (always inside the
 * cube). `"catmull-rom"` is the C¹ cubic Hermite spline with Catmull–Rom tangents for uneven
 * spacing, m_i = (p_{i+1} − p_{i−1}) / (t_{i+1} − t_{i−1}) and one-sided differences at the two
 * ends; it passes through every keyframe, and where it overshoots the cube each component is
 * clamped into [0, 1] (by design, not as float-dust handling).
 *
 * @throws {TypeError|RangeError} naming the bad field, its value and what is allowed.
 */
export function keyframes(options: Partial<KeyframesOptions> = {}): KeyframesPath {
  checkObject("keyframes", options, ["points", "interpolation"]);
  const points = checkPoints(options.points ?? KEYFRAMES_DEFAULTS.points);
  const interpolation = checkOneOf(
    "keyframes.interpolation",
    options.interpolation ?? KEYFRAMES_DEFAULTS.interpolation,
    KEYFRAME_INTERPOLATIONS,
  );
  const n = points.length;
  const times = points.map((p) => p.t);
  const colors = points.map((p) => p.color);
  const duration = times[n - 1];
  const tangents: Color[] = colors.map((_, i) => {
    const a = Math.max(0, i - 1);
    const b = Math.min(n - 1, i + 1);
    const dt = times[b] - times[a];
    return [0, 1, 2].map((c) => (colors[b][c] - colors[a][c]) / dt) as Color;
  });

  const segmentOf = (t: number): number => {
    // Last keyframe with time <= t, capped so t = duration uses the final segment.
    let lo = 0;
    let hi = n - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (times[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  return {
    name: "keyframes",
    params: deepFreeze({
      points: points.map((p) => ({ t: p.t, color: [...p.color] as Color })),
      interpolation,
    }),
    duration,
    at(t: number): Color {
      t = checkTime("keyframes", t, duration);
      const i = segmentOf(t);
      const h = times[i + 1] - times[i];
      const s = (t - times[i]) / h;
      const p0 = colors[i];
      const p1 = colors[i + 1];
      if (interpolation === "linear") {
        return cubeColor(
          (1 - s) * p0[0] + s * p1[0],
          (1 - s) * p0[1] + s * p1[1],
          (1 - s) * p0[2] + s * p1[2],
          "keyframes",
        );
      }
      const s2 = s * s;
      const s3 = s2 * s;
      const h00 = 2 * s3 - 3 * s2 + 1;
      const h10 = (s3 - 2 * s2 + s) * h;
      const h01 = -2 * s3 + 3 * s2;
      const h11 = (s3 - s2) * h;
      const m0 = tangents[i];
      const m1 = tangents[i + 1];
      const out = [0, 0, 0] as Color;
      for (let c = 0; c < 3; c++) {
        const v = h00 * p0[c] + h10 * m0[c] + h01 * p1[c] + h11 * m1[c];
        out[c] = Math.min(1, Math.max(0, v));
      }
      return out;
    },
    kinks: () => times.slice(1, -1),
  };
}
