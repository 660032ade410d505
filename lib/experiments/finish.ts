/**
 * The end of a run, shared by the runner and `merge`: neighbour distances from pixels, the
 * summary, and the pictures (contact sheet, path plot, videos, and a multi-seed run's grid, which
 * `deno task analyze` redraws once it has added the identity numbers). A merged run goes through exactly
 * this code, which is why its manifest equals a single-process run's.
 *
 * @module
 */

import { join } from "node:path";
import { canonicalJson } from "../util/canonical.ts";
import { sha256Hex } from "../util/hash.ts";
import { formatShares } from "../identity/analysis.ts";
import type { IdentitySummary } from "../identity/records.ts";
import type { PictureFrame, RunnerDeps } from "./deps.ts";
import { writeRunFile } from "./files.ts";
import type { Manifest, ManifestFrame, ManifestOutputs } from "./manifest.ts";
import { previousOnPath, rmsDistance, summarize } from "./metrics.ts";
import { frameGrid } from "./seed_grid.ts";
import { framesPerSeed, isMultiSeed, type ResolvedExperiment, runSeeds } from "./spec.ts";

/** What finishing a run needs besides the frames. */
export type PictureDeps = Pick<
  RunnerDeps,
  | "paths"
  | "decodePng"
  | "contactSheet"
  | "gridSheet"
  | "pathPlot"
  | "encodeGif"
  | "encodeMp4"
  | "findFfmpeg"
>;

/**
 * Warnings that follow from the spec itself (a preview is not the paper's setting). Single runs
 * and merged runs both record them, so a merged manifest equals a single run's.
 */
export function specWarnings(spec: ResolvedExperiment): string[] {
  return spec.preview ? [`PREVIEW: ${spec.preview.note}`] : [];
}

/**
 * Sets `distanceToPrevious` of every entry that has none yet, where the pixels of the entry and
 * of the previous frame along the path are known (a seed's first frame has none: see
 * `previousOnPath`). `entries[i]` is frame i.
 */
export function fillDistances(
  entries: readonly (ManifestFrame | undefined)[],
  pixels: ReadonlyMap<number, Uint8Array>,
): void {
  for (let i = 1; i < entries.length; i++) {
    const entry = entries[i];
    if (!entry || entry.distanceToPrevious !== null) continue;
    const previous = previousOnPath(entry);
    if (previous === null) continue;
    const a = pixels.get(previous);
    const b = pixels.get(i);
    if (a && b) entry.distanceToPrevious = rmsDistance(a, b);
  }
}

/**
 * The pixels of every frame, decoding from `dir` those not in `pixels` (which is filled).
 *
 * @throws {Error} naming the PNG when it cannot be decoded or has another size than recorded
 */
export async function loadAllPixels(
  entries: readonly ManifestFrame[],
  pixels: Map<number, Uint8Array>,
  dir: string,
  decodePng: PictureDeps["decodePng"],
): Promise<PictureFrame[]> {
  const frames: PictureFrame[] = [];
  for (const entry of entries) {
    let rgba = pixels.get(entry.index);
    if (!rgba) {
      const path = join(dir, entry.file);
      let image;
      try {
        image = await decodePng(await Deno.readFile(path), path);
      } catch (e) {
        throw new Error(
          `cannot read frame ${entry.index} from ${path} (${(e as Error).message}); delete the ` +
            "file and run again to recompute it",
        );
      }
      if (image.width !== entry.width || image.height !== entry.height) {
        throw new Error(
          `${path} is ${image.width}×${image.height}, the manifest says ` +
            `${entry.width}×${entry.height}; delete the file and run again to recompute it`,
        );
      }
      rgba = image.rgba;
      pixels.set(entry.index, rgba);
    }
    const label = entry.label ?? String(entry.colorIndex ?? entry.index);
    frames.push({
      index: entry.index,
      rgba,
      width: entry.width,
      height: entry.height,
      color: entry.color,
      // A multi-seed run's captions say which seed (row) the frame belongs to.
      ...(entry.seed !== undefined
        ? { label: `${entry.seed}: ${label}`, seed: entry.seed, colorIndex: entry.colorIndex }
        : { label }),
    });
  }
  return frames;
}

/** `count` indices spread evenly over `0 … length-1`, first and last included. */
export function evenlySpaced(length: number, count: number): number[] {
  if (count >= length) return Array.from({ length }, (_, i) => i);
  if (count === 1) return [0];
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - 1)) / (count - 1)));
}

/**
 * The run summary: metrics over the frames, and counts. `computed` counts distinct content keys
 * among the frames computed by this run (a colour listed twice is computed once).
 */
export function runSummary(
  frames: readonly ManifestFrame[],
  planned: number,
  samplingMs: number,
): NonNullable<Manifest["summary"]> {
  const computedFrames = frames.filter((f) => f.computed);
  return {
    ...summarize(frames),
    frames: planned,
    computed: new Set(computedFrames.map((f) => f.key)).size,
    reused: planned - computedFrames.length,
    samplingMs,
  };
}

/** Pictures written by {@link makePictures}: their manifest entries and any warnings. */
export interface PicturesResult {
  /** Manifest entries of the pictures. */
  outputs: ManifestOutputs;
  /** Things the user should know (no ffmpeg). */
  warnings: string[];
}

const PICTURE_ADVICE = "free some space and run the same command again: the frames are kept " +
  "and only the pictures are made";

/** Name of the grid picture of a multi-seed run. */
export const GRID_FILE = "grid.png";

/** Widest grid (pixels of frames per row) drawn at 1:1; wider grids get smaller cells. */
const GRID_FULL_SIZE_WIDTH = 2048;

/** The manifest outputs before any picture is made (`grid` only for multi-seed runs). */
export function emptyOutputs(spec: ResolvedExperiment): ManifestOutputs {
  return {
    contactSheet: null,
    pathPlot: null,
    video: { mp4: null, gif: null },
    ...(isMultiSeed(spec) ? { grid: null } : {}),
  };
}

/** The identity numbers grid.png shows (see {@link gridIdentityNumbers}). */
export interface GridIdentityNumbers {
  /** Distance to the seed's reference face, by frame index. */
  toReference: ReadonlyMap<number, number>;
  /** The embedder's "same person" threshold. */
  threshold: number;
  /** Lines under the grid: what the numbers are, and the seed / colour / interaction shares. */
  footer: string[];
}

/**
 * The identity numbers of a run's grid picture, from its frames' `identity` and
 * `summary.identity`; undefined when the run has none (`--no-identity`: the grid is drawn
 * without numbers).
 */
export function gridIdentityNumbers(
  frames: readonly ManifestFrame[],
  summary: IdentitySummary | null | undefined,
): GridIdentityNumbers | undefined {
  if (!summary) return undefined;
  const toReference = new Map<number, number>();
  for (const f of frames) if (f.identity) toReference.set(f.index, f.identity.toReference);
  return {
    toReference,
    threshold: summary.threshold,
    footer: [
      `under each face: its distance to the seed's face without colour; red: at or over ` +
      `${summary.threshold}, not the same person (${summary.framesAboveThreshold} of ` +
      `${summary.frames} frames)`,
      `identity variation: ${formatShares(summary.decomposition).text}`,
    ],
  };
}

/**
 * The heading of a run's pictures. The run as the spec plans it, not as far as it got: analyze
 * plots an interrupted run's frames under the same heading as the whole run's.
 */
export function pictureTitle(spec: ResolvedExperiment): string {
  const seeds = runSeeds(spec);
  const seedText = isMultiSeed(spec)
    ? `${seeds.length} seed${seeds.length === 1 ? "" : "s"} × ${framesPerSeed(spec.frames)} colours`
    : `seed ${spec.seed}`;
  return `${spec.name}  ${seedText}  ${spec.steps} steps` +
    (spec.preview ? `  PREVIEW (not the paper's ${spec.preview.fromSteps})` : "");
}

/**
 * What identifies the identity numbers drawn on a grid picture: the SHA-256 of their canonical
 * JSON. The manifest records it (`outputs.gridIdentity`), so that analyze can tell from the
 * manifest alone, without decoding a frame, whether grid.png shows the numbers it has.
 */
export function gridIdentityDigest(identity: GridIdentityNumbers): string {
  return sha256Hex(canonicalJson({
    toReference: [...identity.toReference].sort((a, b) => a[0] - b[0]),
    threshold: identity.threshold,
    footer: identity.footer,
  }));
}

/** `grid.png` of a multi-seed run as PNG bytes (see {@link writeGridPicture}). */
function drawGridPicture(
  spec: ResolvedExperiment,
  frames: readonly PictureFrame[],
  gridSheet: PictureDeps["gridSheet"],
  identity?: GridIdentityNumbers,
): Promise<Uint8Array> {
  const grid = frameGrid(frames, spec);
  const { width } = frames[0];
  const tileSize = grid.colors * width > GRID_FULL_SIZE_WIDTH ? Math.min(width, 128) : undefined;
  return gridSheet({
    rows: grid.rows.map((cells, r) => ({ label: grid.seeds[r], cells })),
    colors: grid.rows[0].map((f) => f.color),
    ...(identity
      ? {
        identity: {
          toReference: grid.rows.map((cells) =>
            cells.map((f) => identity.toReference.get(f.index) ?? null)
          ),
          threshold: identity.threshold,
          footer: identity.footer,
        },
      }
      : {}),
  }, { tileSize, title: pictureTitle(spec) });
}

/**
 * Draws `grid.png` of a multi-seed run (seeds as rows, colours as columns), with the identity
 * numbers when given, and writes it atomically into `dir`; returns its name.
 */
export async function writeGridPicture(
  spec: ResolvedExperiment,
  frames: readonly PictureFrame[],
  dir: string,
  gridSheet: PictureDeps["gridSheet"],
  identity?: GridIdentityNumbers,
): Promise<string> {
  const png = await drawGridPicture(spec, frames, gridSheet, identity);
  await writeRunFile(join(dir, GRID_FILE), png, PICTURE_ADVICE);
  return GRID_FILE;
}

/**
 * Draws `grid.png` like {@link writeGridPicture} but writes it only when the file in `dir` is
 * missing or has other bytes; returns whether it wrote. For analyze, which redraws a grid whose
 * numbers the manifest does not record: often the grid there is that very picture already.
 */
export async function updateGridPicture(
  spec: ResolvedExperiment,
  frames: readonly PictureFrame[],
  dir: string,
  gridSheet: PictureDeps["gridSheet"],
  identity?: GridIdentityNumbers,
): Promise<boolean> {
  const png = await drawGridPicture(spec, frames, gridSheet, identity);
  const path = join(dir, GRID_FILE);
  const onDisk = await Deno.readFile(path).catch((e) => {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  });
  if (onDisk && onDisk.length === png.length && onDisk.every((b, i) => b === png[i])) {
    return false;
  }
  await writeRunFile(path, png, PICTURE_ADVICE);
  return true;
}

/**
 * Writes the contact sheet, grid, path plot and videos the spec asks for into `dir`. `identity`:
 * the numbers grid.png shows, when the run has them.
 */
export async function makePictures(
  spec: ResolvedExperiment,
  frames: PictureFrame[],
  dir: string,
  deps: PictureDeps,
  log: (message: string) => void,
  identity?: GridIdentityNumbers,
): Promise<PicturesResult> {
  const outputs = emptyOutputs(spec);
  const warnings: string[] = [];
  if (frames.length === 0) return { outputs, warnings };
  const seeds = runSeeds(spec);
  const title = pictureTitle(spec);
  const sheet = spec.outputs.contactSheet;
  if (sheet !== false) {
    const shown = evenlySpaced(frames.length, sheet.maxFrames ?? frames.length).map((i) =>
      frames[i]
    );
    const tileSize = sheet.tileSize ??
      (shown.length > 30 ? Math.min(128, frames[0].width) : undefined);
    // A multi-seed sheet showing every frame lines up like the grid: one seed per row.
    const columns = sheet.columns ??
      (isMultiSeed(spec) && shown.length === frames.length
        ? frames.length / seeds.length
        : undefined);
    const png = await deps.contactSheet(shown, { columns, tileSize, title });
    await writeRunFile(join(dir, "contact_sheet.png"), png, PICTURE_ADVICE);
    outputs.contactSheet = "contact_sheet.png";
  }
  if (isMultiSeed(spec)) {
    outputs.grid = await writeGridPicture(spec, frames, dir, deps.gridSheet, identity);
    if (identity) outputs.gridIdentity = gridIdentityDigest(identity);
  }
  if (spec.outputs.pathPlot) {
    const fine = spec.path
      ? deps.paths.sampleUniformTime(deps.paths.createPath(spec.path), 1024).map((p) => p.color)
      : []; // explicit colours are not a path: dots only, no connecting line
    // Every seed walks the same colours: a multi-seed run plots them once (the first seed's).
    const walked = isMultiSeed(spec) ? frames.filter((f) => f.seed === seeds[0]) : frames;
    const png = await deps.pathPlot({
      fine: fine.map((c) => [c[0], c[1], c[2]] as const),
      points: walked.map((f) => ({ color: f.color })),
      title,
    });
    await writeRunFile(join(dir, "path_plot.png"), png, PICTURE_ADVICE);
    outputs.pathPlot = "path_plot.png";
  }
  const video = spec.outputs.video;
  if (video !== false) {
    const { width, height } = frames[0];
    const rgba = frames.map((f) => f.rgba);
    if (video.formats.includes("mp4")) {
      const ffmpeg = await deps.findFfmpeg();
      if (ffmpeg) {
        await deps.encodeMp4(rgba, width, height, {
          fps: video.fps,
          out: join(dir, "video.mp4"),
          ffmpeg,
        });
        outputs.video.mp4 = "video.mp4";
      } else {
        const warning = "ffmpeg not found: video.mp4 was not written (install ffmpeg or set " +
          "FFMPEG to its path, then run again: frames are reused); video.gif is written";
        log(`warning: ${warning}`);
        warnings.push(warning);
      }
    }
    // A GIF needs nothing outside the project, so a video is never missing altogether.
    if (video.formats.includes("gif") || outputs.video.mp4 === null) {
      await deps.encodeGif(rgba, width, height, { fps: video.fps, out: join(dir, "video.gif") });
      outputs.video.gif = "video.gif";
    }
  }
  return { outputs, warnings };
}
