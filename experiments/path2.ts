/**
 * Path 2 of the paper: light reflecting between mirrors. The injected colour travels in a
 * straight line at constant speed and every face of the RGB cube is a perfect mirror; with
 * direction 1 : √2 : √3 the ray never retraces itself and gradually visits the whole cube.
 *
 * Setting (the paper's): CompVis/ldm-celebahq-256, DDIM 1000 steps (eta 0), injection
 * scale 0.01 at denoising steps 1–10, constant M, fixed seed 42; 300 frames equally spaced in
 * time (constant speed, so also equally spaced in arc length), played at 30 fps (10 s).
 *
 * ```sh
 * deno task run experiments/path2.ts
 * deno run -A experiments/path2.ts --model tiny --frames 3 --steps 10
 * ```
 *
 * @module
 */

import { defineExperiment, runCli } from "../lib/experiments/mod.ts";

const spec = defineExperiment({
  name: "path2",
  description: "Paper path 2: a light ray reflecting between mirrors (the cube's faces)",
  model: "CompVis/ldm-celebahq-256",
  seed: 42,
  steps: 1000,
  injection: { scale: 0.01, window: [1, 10], mode: "constant" },
  path: {
    type: "mirrorReflection",
    start: [0.1, 0.2, 0.3],
    // Irrational ratios: the ray never closes on itself.
    direction: [1, Math.SQRT2, Math.sqrt(3)],
    // Three cube sides of travel over the run: four reflections.
    speed: 3,
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
