/**
 * Path 3 of the paper: Brownian motion. The injected colour performs a seeded Gaussian random
 * walk (1000 steps over the run, sigma 0.4 cube sides per unit time^½) reflected off the faces
 * of the RGB cube, starting from mid grey.
 *
 * Setting (the paper's): CompVis/ldm-celebahq-256, DDIM 1000 steps (eta 0), injection
 * scale 0.01 at denoising steps 1–10, constant M, fixed seed 42 for the face noise and seed 7
 * for the walk; 300 frames equally spaced in time, played at 30 fps (10 s).
 *
 * ```sh
 * deno task run experiments/path3.ts
 * deno run -A experiments/path3.ts --model tiny --frames 3 --steps 10
 * ```
 *
 * @module
 */

import { defineExperiment, runCli } from "../lib/experiments/mod.ts";

const spec = defineExperiment({
  name: "path3",
  description: "Paper path 3: Brownian motion of the colour inside the RGB cube",
  model: "CompVis/ldm-celebahq-256",
  seed: 42,
  steps: 1000,
  injection: { scale: 0.01, window: [1, 10], mode: "constant" },
  path: {
    type: "brownian",
    start: [0.5, 0.5, 0.5],
    sigma: 0.4,
    // Random-walk steps over the duration (more than the 300 frames: the walk is finer than
    // the video and frames in between are interpolated).
    steps: 1000,
    // Seed of the walk (independent of the face seed above).
    seed: 7,
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
