/**
 * Turning a continuous colour path into a finite list of colours: equally spaced in time, or
 * equally spaced along the curve (arc length) so that a fast stretch of the path is not skipped
 * over and a resting stretch does not repeat the same colour.
 *
 * Arc length is measured on a polyline through the path at `resolution` equal time steps plus
 * every kink the path reports ({@link ColorPath.kinks}); its error on smooth stretches falls as
 * 1/resolution², and kinks are exact. Everything is deterministic.
 *
 * @module
 */

import type { Color } from "./cube.ts";
import type { ColorPath } from "./path.ts";
import { checkNumber } from "./validate.ts";

/** One sampled point of a path. */
export interface PathSample {
  /** Path time of the sample, in [0, duration]. */
  t: number;
  /** The path's colour at `t`. */
  color: Color;
}

/** Fewest polyline segments {@link sampleArcLength} uses by default. */
export const DEFAULT_ARC_RESOLUTION = 8192;

/** Polyline segments per requested sample interval {@link sampleArcLength} uses at least. */
export const ARC_SEGMENTS_PER_SAMPLE = 64;

/** Options of {@link sampleArcLength}. */
export interface ArcLengthOptions {
  /**
   * Number of equal time steps of the measuring polyline (kinks are added on top).
   *
   * @default max(8192, 64 × (count − 1))
   */
  resolution?: number;
}

/** A polyline approximation of a path with its cumulative arc length. */
export interface ArcLengthTable {
  /** Polyline vertex times, ascending, from 0 to duration inclusive. */
  times: Float64Array;
  /** Cumulative length from t = 0 to each vertex; `lengths[0] = 0`. */
  lengths: Float64Array;
  /** Total length (the last entry of `lengths`). */
  length: number;
}

function checkCount(count: number): number {
  return checkNumber("count", count, { integer: true, min: 1 });
}

/**
 * `count` samples at equally spaced times; the first at t = 0, the last at exactly t = duration
 * (a single sample is at t = 0).
 */
export function sampleUniformTime(path: ColorPath, count: number): PathSample[] {
  checkCount(count);
  const out: PathSample[] = [];
  for (let i = 0; i < count; i++) {
    const t = i === count - 1 && count > 1 ? path.duration : (path.duration * i) / (count - 1 || 1);
    out.push({ t, color: path.at(t) });
  }
  return out;
}

/**
 * Measures the path on a polyline with `resolution` equal time steps plus the path's kinks.
 */
export function arcLengthTable(
  path: ColorPath,
  resolution = DEFAULT_ARC_RESOLUTION,
): ArcLengthTable {
  checkNumber("resolution", resolution, { integer: true, min: 1 });
  const duration = path.duration;
  const kinks = path.kinks?.() ?? [];
  const times: number[] = [];
  let k = 0;
  for (let i = 0; i <= resolution; i++) {
    const grid = i === resolution ? duration : (duration * i) / resolution;
    while (k < kinks.length && kinks[k] <= grid) {
      const kink = kinks[k++];
      if (kink > times[times.length - 1] && kink < duration) times.push(kink);
    }
    if (times.length === 0 || grid > times[times.length - 1]) times.push(grid);
  }
  const t = Float64Array.from(times);
  const lengths = new Float64Array(t.length);
  let prev = path.at(t[0]);
  for (let i = 1; i < t.length; i++) {
    const c = path.at(t[i]);
    lengths[i] = lengths[i - 1] + Math.hypot(c[0] - prev[0], c[1] - prev[1], c[2] - prev[2]);
    prev = c;
  }
  return { times: t, lengths, length: lengths[lengths.length - 1] };
}

/** Arc length of the whole path (see {@link arcLengthTable} for the method). */
export function pathLength(path: ColorPath, resolution = DEFAULT_ARC_RESOLUTION): number {
  return arcLengthTable(path, resolution).length;
}

/**
 * `count` samples equally spaced in arc length: sample i sits where the measured length from the
 * start is i/(count − 1) of the total. The first is at t = 0 and the last at exactly
 * t = duration. Between polyline vertices the time is interpolated linearly in length. A path of
 * zero length (e.g. Brownian motion with sigma 0) falls back to {@link sampleUniformTime}.
 */
export function sampleArcLength(
  path: ColorPath,
  count: number,
  options: ArcLengthOptions = {},
): PathSample[] {
  checkCount(count);
  const resolution = options.resolution ??
    Math.max(DEFAULT_ARC_RESOLUTION, ARC_SEGMENTS_PER_SAMPLE * (count - 1));
  const { times, lengths, length } = arcLengthTable(path, resolution);
  if (!(length > 0)) return sampleUniformTime(path, count);
  const out: PathSample[] = [];
  let j = 1;
  for (let i = 0; i < count; i++) {
    let t: number;
    if (i === 0) t = 0;
    else if (i === count - 1) t = path.duration;
    else {
      const s = (length * i) / (count - 1);
      // Targets increase, so the segment search only moves forward; the first vertex reaching s
      // ends a segment of positive length.
      while (lengths[j] < s) j++;
      const f = (s - lengths[j - 1]) / (lengths[j] - lengths[j - 1]);
      t = times[j - 1] + f * (times[j] - times[j - 1]);
    }
    out.push({ t, color: path.at(t) });
  }
  return out;
}
