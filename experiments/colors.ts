/**
 * The paper's Fig. 3: one face per injected colour, all from the same initial noise. The first
 * frame receives no injection (scale 0) and is the reference the others differ from; then the
 * primaries red, green and blue (R, G, B drive latent channels 0, 1, 2), their pairwise mixes,
 * white and mid grey.
 *
 * Setting: CompVis/ldm-celebahq-256, DDIM 1000 steps (eta 0), scale 0.01 at steps 1–10,
 * constant M, seed 42 (as the path experiments, so the faces match their frames).
 *
 * ```sh
 * deno task run experiments/colors.ts
 * deno run -A experiments/colors.ts --model tiny --frames 3 --steps 10
 * ```
 *
 * @module
 */

import { defineExperiment, runCli } from "../lib/experiments/mod.ts";

const spec = defineExperiment({
  name: "colors",
  description: "Paper Fig. 3: no injection, primaries and mixes from one initial noise",
  model: "CompVis/ldm-celebahq-256",
  seed: 42,
  steps: 1000,
  injection: { scale: 0.01, window: [1, 10], mode: "constant" },
  frames: [
    // Black injects nothing either way; scale 0 makes "no injection" explicit.
    { color: [0, 0, 0], injection: { scale: 0 }, label: "none" },
    { color: [1, 0, 0], label: "red" },
    { color: [0, 1, 0], label: "green" },
    { color: [0, 0, 1], label: "blue" },
    { color: [1, 1, 0], label: "yellow" },
    { color: [0, 1, 1], label: "cyan" },
    { color: [1, 0, 1], label: "magenta" },
    { color: [1, 1, 1], label: "white" },
    { color: [0.5, 0.5, 0.5], label: "grey" },
  ],
  outputs: {
    contactSheet: { columns: 9 },
    pathPlot: true,
    // A slow slideshow: one colour every half second.
    video: { fps: 2, formats: ["gif"] },
  },
});

export default spec;

if (import.meta.main) await runCli(spec, Deno.args);
