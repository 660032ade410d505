/**
 * Planning: turns a resolved spec into the list of frames to render (index, path time, colour,
 * effective injection) and groups the frames still to compute into sampler calls.
 *
 * @module
 */

import type { Injection, PathSpec, ResolvedExperiment } from "./spec.ts";

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
  /** Position in the run, 0-based. */
  index: number;
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

/** Lists every frame of the spec in order. */
export function planFrames(spec: ResolvedExperiment, paths: PathApi): PlannedFrame[] {
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
 * one injection setting, so a batch also ends where the injection changes.
 */
export function batchFrames<F extends { injection: Injection }>(frames: F[], size: number): F[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size ${size} is not ≥ 1`);
  const batches: F[][] = [];
  let current: F[] = [];
  for (const frame of frames) {
    if (
      current.length === size ||
      (current.length > 0 && !sameInjection(current[0].injection, frame.injection))
    ) {
      batches.push(current);
      current = [];
    }
    current.push(frame);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
