/**
 * Brownian motion of a colour: a seeded Gaussian random walk reflected off the cube's faces.
 *
 * @module
 */

import { type Color, cubeColor, reflectIntoUnit } from "./cube.ts";
import { checkTime, type ColorPath, deepFreeze } from "./path.ts";
import { SeededRandom } from "./random.ts";
import { checkColor, checkNumber, checkObject } from "./validate.ts";

/** Most random-walk steps {@link brownian} accepts (3 doubles each are kept in memory). */
export const BROWNIAN_MAX_STEPS = 10_000_000;

/** Parameters of {@link brownian}. */
export interface BrownianOptions {
  /** Colour at t = 0. @default [0.5, 0.5, 0.5] */
  start: Color;
  /**
   * Diffusion scale: each component of the free walk changes by N(0, sigma²·Δt) over a time
   * Δt, i.e. sigma is the standard deviation per unit time^½ in cube side lengths; >= 0.
   *
   * @default 0.4
   */
  sigma: number;
  /**
   * Number of Gaussian steps over the duration; an integer in [1, 10 000 000]. Give `steps` or
   * `dt` (or both, if consistent).
   *
   * @default 1000
   */
  steps: number;
  /** Time per step, duration / steps. @default duration / steps = 0.001 */
  dt: number;
  /** Seed of the random generator; an integer in [0, 2^32 − 1]. @default 0 */
  seed: number;
  /** Length of the time interval; > 0. @default 1 */
  duration: number;
}

/** Defaults of {@link brownian} (`dt` follows from `duration / steps`). */
export const BROWNIAN_DEFAULTS: Readonly<Omit<BrownianOptions, "dt">> = deepFreeze({
  start: [0.5, 0.5, 0.5],
  sigma: 0.4,
  steps: 1000,
  seed: 0,
  duration: 1,
});

/** A path built by {@link brownian}. */
export interface BrownianPath extends ColorPath {
  /** Always `"brownian"`. */
  readonly name: "brownian";
  /** The resolved parameters, including both `steps` and `dt`. */
  readonly params: Readonly<BrownianOptions>;
  /** Times in (0, duration) where the velocity jumps (see {@link ColorPath.kinks}). */
  kinks(): number[];
}

function resolveSteps(options: Partial<BrownianOptions>, duration: number): number {
  const steps = options.steps === undefined
    ? undefined
    : checkNumber("brownian.steps", options.steps, {
      integer: true,
      min: 1,
      max: BROWNIAN_MAX_STEPS,
    });
  if (options.dt === undefined) return steps ?? BROWNIAN_DEFAULTS.steps;
  const dt = checkNumber("brownian.dt", options.dt, { min: 0, minExclusive: true, max: duration });
  const implied = duration / dt;
  const rounded = Math.round(implied);
  if (Math.abs(implied - rounded) > 1e-9 * rounded) {
    throw new RangeError(
      `brownian.dt must divide brownian.duration = ${duration} into a whole number of steps, ` +
        `got dt = ${dt} (duration / dt = ${implied})`,
    );
  }
  if (steps !== undefined && steps !== rounded) {
    throw new RangeError(
      `brownian.steps = ${steps} contradicts brownian.dt = ${dt} with duration ${duration} ` +
        `(which imply ${rounded} steps); give one of them`,
    );
  }
  return checkNumber("brownian.duration / brownian.dt", rounded, {
    integer: true,
    min: 1,
    max: BROWNIAN_MAX_STEPS,
  });
}

/**
 * Reflected Brownian motion: the free walk W_k = start + sigma·√dt·(Z_1 + … + Z_k), with
 * independent standard normals Z from {@link SeededRandom}(seed) (drawn in step order, red,
 * green, blue), is joined by straight segments between step times k·dt and folded into the cube
 * by mirror reflection at its faces. Folding keeps the path continuous, inside the cube, and, far
 * from the faces, identical to the free walk; since Gaussian increments are symmetric, the folded
 * walk has exactly the law of the walk reflected at each face. Same parameters → same path.
 *
 * @throws {TypeError|RangeError} naming the bad field, its value and what is allowed.
 */
export function brownian(options: Partial<BrownianOptions> = {}): BrownianPath {
  const d = BROWNIAN_DEFAULTS;
  checkObject("brownian", options, ["start", "sigma", "steps", "dt", "seed", "duration"]);
  const start = checkColor("brownian.start", options.start ?? d.start);
  const sigma = checkNumber("brownian.sigma", options.sigma ?? d.sigma, { min: 0 });
  const seed = checkNumber("brownian.seed", options.seed ?? d.seed, {
    integer: true,
    min: 0,
    max: 0xffff_ffff,
  });
  const duration = checkNumber("brownian.duration", options.duration ?? d.duration, {
    min: 0,
    minExclusive: true,
  });
  const steps = resolveSteps(options, duration);
  const dt = duration / steps;

  // Unfolded walk at the step times, (steps + 1) × 3, row-major.
  const walk = new Float64Array((steps + 1) * 3);
  walk.set(start);
  const random = new SeededRandom(seed);
  const stepStd = sigma * Math.sqrt(dt);
  for (let k = 1; k <= steps; k++) {
    for (let c = 0; c < 3; c++) {
      walk[k * 3 + c] = walk[(k - 1) * 3 + c] + stepStd * random.nextGaussian();
    }
  }

  return {
    name: "brownian",
    params: deepFreeze({ start: [...start] as Color, sigma, steps, dt, seed, duration }),
    duration,
    at(t: number): Color {
      t = checkTime("brownian", t, duration);
      const k = Math.min(Math.floor(t / dt), steps - 1);
      // f may leave [0, 1] by an ulp when t / dt rounds across an integer; harmless.
      const f = t === duration ? 1 : t / dt - k;
      const a = k * 3;
      const b = a + 3;
      return cubeColor(
        reflectIntoUnit((1 - f) * walk[a] + f * walk[b]),
        reflectIntoUnit((1 - f) * walk[a + 1] + f * walk[b + 1]),
        reflectIntoUnit((1 - f) * walk[a + 2] + f * walk[b + 2]),
        "brownian",
      );
    },
    kinks(): number[] {
      // Step times, plus the instants a segment crosses a face (where the fold bends it).
      const out: number[] = [];
      for (let k = 0; k < steps; k++) {
        const t0 = k * dt;
        if (k > 0) out.push(t0);
        const local: number[] = [];
        for (let c = 0; c < 3; c++) {
          const u0 = walk[k * 3 + c];
          const u1 = walk[(k + 1) * 3 + c];
          for (let w = Math.floor(Math.min(u0, u1)) + 1; w < Math.max(u0, u1); w++) {
            local.push(t0 + ((w - u0) / (u1 - u0)) * dt);
          }
        }
        out.push(...local.filter((t) => t > t0 && t < t0 + dt).sort((x, y) => x - y));
      }
      return out;
    },
  };
}
