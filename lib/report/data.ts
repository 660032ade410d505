/**
 * What a run's report shows, taken from its manifest alone: the page never recomputes a frame, so
 * `deno task report` and the viewer can (re)draw any run, finished or still running, in
 * milliseconds. Face descriptors are left out (128 numbers per frame that nobody reads on a
 * page); the distances made from them stay.
 *
 * @module
 */

import type { Manifest, ManifestFrame } from "../experiments/manifest.ts";
import type { IdentitySummary } from "../identity/records.ts";

/** One frame as the report shows it. */
export interface ReportFrame {
  /** Position in the run. */
  index: number;
  /** Multi-seed runs: the frame's seed. */
  seed?: string;
  /** Multi-seed runs: the colour's position (grid column). */
  colorIndex?: number;
  /** Path time, null for an explicit colour. */
  t: number | null;
  /** Label from the spec. */
  label?: string;
  /** Injected colour [r, g, b] in [0, 1]. */
  color: [number, number, number];
  /** Mean output colour [r, g, b] in [0, 1]. */
  meanColor: [number, number, number];
  /** PNG, relative to the run folder (or a `data:` URL in an inlined report). */
  src: string;
  /** SHA-256 of the PNG. */
  sha256: string;
  /** Image size. */
  width: number;
  /** Image height. */
  height: number;
  /** RMS RGB distance to the previous frame along the path (null: first frame). */
  distanceToPrevious: number | null;
  /** Identity distances (absent without identity). */
  identity?: { toReference: number; toPrevious: number | null };
}

/** Everything a report page draws (embedded in the page as JSON). */
export interface ReportData {
  /** Experiment name. */
  name: string;
  /** Run folder name. */
  runId: string;
  /** Manifest status. */
  status: Manifest["status"];
  /** Frames planned (the spec's count × seeds once known; else frames so far). */
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
  /** Pictures, relative to the run folder or `data:` URLs; null when not made. */
  outputs: {
    contactSheet: string | null;
    pathPlot: string | null;
    grid: string | null;
    identityPlot: string | null;
    video: { src: string; type: "video/mp4" | "image/gif" } | null;
  };
  /** The embedder, when identity was computed. */
  embedder: { name: string; threshold: number } | null;
  /** Frames in index order. */
  frames: ReportFrame[];
}

/** Frames the run will have once complete: from the summary, else from the spec's frames. */
export function plannedFrames(manifest: Manifest): number {
  if (manifest.summary) return manifest.summary.frames;
  const frames = manifest.spec.frames;
  const perSeed = Array.isArray(frames)
    ? frames.length
    : "t" in frames
    ? frames.t.length
    : frames.count;
  const seeds = manifest.spec.seeds?.length ?? 1;
  // A shard plans only its share; never claim fewer than are already there.
  return Math.max(
    manifest.shard ? manifest.frames.length : perSeed * seeds,
    manifest.frames.length,
  );
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
  const info = manifest.model.info as { sha256?: Record<string, string> };
  return {
    name: manifest.spec.name,
    runId: manifest.runId,
    status: manifest.status,
    planned: plannedFrames(manifest),
    updatedAt: manifest.updatedAt,
    specHash: manifest.specHash,
    spec: manifest.spec as unknown as Record<string, unknown>,
    model: { spec: manifest.model.spec, sha256: info.sha256 ?? {} },
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
    frames: [...manifest.frames].sort((a, b) => a.index - b.index).map(reportFrame),
  };
}

/** The identity summary of a report, if any. */
export function identityOf(data: ReportData): IdentitySummary | null {
  return data.summary?.identity ?? null;
}
