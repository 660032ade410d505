/**
 * Innate × external: the paper's open question of how the initial noise (the innate factors, one
 * face per seed) interacts with the injected colour (the external factors). Eight seeds, each
 * rendered with the same twelve colours, in one run: `grid.png` shows the seeds as rows and the
 * colours as columns, so a row is what the colours do to one face and a column what one colour
 * does to eight faces.
 *
 * The colours are twelve points of the paper's path 2 (light reflecting between the cube's
 * mirror faces, with path2.ts's parameters) spaced evenly along it. Why a path and not, say, a hue
 * circle with black, white and grey: they are colours the artwork really injects, so each row is a
 * coarse version of that seed's video, and the columns are in path order, so the neighbour
 * distances along a row mean what they mean in the path runs (the same path walked by another
 * face). Why path 2: its twelve points reach from 0.04 to 0.99 in every channel (dark blue-grey,
 * sky blue, mint, yellow-green, orange, red, purple), the spread of external factors a seed ×
 * colour decomposition needs; path 1's stay at green ≥ 0.35 and path 3's within 0.23–0.79. The
 * ray moves at constant speed, so equal arc length is equal time: neighbouring columns are equal
 * steps of colour.
 *
 * Seeds 42 … 49: the first row is the paper's face (seed 42, as in path1.ts and colors.ts).
 * Setting otherwise the paper's: CompVis/ldm-celebahq-256, DDIM 1000 steps (eta 0), scale 0.01 at
 * steps 1–10, constant M. 96 frames; no contact sheet (grid.png is it) and no video (a grid is not
 * a sequence; `deno task run experiments/path2.ts --seed 43` makes one seed's video).
 *
 * ```sh
 * deno task run experiments/innate_external.ts --device auto
 * deno run -A experiments/innate_external.ts --model tiny --frames 3 --steps 10 --seeds 0..1
 * ```
 *
 * @module
 */

import { defineExperiment, runCli } from "../lib/experiments/mod.ts";
import path2 from "./path2.ts";

const spec = defineExperiment({
  name: "innate_external",
  description: "8 seeds × 12 colours of path 2: the initial noise (innate) × the colour (external)",
  model: "CompVis/ldm-celebahq-256",
  seeds: { from: 42, count: 8 },
  steps: 1000,
  injection: { scale: 0.01, window: [1, 10], mode: "constant" },
  path: path2.path,
  frames: { count: 12, sampling: "arcLength" },
  outputs: {
    contactSheet: false,
    pathPlot: true,
    video: false,
  },
});

export default spec;

if (import.meta.main) await runCli(spec, Deno.args);
