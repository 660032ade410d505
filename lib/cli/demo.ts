/**
 * `deno task demo [--out DIR]`: the whole harness on the bundled tiny model in well under a
 * minute — the paper's three colour paths and its Fig. 3 colours, each with frames, manifest,
 * contact sheet, path plot and video — then a table of what was written and the summary numbers.
 * The tiny model has random weights, so the "faces" are abstract textures; the pipeline, files and
 * numbers are the real ones.
 *
 * @module
 */

import Table from "cli-table3";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runExperiment } from "../experiments/mod.ts";
import colors from "../../experiments/colors.ts";
import path1 from "../../experiments/path1.ts";
import path2 from "../../experiments/path2.ts";
import path3 from "../../experiments/path3.ts";

/** Frames per path and DDIM steps of the demo (the paper: 300 frames, 1000 steps). */
export const DEMO_FRAMES = 48;
/** DDIM steps of the demo; the injection window stays the paper's [1, 10]. */
export const DEMO_STEPS = 20;

const RESULTS = fileURLToPath(new URL("../../results/demo", import.meta.url));

function fmt(value: number | null | undefined, digits = 2): string {
  return typeof value === "number" ? value.toFixed(digits) : "–";
}

/** Runs the demo into `out` and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let out: string;
  try {
    const { values } = parseArgs({ args, options: { out: { type: "string" } } });
    out = values.out ?? RESULTS;
  } catch (e) {
    console.error(`demo: ${(e as Error).message}\nUsage: deno task demo [--out DIR]`);
    return 2;
  }
  const started = performance.now();
  const table = new Table({
    head: [
      "experiment",
      "frames",
      "r(R)",
      "r(G)",
      "r(B)",
      "largest jump",
      "id → ref",
      "id path",
      "r(Δc, Δid)",
      "folder",
    ],
  });
  const specs = [
    { ...path1, frames: { count: DEMO_FRAMES, sampling: "time" as const } },
    { ...path2, frames: { count: DEMO_FRAMES, sampling: "time" as const } },
    { ...path3, frames: { count: DEMO_FRAMES, sampling: "time" as const } },
    colors,
  ];
  for (const spec of specs) {
    const { dir, manifest } = await runExperiment(
      {
        ...spec,
        model: "tiny",
        steps: DEMO_STEPS,
        outputs: { ...spec.outputs, video: { fps: 12, formats: ["mp4", "gif"] } },
      },
      { out: join(out, spec.name) },
    );
    const s = manifest.summary;
    table.push([
      spec.name,
      String(manifest.frames.length),
      fmt(s?.correlation.r),
      fmt(s?.correlation.g),
      fmt(s?.correlation.b),
      s?.largestJump ? `${fmt(s.largestJump.value, 3)} at #${s.largestJump.index}` : "–",
      s?.identity?.farthestFromReference
        ? `${
          fmt(s.identity.farthestFromReference.value, 3)
        } at #${s.identity.farthestFromReference.index}`
        : "–",
      fmt(s?.identity?.pathLength, 3),
      fmt(s?.identity?.colorCorrelation.pearson),
      relative(Deno.cwd(), dir) || ".",
    ]);
  }
  console.log(table.toString());
  console.log(
    `r(X): correlation between injected and mean output colour per channel; largest jump: RMS ` +
      `pixel distance between neighbouring frames.\nIdentity (face-api descriptors, same person ` +
      `below 0.6): id → ref: largest distance to the no-injection face; id path: sum of the ` +
      `distances between neighbours; r(Δc, Δid): Pearson r of colour distance vs identity ` +
      `distance over frame pairs. The tiny model's 64×64 textures are not faces: these numbers ` +
      `only show the machinery.\nEach folder holds frames/, manifest.json, ` +
      `contact_sheet.png, path_plot.png, identity_plot.png, video.gif/.mp4 and report.html ` +
      `(open it in a browser). ` +
      `Done in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
