/**
 * Path 1 of the paper: a bouncing ball. The injected colour moves like a ball thrown inside the
 * RGB cube — constant gravity pulls it toward blue = 0 (the floor), each floor bounce keeps 75 %
 * of the vertical speed, the other five faces reflect elastically — and one face is rendered per
 * point, all from the same initial noise, so only the injected colour changes between frames.
 *
 * Setting (the paper's): CompVis/ldm-celebahq-256, DDIM 1000 steps (eta 0), injection
 * scale 0.01 at denoising steps 1–10, constant M, fixed seed 42; 300 frames equally spaced in
 * time over the path's unit duration (about two and a half bounces), played at 30 fps (10 s).
 *
 * ```sh
 * deno task run experiments/path1.ts                                  # the paper's run
 * deno run -A experiments/path1.ts --model tiny --frames 3 --steps 10 # a quick smoke run
 * ```
 *
 * @module
 */

import { defineExperiment, runCli } from "../lib/experiments/mod.ts";

const spec = defineExperiment({
  name: "path1",
  description: "Paper path 1: bouncing ball through the RGB cube",
  model: "CompVis/ldm-celebahq-256",
  seed: 42,
  steps: 1000,
  injection: { scale: 0.01, window: [1, 10], mode: "constant" },
  path: {
    type: "bouncingBall",
    // Start high on the blue axis, drifting in red and green.
    start: [0.15, 0.35, 0.95],
    // Cube sides per time unit; no initial vertical speed.
    velocity: [1.3, 0.9, 0],
    // Cube sides per time unit², pulling toward blue = 0.
    gravity: 30,
    gravityAxis: "b",
    // Floor bounces keep 75 % of the vertical speed.
    restitution: 0.75,
    duration: 1,
  },
  frames: { count: 300, sampling: "time" },
  outputs: {
    contactSheet: { maxFrames: 60 },
    pathPlot: true,
    video: { fps: 30, formats: ["mp4", "gif"] },
  },
});

export default spec;

if (import.meta.main) await runCli(spec, Deno.args);
