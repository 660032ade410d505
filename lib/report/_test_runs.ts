/**
 * Real runs of the bundled tiny model for the browser tests, the README screenshots and the
 * report bench: `experiments/path1.ts` with an MP4 (Chromium plays H.264) and the identity
 * numbers on, so every part of the report (video, charts, identity plot) has something to show.
 *
 * @module
 */

import { join } from "node:path";
import { quietWriter } from "../experiments/_fakes.ts";
import { type Manifest, runExperiment } from "../experiments/mod.ts";
import path1 from "../../experiments/path1.ts";

/** Options of {@link makeTinyRun}. */
export interface TinyRunOptions {
  /** Frames (default 8). */
  frames?: number;
  /** DDIM steps (default 10). */
  steps?: number;
  /** Seed (default path1's 42). */
  seed?: number;
  /** Also write a GIF (default false: the report then shows the MP4 in a `<video>`). */
  gif?: boolean;
  /** Video frame rate (default 12). */
  fps?: number;
  /** Injection scale (default path1's 0.01). */
  scale?: number;
}

/**
 * Runs path 1 on the tiny model into `out` (created) and returns its manifest. Progress
 * messages are dropped: tests print only their own failures.
 */
export async function makeTinyRun(out: string, options: TinyRunOptions = {}): Promise<Manifest> {
  const { manifest } = await runExperiment(
    {
      ...path1,
      model: "tiny",
      steps: options.steps ?? 10,
      seed: options.seed ?? path1.seed,
      injection: { ...path1.injection, scale: options.scale ?? path1.injection.scale },
      frames: { count: options.frames ?? 8, sampling: "time" },
      outputs: {
        ...path1.outputs,
        video: { fps: options.fps ?? 12, formats: options.gif ? ["mp4", "gif"] : ["mp4"] },
      },
    },
    {
      out,
      log: () => {},
      progressWriter: quietWriter,
    },
  );
  return manifest;
}

/** Two complete tiny runs of path 1 that differ only by seed, under one results folder. */
export interface TinyRunPair {
  /** The results folder (a temporary folder; remove it when done). */
  root: string;
  /** Run path (relative to `root`) of seed 42. */
  a: string;
  /** Run path of seed 7. */
  b: string;
  /** Manifest of `a`. */
  manifestA: Manifest;
  /** Manifest of `b`. */
  manifestB: Manifest;
}

/**
 * Makes a {@link TinyRunPair} of `frames` frames each; when a run fails, its temporary folder
 * is removed before the error is thrown.
 */
export async function makeTinyRunPair(frames = 8): Promise<TinyRunPair> {
  const root = await Deno.makeTempDir({ prefix: "fluidity-browser-" });
  const a = "path1/seed42";
  const b = "path1/seed7";
  try {
    const manifestA = await makeTinyRun(join(root, a), { frames });
    const manifestB = await makeTinyRun(join(root, b), { frames, seed: 7 });
    return { root, a, b, manifestA, manifestB };
  } catch (e) {
    await Deno.remove(root, { recursive: true });
    throw e;
  }
}
