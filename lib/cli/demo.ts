/**
 * `deno task demo [--out DIR]`: the whole harness on the bundled tiny model in well under a
 * minute — the paper's three colour paths and its Fig. 3 colours, each with frames, manifest,
 * contact sheet, path plot and video, and a small innate × external grid (3 seeds × 4 colours,
 * `grid.png` with the identity numbers) — then two tables: per experiment the frames, colour
 * correlations, largest pixel jump, largest distance to the reference face, identity path length,
 * colour–identity r and folder; and the identity table (largest identity jump, frames at or over
 * the embedder's threshold, crossings, the grid's seed / colour / interaction shares).
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
import innateExternal from "../../experiments/innate_external.ts";
import { formatShares } from "../identity/analysis.ts";
import type { IdentitySummary } from "../identity/records.ts";

/** Frames per path and DDIM steps of the demo (the paper: 300 frames, 1000 steps). */
export const DEMO_FRAMES = 48;
/** DDIM steps of the demo; the injection window stays the paper's [1, 10]. */
export const DEMO_STEPS = 20;

/** The demo's innate × external grid: seeds (rows) × colours (columns); the spec's is 8 × 12. */
export const DEMO_GRID = { seeds: 3, colors: 4 } as const;

const RESULTS = fileURLToPath(new URL("../../results/demo", import.meta.url));

function fmt(value: number | null | undefined, digits = 2): string {
  return typeof value === "number" ? value.toFixed(digits) : "–";
}

/**
 * The "same person" threshold as the tables print it: the embedder's, from the runs' summaries
 * (one value; several if runs used different embedders, joined by " / "), or "threshold" when no
 * run has identity numbers.
 */
export function thresholdText(summaries: readonly (IdentitySummary | undefined)[]): string {
  const values = [...new Set(summaries.flatMap((s) => s ? [s.threshold] : []))];
  return values.length === 0 ? "threshold" : values.join(" / ");
}

/** Column heads of the identity table ({@link identityRow}); `threshold`: {@link thresholdText}. */
export function identityHead(threshold: string): string[] {
  return [
    "experiment",
    "largest id jump",
    `≥ ${threshold}`,
    "crossings",
    "seed",
    "colour",
    "interaction",
  ];
}

/** A row of the identity table: the numbers of `summary.identity` a reader looks for first. */
export function identityRow(name: string, s: IdentitySummary | undefined): string[] {
  if (!s) return [name, "–", "–", "–", "–", "–", "–"];
  const shares = formatShares(s.decomposition);
  const crossings = s.crossings.slice(0, 3).map((c) => `${c.direction} #${c.index}`);
  return [
    name,
    s.largestJump ? `${fmt(s.largestJump.value, 3)} at #${s.largestJump.index}` : "–",
    `${s.framesAboveThreshold} of ${s.frames}`,
    s.crossings.length === 0
      ? "0"
      : `${s.crossings.length} (${crossings.join(", ")}${s.crossings.length > 3 ? ", …" : ""})`,
    // A single-seed run has no grid: no decomposition, dashes.
    shares.seed,
    shares.color,
    shares.interaction,
  ];
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
  const video = { fps: 12, formats: ["mp4" as const, "gif" as const] };
  const specs = [
    { ...path1, frames: { count: DEMO_FRAMES, sampling: "time" as const } },
    { ...path2, frames: { count: DEMO_FRAMES, sampling: "time" as const } },
    { ...path3, frames: { count: DEMO_FRAMES, sampling: "time" as const } },
    colors,
    {
      ...innateExternal,
      seeds: { from: 42, count: DEMO_GRID.seeds },
      frames: { ...innateExternal.frames, count: DEMO_GRID.colors },
    },
  ];
  const identities: (IdentitySummary | undefined)[] = [];
  const identityRows: string[][] = [];
  for (const spec of specs) {
    const { dir, manifest } = await runExperiment(
      {
        ...spec,
        model: "tiny",
        steps: DEMO_STEPS,
        // The grid is not a sequence: no video, as in its spec.
        outputs: { ...spec.outputs, video: spec.outputs?.video === false ? false : video },
      },
      { out: join(out, spec.name) },
    );
    const s = manifest.summary;
    identities.push(s?.identity);
    identityRows.push(identityRow(spec.name, s?.identity));
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
  // The threshold printed is the embedder's (each summary records the one it used).
  const threshold = thresholdText(identities);
  const identityTable = new Table({ head: identityHead(threshold) });
  identityTable.push(...identityRows);
  console.log(table.toString());
  console.log(identityTable.toString());
  console.log(
    `r(X): correlation between injected and mean output colour per channel; largest jump: RMS ` +
      `pixel distance between neighbouring frames.\nIdentity (face-api descriptors, same person ` +
      `below ${threshold}): id → ref: largest distance to the no-injection face; id path: sum ` +
      `of the distances between neighbours; r(Δc, Δid): Pearson r of colour distance vs ` +
      `identity distance over frame pairs; largest id jump: largest distance between ` +
      `neighbouring frames; ≥ ${threshold}: frames at or over the threshold from their seed's ` +
      `reference face; crossings: where a seed's faces cross it (up: leaving the reference ` +
      `person); seed / colour / interaction: shares of the identity variation of a seeds × ` +
      `colours grid (two-way decomposition of the descriptors). The tiny model's 64×64 textures ` +
      `are not faces: these numbers only show the machinery.\nEach folder holds frames/, ` +
      `manifest.json, path_plot.png, identity_plot.png; the paths and colours also ` +
      `contact_sheet.png and video.gif/.mp4, ${innateExternal.name} grid.png (each face's ` +
      `distance under it, red at or over ${threshold}), and every folder report.html (open it ` +
      `in a browser). ` +
      `Done in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
