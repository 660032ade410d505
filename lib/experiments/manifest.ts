/**
 * The run manifest (`manifest.json`): everything needed to know what a run computed, with what,
 * and to resume it. It is rewritten atomically after every batch, so an interrupted run loses at
 * most the batch in flight and a reader never sees half a file.
 *
 * A manifest that cannot be read is an error, never silently replaced: it is the only record of
 * which frame file holds which content key, and the user decides whether to move it away.
 *
 * @module
 */

import { join } from "node:path";
import { writeTextFileAtomic } from "../util/atomic.ts";
import { sha256File } from "../util/hash.ts";
import type { Injection, ResolvedExperiment } from "./spec.ts";
import type { Shard } from "./shard.ts";
import type { MetricsSummary } from "./metrics.ts";
import type { FrameIdentity, IdentitySummary, ManifestIdentity } from "../identity/records.ts";
import { isFrameFileOf, ManifestFormatError, parseManifestText } from "./manifest_schema.ts";

export type { FrameIdentity, ManifestIdentity } from "../identity/records.ts";

export { MANIFEST_VERSION } from "./manifest_schema.ts";

/** File name of the manifest inside a run folder. */
export const MANIFEST_FILE = "manifest.json";

/** One rendered frame. */
export interface ManifestFrame {
  /** Position in the run, 0-based (multi-seed runs: `seedIndex × colours + colorIndex`). */
  index: number;
  /** Multi-seed runs only: the frame's seed, decimal (grid row). Else the spec's `seed`. */
  seed?: string;
  /** Multi-seed runs only: position of the frame's colour in the path or list (grid column). */
  colorIndex?: number;
  /** Time on the path, null for an explicit colour without a time. */
  t: number | null;
  /** Label from the spec, if any. */
  label?: string;
  /** Injected colour [r, g, b] in [0, 1]. */
  color: [number, number, number];
  /** Effective injection of this frame. */
  injection: Injection;
  /** Content key: SHA-256 of everything that determines the pixels (see `keys.ts`). */
  key: string;
  /** PNG path relative to the run folder: `frames/<sha256>.png`. */
  file: string;
  /** SHA-256 of the PNG bytes. */
  sha256: string;
  /** Image width and height in pixels. */
  width: number;
  /** Image height in pixels. */
  height: number;
  /** Whether this run computed the frame (false: reused from an earlier run in this folder). */
  computed: boolean;
  /** When the frame was computed (sampler call), not necessarily by this run. */
  timings: {
    /** The frame's share of its sampler call: batchMs / batchSize. */
    sampleMs: number;
    /** Wall time of the whole sampler call (denoising and decoding). */
    batchMs: number;
    /** Frames in that sampler call. */
    batchSize: number;
  };
  /** Mean output colour [r, g, b] in [0, 1]. */
  meanColor: [number, number, number];
  /**
   * RMS difference of RGB to the previous frame along the path in [0, 1] units; null for the
   * first frame (of each seed, in a multi-seed run).
   */
  distanceToPrevious: number | null;
  /** Face descriptor and identity distances (absent when identity was not computed). */
  identity?: FrameIdentity;
}

/** Pictures made from the frames, as paths relative to the run folder (null = not made). */
export interface ManifestOutputs {
  /** Grid of frames. */
  contactSheet: string | null;
  /** Path through the RGB cube. */
  pathPlot: string | null;
  /** Videos by container. */
  video: { mp4: string | null; gif: string | null };
  /** Identity distances along the path (`identity_plot.png`); absent without identity. */
  identityPlot?: string | null;
  /** Multi-seed runs only: seeds × colours picture (`grid.png`). */
  grid?: string | null;
  /**
   * The identity numbers `grid.png` shows, as `gridIdentityDigest` (finish.ts) identifies them;
   * absent when it shows none, or was drawn by a version of fluidity that did not record them.
   */
  gridIdentity?: string;
}

/** Where and how the frames were computed. */
export interface ManifestRuntime {
  /** `Deno.version.deno`. */
  deno: string;
  /** `Deno.version.v8`. */
  v8: string;
  /** onnxruntime-node version. */
  onnxruntime: string;
  /** Device the sessions ran on. */
  device: string;
  /** Intra-op threads. */
  threads: number;
  /** `Deno.build.os`. */
  os: string;
  /** `Deno.build.arch`. */
  arch: string;
  /** CPU model name and logical core count. */
  cpu: { model: string; cores: number };
}

/** Contents of `manifest.json`. */
export interface Manifest {
  /** {@link MANIFEST_VERSION}. */
  version: number;
  /**
   * `running` while batches are written (also what a killed run leaves), `complete` once pictures
   * and summary are done, `interrupted` after SIGINT/SIGTERM, `failed` after an error (see
   * `error`). Anything but `complete` resumes when the same command runs again.
   */
  status: "running" | "complete" | "interrupted" | "failed";
  /** Why the run failed (status `failed`). */
  error?: string;
  /** Set for a shard run (`--shard i/n`): `frames` holds only this shard's frames. */
  shard?: Shard;
  /** Set by `merge`: the shard folders this run was joined from. */
  mergedFrom?: { dir: string; shard: Shard; runtime: ManifestRuntime }[];
  /** Name of the run folder (UTC timestamp + spec hash) or of the `--out` folder. */
  runId: string;
  /** SHA-256 of the canonical JSON of the resolved spec. */
  specHash: string;
  /** ISO time this folder's first run started. */
  createdAt: string;
  /** ISO time of the last write. */
  updatedAt: string;
  /** The resolved spec (defaults applied, overrides merged). */
  spec: ResolvedExperiment;
  /**
   * The model: the spec as given and its model.json (every file's SHA-256: what identifies it).
   * The folder it was loaded from is not recorded: it is a path on the machine that ran it.
   * `dir` is found only in manifests of the first release (an absolute path) and is ignored.
   */
  model: { spec: string; dir?: string; info: Record<string, unknown> };
  /** Runtime of the latest run. */
  runtime: ManifestRuntime;
  /** Frames in run order; during a run only those done so far. */
  frames: ManifestFrame[];
  /** Counts and metrics over the frames (null until the run completes). */
  summary:
    | (MetricsSummary & {
      /** Frames in the run. */
      frames: number;
      /** Frames computed by the latest run. */
      computed: number;
      /** Frames reused from earlier runs. */
      reused: number;
      /** Wall time of the latest run's sampling, milliseconds. */
      samplingMs: number;
      /** Identity statistics (lib/identity/analysis.ts); absent without identity. */
      identity?: IdentitySummary;
    })
    | null;
  /** Pictures. */
  outputs: ManifestOutputs;
  /** Things the user should know (e.g. no ffmpeg, so no mp4). */
  warnings: string[];
  /** The face embedder and the reference faces; absent when identity was not computed. */
  identity?: ManifestIdentity;
}

/** Writes `manifest.json` in `dir` atomically (temporary file + rename). */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeTextFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
}

/** A `manifest.json` that exists but cannot be used; the message says what to do. */
export class ManifestError extends Error {
  /** The manifest file. */
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.name = "ManifestError";
    this.path = path;
  }
}

/**
 * Reads `manifest.json` from `dir`: null if absent. It is checked against the one manifest
 * schema (`manifest_schema.ts`), as `merge`, `compare` and `verify` check it.
 *
 * @throws {ManifestError} naming the file and the bad field when it is not valid JSON, not a
 *   manifest, or of another manifest version; the message says how to proceed.
 */
export async function readManifest(dir: string): Promise<Manifest | null> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new ManifestError(path, `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return parseManifestText(text, path);
  } catch (e) {
    if (!(e instanceof ManifestFormatError)) throw e;
    throw new ManifestError(
      path,
      `${e.message}. It is the record of which frame file holds which image, so it is ` +
        `not overwritten: move it away (mv ${path} ${path}.bad) and run again to recompute the ` +
        "frames in this folder, or use another --out",
    );
  }
}

/**
 * Frames of an earlier manifest that can be reused, by content key: only those whose PNG exists
 * in `dir` with the recorded SHA-256. A missing or altered file means the frame is recomputed,
 * and `warn` is told which file it was.
 */
export async function reusableFrames(
  dir: string,
  manifest: Manifest | null,
  warn: (message: string) => void = () => {},
): Promise<Map<string, ManifestFrame>> {
  const reusable = new Map<string, ManifestFrame>();
  if (!manifest) return reusable;
  const verified = new Map<string, boolean>();
  for (const frame of manifest.frames) {
    // The frame-path rule of the schema (readManifest has checked it; a manifest built in code
    // may not have been): nothing outside dir/frames/ is read.
    if (reusable.has(frame.key) || !isFrameFileOf(frame.file, frame.sha256)) continue;
    let ok = verified.get(frame.file);
    if (ok === undefined) {
      const path = join(dir, frame.file);
      const actual = await sha256File(path).catch((e) => e as Error);
      ok = actual === frame.sha256;
      verified.set(frame.file, ok);
      if (!ok) {
        warn(
          actual instanceof Deno.errors.NotFound
            ? `${path} (frame ${frame.index}) is missing: recomputing it`
            : actual instanceof Error
            ? `${path} (frame ${frame.index}) cannot be read (${actual.message}): recomputing it`
            : `${path} (frame ${frame.index}) does not have the SHA-256 recorded in the ` +
              "manifest (damaged or altered): recomputing it",
        );
      }
    }
    if (ok) reusable.set(frame.key, frame);
  }
  return reusable;
}
