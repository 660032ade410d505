/**
 * Sensitivity of the face to the injection's window and scale: every combination of six windows,
 * four scales and the three primaries, from the same initial noise as the other experiments.
 *
 * The window and scale vary per frame, which one spec-wide `injection` cannot express: each
 * frame is listed explicitly with its own `injection` override, written out by `injectionGrid`
 * (windows outermost, then scales, then colours; labels like `red w1-10 s0.01`). The contact
 * sheet has one row per window (4 scales × 3 colours = 12 columns). Frames that share settings
 * with other experiments (e.g. `w1-10 s0.01`, the paper's) have the same content keys.
 *
 * Windows: the paper's [1, 10]; shorter [1, 1] and [1, 5]; longer [1, 20] and [1, 50]; and
 * [11, 20], the same length as the paper's but later, when the face is already forming.
 * Scales: 0.003, 0.01 (the paper's), 0.03, 0.1.
 *
 * ```sh
 * deno task run experiments/sensitivity.ts
 * deno run -A experiments/sensitivity.ts --model tiny --frames 3 --steps 10
 * ```
 *
 * @module
 */

import { defineExperiment, injectionGrid, runCli } from "../lib/experiments/mod.ts";

const spec = defineExperiment({
  name: "sensitivity",
  description: "Injection window × scale grid for red, green and blue",
  model: "CompVis/ldm-celebahq-256",
  seed: 42,
  steps: 1000,
  injection: { scale: 0.01, window: [1, 10], mode: "constant" },
  frames: injectionGrid({
    windows: [[1, 1], [1, 5], [1, 10], [1, 20], [1, 50], [11, 20]],
    scales: [0.003, 0.01, 0.03, 0.1],
    colors: [
      { color: [1, 0, 0], label: "red" },
      { color: [0, 1, 0], label: "green" },
      { color: [0, 0, 1], label: "blue" },
    ],
  }),
  // One batch per window × scale: its three colours share the injection settings.
  batch: 3,
  // The path plot shows the three colours; the GIF steps through the grid at 4 frames/s.
  outputs: { contactSheet: { columns: 12 }, pathPlot: true, video: { fps: 4, formats: ["gif"] } },
});

export default spec;

if (import.meta.main) await runCli(spec, Deno.args);
