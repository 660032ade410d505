/**
 * Planning: turns a resolved spec into the list of frames to render (index, seed, path time,
 * colour, effective injection) and groups the frames still to compute into sampler calls.
 *
 * A multi-seed spec (`seeds`) is a grid: every seed crossed with every frame of the path or list
 * (its "colours", the grid's columns). Frames are ordered seed-major — all colours of the first
 * seed, then all of the second … — so frame `index = seedIndex × colours + colorIndex`, and the
 * path is walked once per seed. A single-seed run is the grid of one row.
 *
 * @module
 */

import {
  type Injection,
  isMultiSeed,
  type PathSpec,
  type ResolvedExperiment,
  runSeeds,
} from "./spec.ts";

/** An RGB colour in [0, 1]. */
export type Rgb = [number, number, number];

/** The parts of a colour path the planner uses (see `ColorPath` in `lib/paths`). */
export interface PlanPath {
  /** Length of the path's time interval. */
  readonly duration: number;
  /** Colour at time t. */
  at(t: number): readonly number[];
}

/** Path functions from `lib/paths`, injected so planning is testable on its own. */
export interface PathApi {
  /** Builds a path from its spec. */
  createPath(spec: PathSpec): PlanPath;
  /** `count` points evenly spaced in time. */
  sampleUniformTime(path: PlanPath, count: number): { t: number; color: readonly number[] }[];
  /** `count` points evenly spaced in arc length. */
  sampleArcLength(path: PlanPath, count: number): { t: number; color: readonly number[] }[];
}

/** One frame of a run. */
export interface PlannedFrame {
  /** Position in the run, 0-based: `seedIndex × colours + colorIndex`. */
  index: number;
  /** Seed of the frame's initial noise, as a decimal string (part of its content key). */
  seed: string;
  /** Position of the seed in the spec's seeds (grid row); 0 in a single-seed run. */
  seedIndex: number;
  /** Position of the frame's colour in the path or list (grid column); = index for one seed. */
  colorIndex: number;
  /** Time on the path, or null for a colour given explicitly without a time. */
  t: number | null;
  /** The injected colour. */
  color: Rgb;
  /** Injection for this frame (spec-wide settings with the frame's overrides applied). */
  injection: Injection;
  /** Label from the spec, if any. */
  label?: string;
}

function rgb(color: readonly number[]): Rgb {
  return [color[0], color[1], color[2]];
}

/** A frame of the path or list, before it is crossed with the seeds. */
type ColorFrame = Omit<PlannedFrame, "seed" | "seedIndex" | "colorIndex">;

/** Lists every frame of the spec in order: each seed's frames in turn (seed-major). */
export function planFrames(spec: ResolvedExperiment, paths: PathApi): PlannedFrame[] {
  const colors = planColors(spec, paths);
  return runSeeds(spec).flatMap((seed, seedIndex) =>
    colors.map((frame) => ({
      ...frame,
      index: seedIndex * colors.length + frame.index,
      seed,
      seedIndex,
      colorIndex: frame.index,
      // Each frame owns its injection (the manifest lists it per frame).
      injection: {
        ...frame.injection,
        window: [frame.injection.window[0], frame.injection.window[1]],
      },
    }))
  );
}

/** The (seed, colour) layout of a run's frames: rows are seeds, columns colours. */
export interface SeedGrid {
  /** The seeds, decimal, in row order. */
  seeds: string[];
  /** Colours per seed (columns). */
  colors: number;
  /** Whether the spec is a multi-seed run (its manifest frames carry `seed` and `colorIndex`). */
  multiSeed: boolean;
}

/** The grid shape of a resolved spec (frame i is row ⌊i / colors⌋, column i mod colors). */
export function seedGrid(spec: ResolvedExperiment, paths: PathApi): SeedGrid {
  return {
    seeds: runSeeds(spec),
    colors: planColors(spec, paths).length,
    multiSeed: isMultiSeed(spec),
  };
}

/** The frames of the path or list, for one seed (index = colour position). */
function planColors(spec: ResolvedExperiment, paths: PathApi): ColorFrame[] {
  const base = spec.injection;
  const path = spec.path ? paths.createPath(spec.path) : undefined;
  const frames = spec.frames;
  const onPath = (what: string) => {
    if (!path) throw new Error(`internal error: ${what} without a path passed validation`);
    return path;
  };
  if (Array.isArray(frames)) {
    return frames.map((frame, index) => ({
      index,
      t: frame.t ?? null,
      color: frame.color ? rgb(frame.color) : rgb(onPath("frame time").at(frame.t!)),
      injection: {
        scale: frame.injection?.scale ?? base.scale,
        window: frame.injection?.window
          ? [frame.injection.window[0], frame.injection.window[1]]
          : [base.window[0], base.window[1]],
        mode: frame.injection?.mode ?? base.mode,
      },
      ...(frame.label !== undefined ? { label: frame.label } : {}),
    }));
  }
  const injection = (): Injection => ({ ...base, window: [base.window[0], base.window[1]] });
  if ("t" in frames) {
    const p = onPath("frames.t");
    return frames.t.map((t, index) => ({ index, t, color: rgb(p.at(t)), injection: injection() }));
  }
  const p = onPath("frames.count");
  const points = frames.sampling === "arcLength"
    ? paths.sampleArcLength(p, frames.count)
    : paths.sampleUniformTime(p, frames.count);
  return points.map((point, index) => ({
    index,
    t: point.t,
    color: rgb(point.color),
    injection: injection(),
  }));
}

function sameInjection(a: Injection, b: Injection): boolean {
  return a.scale === b.scale && a.mode === b.mode && a.window[0] === b.window[0] &&
    a.window[1] === b.window[1];
}

/**
 * Splits frames (in the given order) into sampler calls of at most `size` frames. A call takes
 * one injection setting and one seed (the sampler draws one initial noise for the whole batch),
 * so a batch also ends where the injection or the seed changes.
 */
export function batchFrames<F extends { injection: Injection; seed?: string }>(
  frames: F[],
  size: number,
): F[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size ${size} is not ≥ 1`);
  const batches: F[][] = [];
  let current: F[] = [];
  for (const frame of frames) {
    if (
      current.length === size ||
      (current.length > 0 &&
        (current[0].seed !== frame.seed || !sameInjection(current[0].injection, frame.injection)))
    ) {
      batches.push(current);
      current = [];
    }
    current.push(frame);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
