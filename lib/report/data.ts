/**
 * What a run's report shows, taken from its manifest alone: the page never recomputes a frame, so
 * `deno task report` and the viewer can (re)draw any run, finished or still running, in
 * milliseconds. Face descriptors are left out (128 numbers per frame that nobody reads on a
 * page); the distances made from them stay.
 *
 * @module
 */

import type { Manifest, ManifestFrame } from "../experiments/manifest.ts";
import { inShard } from "../experiments/shard.ts";
import { framesPerSeed, runSeeds } from "../experiments/spec.ts";
import { createPath } from "../paths/factory.ts";
import { sampleUniformTime } from "../paths/sample.ts";

/** Points of the path line the page draws: enough for a smooth curve, few enough to stay light. */
export const PATH_LINE_POINTS = 256;

/**
 * One frame as the report shows it: the manifest's own fields, its PNG as `src` (relative to the
 * run folder), and of its identity record only the distances (descriptors are not shown).
 */
export type ReportFrame =
  & Pick<
    ManifestFrame,
    | "index"
    | "seed"
    | "colorIndex"
    | "t"
    | "label"
    | "color"
    | "meanColor"
    | "sha256"
    | "width"
    | "height"
    | "distanceToPrevious"
  >
  & {
    /** The frame's PNG, relative to the run folder. */
    src: string;
    /** Identity distances (absent without identity). */
    identity?: { toReference: number; toPrevious: number | null };
  };

/** Everything a report page draws (embedded in the page as JSON). */
export interface ReportData {
  /** Experiment name. */
  name: string;
  /** Run folder name. */
  runId: string;
  /** Manifest status. */
  status: Manifest["status"];
  /** Frames the run (or shard) will have: see {@link plannedFrames}. */
  planned: number;
  /** Last manifest write. */
  updatedAt: string;
  /** Spec hash. */
  specHash: string;
  /** The resolved spec. */
  spec: Record<string, unknown>;
  /** Model spec and its files' SHA-256. */
  model: { spec: string; sha256: Record<string, string> };
  /** Runtime of the latest run. */
  runtime: Manifest["runtime"];
  /** Summary (null until complete). */
  summary: Manifest["summary"];
  /** Warnings recorded in the manifest. */
  warnings: string[];
  /** Pictures, relative to the run folder; null when not made. */
  outputs: {
    contactSheet: string | null;
    pathPlot: string | null;
    grid: string | null;
    identityPlot: string | null;
    video: { src: string; type: "video/mp4" | "image/gif" } | null;
  };
  /** The embedder, when identity was computed. */
  embedder: { name: string; threshold: number } | null;
  /**
   * The colour path sampled finely (as `path_plot.png` draws it), null when the frames list their
   * colours explicitly: then there is no path between them.
   */
  pathLine: [number, number, number][] | null;
  /** Frames in index order. */
  frames: ReportFrame[];
}

/**
 * Frames the run (or shard) will have once complete: from the summary, else from the spec's
 * frames × seeds; a shard plans only the indices that are its own (index mod count = shard).
 * Never fewer than the frames already there.
 */
export function plannedFrames(manifest: Manifest): number {
  if (manifest.summary) return manifest.summary.frames;
  const total = framesPerSeed(manifest.spec.frames) * runSeeds(manifest.spec).length;
  const shard = manifest.shard;
  let planned = total;
  if (shard) {
    planned = 0;
    for (let i = 0; i < total; i++) if (inShard(i, shard)) planned++;
  }
  return Math.max(planned, manifest.frames.length);
}

/** Keeps the string entries of a `model.info.sha256` (the manifest schema does not check it). */
function modelHashes(info: Record<string, unknown>): Record<string, string> {
  const hashes = info.sha256;
  if (!hashes || typeof hashes !== "object" || Array.isArray(hashes)) return {};
  return Object.fromEntries(
    Object.entries(hashes).filter((entry): entry is [string, string] =>
      typeof entry[1] === "string"
    ),
  );
}

/** Four decimals: far below a pixel of the page's plot, and a quarter of the JSON of full floats. */
function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** The spec's path sampled uniformly in time; null without a path (explicit colours). */
export function pathLine(manifest: Manifest): [number, number, number][] | null {
  if (!manifest.spec.path) return null;
  try {
    return sampleUniformTime(createPath(manifest.spec.path), PATH_LINE_POINTS).map((
      { color },
    ) => [round4(color[0]), round4(color[1]), round4(color[2])]);
  } catch {
    // A path this version no longer accepts: the page still shows the frames' colours, joined.
    return null;
  }
}

function reportFrame(frame: ManifestFrame): ReportFrame {
  return {
    index: frame.index,
    ...(frame.seed !== undefined ? { seed: frame.seed, colorIndex: frame.colorIndex } : {}),
    t: frame.t,
    ...(frame.label !== undefined ? { label: frame.label } : {}),
    color: frame.color,
    meanColor: frame.meanColor,
    src: frame.file,
    sha256: frame.sha256,
    width: frame.width,
    height: frame.height,
    distanceToPrevious: frame.distanceToPrevious,
    ...(frame.identity
      ? {
        identity: {
          toReference: frame.identity.toReference,
          toPrevious: frame.identity.toPrevious,
        },
      }
      : {}),
  };
}

/** The report's data for a manifest; file references stay relative to the run folder. */
export function reportData(manifest: Manifest): ReportData {
  const outputs = manifest.outputs;
  const video = outputs.video.mp4
    ? { src: outputs.video.mp4, type: "video/mp4" as const }
    : outputs.video.gif
    ? { src: outputs.video.gif, type: "image/gif" as const }
    : null;
  return {
    name: manifest.spec.name,
    runId: manifest.runId,
    status: manifest.status,
    planned: plannedFrames(manifest),
    updatedAt: manifest.updatedAt,
    specHash: manifest.specHash,
    spec: manifest.spec as unknown as Record<string, unknown>,
    model: { spec: manifest.model.spec, sha256: modelHashes(manifest.model.info) },
    runtime: manifest.runtime,
    summary: manifest.summary,
    warnings: manifest.warnings,
    outputs: {
      contactSheet: outputs.contactSheet,
      pathPlot: outputs.pathPlot,
      grid: outputs.grid ?? null,
      identityPlot: outputs.identityPlot ?? null,
      video,
    },
    embedder: manifest.identity
      ? { name: manifest.identity.embedder.name, threshold: manifest.identity.embedder.threshold }
      : null,
    pathLine: pathLine(manifest),
    frames: [...manifest.frames].sort((a, b) => a.index - b.index).map(reportFrame),
  };
}
