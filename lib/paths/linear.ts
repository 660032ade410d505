/**
 * The straight segment between two colours, travelled at constant speed.
 *
 * @module
 */

import { type Color, cubeColor } from "./cube.ts";
import { checkTime, type ColorPath, deepFreeze } from "./path.ts";
import { checkColor, checkNumber, checkObject } from "./validate.ts";

/** Parameters of {@link linear}. */
export interface LinearOptions {
  /** Colour at t = 0. @default [0, 0, 0] */
  from: Color;
  /** Colour at t = duration. @default [1, 1, 1] */
  to: Color;
  /** Length of the time interval; > 0. @default 1 */
  duration: number;
}

/** Defaults of {@link linear}: black to white along the grey diagonal. */
export const LINEAR_DEFAULTS: Readonly<LinearOptions> = Object.freeze({
  from: Object.freeze([0, 0, 0]) as unknown as Color,
  to: Object.freeze([1, 1, 1]) as unknown as Color,
  duration: 1,
});

/** A path built by {@link linear}. */
export interface LinearPath extends ColorPath {
  /** Always `"linear"`. */
  readonly name: "linear";
  /** The resolved parameters. */
  readonly params: Readonly<LinearOptions>;
}

/**
 * Straight line from `from` to `to` at constant speed: colour(t) = from + (to − from)·t/duration.
 * The cube is convex, so the segment never leaves it.
 *
 * @throws {TypeError|RangeError} naming the bad field, its value and what is allowed.
 */
export function linear(options: Partial<LinearOptions> = {}): LinearPath {
  checkObject("linear", options, ["from", "to", "duration"]);
  const from = checkColor("linear.from", options.from ?? LINEAR_DEFAULTS.from);
  const to = checkColor("linear.to", options.to ?? LINEAR_DEFAULTS.to);
  const duration = checkNumber("linear.duration", options.duration ?? LINEAR_DEFAULTS.duration, {
    min: 0,
    minExclusive: true,
  });
  return {
    name: "linear",
    params: deepFreeze({ from: [...from], to: [...to], duration }),
    duration,
    at(t: number): Color {
      const s = checkTime("linear", t, duration) / duration;
      // (1−s)·a + s·b hits both endpoints exactly.
      return cubeColor(
        (1 - s) * from[0] + s * to[0],
        (1 - s) * from[1] + s * to[1],
        (1 - s) * from[2] + s * to[2],
        "linear",
      );
    },
  };
}
