/**
 * Comparison of two runs: frames matched by index and compared pixel by pixel, plus the
 * differences in spec, model and runtime that may explain them.
 *
 * @module
 */

import { decodePng, type RgbaImage } from "../render/png.ts";
import { sha256Hex } from "../util/hash.ts";
import { deepDiff, type JsonChange } from "./deep_diff.ts";
import { compareImages, type SameSizeComparison } from "./images.ts";
import { frameFilePath, type OpenedRun } from "./run_folder.ts";
import { distance } from "../identity/analysis.ts";
import {
  DEFAULT_TOLERANCE,
  type ImageStatus,
  judge,
  type Limit,
  type Tolerance,
} from "./tolerance.ts";

/** Status of one frame index. */
export type FrameStatus = ImageStatus | "missing-in-a" | "missing-in-b" | "unreadable";

/** Statuses that make a comparison fail. */
export const FAILING_STATUSES: readonly FrameStatus[] = [
  "different",
  "missing-in-a",
  "missing-in-b",
  "unreadable",
];

/** A frame as one run's manifest records it. */
export interface FrameSide {
  /** Path time (null when the frame has none). */
  t: number | null;
  /** Injected colour. */
  color: [number, number, number];
  /** PNG path relative to the run folder. */
  file: string;
  /** SHA-256 recorded in the manifest. */
  sha256: string;
}

/** Comparison of the frames with one index. */
export interface FrameDiff {
  /** Frame index. */
  index: number;
  /** Verdict. */
  status: FrameStatus;
  /** The frame in A (null when missing there). */
  a: FrameSide | null;
  /** The frame in B (null when missing there). */
  b: FrameSide | null;
  /** Inputs that differ between A and B (`t`, `color`): the frames show different things. */
  inputsDiffer: ("t" | "color")[];
  /** Largest channel difference, 0–255 (null when not compared). */
  maxAbsDiff: number | null;
  /** PSNR in dB; null when identical (infinite) or not compared. */
  psnr: number | null;
  /** SSIM (null when not compared). */
  ssim: number | null;
  /** Pixels differing at the pixel threshold (null when not compared). */
  differingPixels: number | null;
  /** Their share of all pixels (null when not compared). */
  differingShare: number | null;
  /** Tolerance limits the frame failed (`maxDiff`, `minPsnr`, `minSsim`, `maxShare`). */
  limitsFailed: Limit[];
  /** Why the frame failed: limits exceeded, size mismatch, unreadable file, missing frame. */
  reasons: string[];
  /** Problems that do not decide the status, e.g. a file that no longer has its recorded hash. */
  warnings: string[];
  /**
   * Euclidean distance between the frame's face descriptors in A and B (identity numbers); null
   * unless both have one from the same embedder. Informational: it never decides the status.
   */
  identityDistance: number | null;
}

/** Differences outside the frames. */
export interface RunDiffs {
  /** Resolved spec (`spec.seed: 1 → 2`). */
  spec: JsonChange[];
  /** Model: spec, folder and model.json (file hashes, configs, latentScale). */
  model: JsonChange[];
  /** Runtime: Deno, onnxruntime, device, threads, OS, CPU. */
  runtime: JsonChange[];
}

/** Result of {@link compareRuns}. */
export interface RunComparison {
  /** Manifest paths of A and B. */
  a: string;
  /** Manifest path of B. */
  b: string;
  /** The limits used. */
  tolerance: Tolerance;
  /** True when every frame is identical or within tolerance. */
  ok: boolean;
  /** Frames in index order. */
  frames: FrameDiff[];
  /** Number of frames per status. */
  counts: Record<FrameStatus, number>;
  /** Spec, model and runtime differences. */
  diffs: RunDiffs;
  /**
   * Identity numbers: null when neither run has any; else whether the frames' descriptors were
   * compared (both runs have them, from the same embedder) and a note saying what or why not.
   */
  identity: { compared: boolean; note: string } | null;
}

/** Images of a failing frame, handed to {@link CompareRunsOptions.onDifferent}. */
export interface DifferentFrame {
  /** The comparison row. */
  frame: FrameDiff;
  /** Decoded image in A. */
  imageA: RgbaImage;
  /** Decoded image in B. */
  imageB: RgbaImage;
  /** pixelmatch's diff picture, null when the sizes differ. */
  diffImage: Uint8Array | null;
}

/** Options of {@link compareRuns}. */
export interface CompareRunsOptions {
  /** Limits; default {@link DEFAULT_TOLERANCE}. */
  tolerance?: Tolerance;
  /** Names of the runs in messages; default `["A", "B"]` (e.g. `["reference", "new run"]`). */
  labels?: [string, string];
  /** Called for every frame judged `different` whose images could both be decoded. */
  onDifferent?: (different: DifferentFrame) => void | Promise<void>;
  /**
   * Reads a frame file of a run; what it throws makes the frame `unreadable`, with its message as
   * the reason. Default: the file under the run folder. The viewer passes its serving rule, so a
   * comparison reads exactly the files the viewer may serve.
   */
  readFrame?: (run: OpenedRun, file: string) => Promise<Uint8Array>;
}

function side(frame: OpenedRun["manifest"]["frames"][number]): FrameSide {
  return { t: frame.t ?? null, color: frame.color, file: frame.file, sha256: frame.sha256 };
}

/** Reads and decodes the frame files of one run, each file once. */
class FrameReader {
  readonly #cache = new Map<string, Promise<{ bytes: Uint8Array; sha256: string }>>();
  readonly #decoded = new Map<string, Promise<RgbaImage>>();

  constructor(
    readonly run: OpenedRun,
    readonly name: string,
    readonly readFrame?: CompareRunsOptions["readFrame"],
  ) {}

  #path(file: string): string {
    const path = frameFilePath(this.run.dir, file);
    if (!path) throw new Error(`${this.name}: frame file "${file}" points outside the run folder`);
    return path;
  }

  async #readUnderRun(file: string): Promise<Uint8Array> {
    const path = this.#path(file);
    try {
      return await Deno.readFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new Error(`${this.name}: ${path} is missing`);
      throw e;
    }
  }

  read(file: string): Promise<{ bytes: Uint8Array; sha256: string }> {
    let entry = this.#cache.get(file);
    if (!entry) {
      entry = (async () => {
        const bytes = this.readFrame
          ? await this.readFrame(this.run, file)
          : await this.#readUnderRun(file);
        return { bytes, sha256: sha256Hex(bytes) };
      })();
      this.#cache.set(file, entry);
    }
    return entry;
  }

  decode(file: string): Promise<RgbaImage> {
    let entry = this.#decoded.get(file);
    if (!entry) {
      entry = this.read(file).then(({ bytes }) => decodePng(bytes, `${this.name}: ${file}`));
      this.#decoded.set(file, entry);
    }
    return entry;
  }
}

function emptyRow(index: number, a: FrameSide | null, b: FrameSide | null): FrameDiff {
  return {
    index,
    status: "identical",
    a,
    b,
    inputsDiffer: [],
    maxAbsDiff: null,
    psnr: null,
    ssim: null,
    differingPixels: null,
    differingShare: null,
    limitsFailed: [],
    reasons: [],
    warnings: [],
    identityDistance: null,
  };
}

function fillMetrics(row: FrameDiff, c: SameSizeComparison): void {
  row.maxAbsDiff = c.maxAbsDiff;
  row.psnr = Number.isFinite(c.psnr) ? c.psnr : null;
  row.ssim = c.ssim;
  row.differingPixels = c.differingPixels;
  row.differingShare = c.differingShare;
}

function identicalMetrics(row: FrameDiff): void {
  row.maxAbsDiff = 0;
  row.psnr = null;
  row.ssim = 1;
  row.differingPixels = 0;
  row.differingShare = 0;
}

async function compareFrame(
  row: FrameDiff,
  readers: [FrameReader, FrameReader],
  options: CompareRunsOptions,
  tolerance: Tolerance,
): Promise<void> {
  const sides = [row.a!, row.b!];
  let files;
  try {
    files = await Promise.all(sides.map((s, i) => readers[i].read(s.file)));
  } catch (e) {
    row.status = "unreadable";
    row.reasons.push((e as Error).message);
    return;
  }
  files.forEach((f, i) => {
    if (f.sha256 !== sides[i].sha256) {
      row.warnings.push(
        `${readers[i].name}: ${sides[i].file} does not have its recorded SHA-256 (altered file)`,
      );
    }
  });
  if (files[0].sha256 === files[1].sha256) {
    identicalMetrics(row);
    return;
  }
  let images: RgbaImage[];
  try {
    images = await Promise.all(sides.map((s, i) => readers[i].decode(s.file)));
  } catch (e) {
    row.status = "unreadable";
    row.reasons.push((e as Error).message);
    return;
  }
  const comparison = compareImages(images[0], images[1], {
    pixelThreshold: tolerance.pixelThreshold,
    diffImage: options.onDifferent !== undefined,
  });
  const verdict = judge(comparison, tolerance);
  row.status = verdict.status;
  row.limitsFailed = verdict.failed;
  row.reasons.push(...verdict.reasons);
  if (comparison.sameSize) fillMetrics(row, comparison);
  if (verdict.status === "different" && options.onDifferent) {
    await options.onDifferent({
      frame: row,
      imageA: images[0],
      imageB: images[1],
      diffImage: comparison.sameSize ? comparison.diffImage : null,
    });
  }
}

function sameColor(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Compares run B against run A: frames by index (pixels, against the tolerance), and the spec,
 * model and runtime recorded in their manifests.
 *
 * Frame files are hashed as they are on disk (not trusted from the manifest); equal hashes are
 * identical without decoding.
 */
export async function compareRuns(
  a: OpenedRun,
  b: OpenedRun,
  options: CompareRunsOptions = {},
): Promise<RunComparison> {
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const [labelA, labelB] = options.labels ?? ["A", "B"];
  const readers: [FrameReader, FrameReader] = [
    new FrameReader(a, labelA, options.readFrame),
    new FrameReader(b, labelB, options.readFrame),
  ];
  const byIndexA = new Map(a.manifest.frames.map((f) => [f.index, f]));
  const byIndexB = new Map(b.manifest.frames.map((f) => [f.index, f]));
  const indices = [...new Set([...byIndexA.keys(), ...byIndexB.keys()])].sort((x, y) => x - y);

  const identity = identityComparison(a, b, labelA, labelB);
  const frames: FrameDiff[] = [];
  for (const index of indices) {
    const fa = byIndexA.get(index);
    const fb = byIndexB.get(index);
    const row = emptyRow(index, fa ? side(fa) : null, fb ? side(fb) : null);
    frames.push(row);
    if (!row.a || !row.b) {
      row.status = row.a ? "missing-in-b" : "missing-in-a";
      row.reasons.push(`frame ${index} is not in ${row.a ? labelB : labelA}`);
      continue;
    }
    if (row.a.t !== row.b.t) row.inputsDiffer.push("t");
    if (!sameColor(row.a.color, row.b.color)) row.inputsDiffer.push("color");
    await compareFrame(row, readers, options, tolerance);
    if (identity?.compared && fa?.identity && fb?.identity) {
      row.identityDistance = distance(fa.identity.descriptor, fb.identity.descriptor);
    }
  }

  const counts = Object.fromEntries(
    (["identical", "within-tolerance", ...FAILING_STATUSES] as FrameStatus[]).map((s) => [s, 0]),
  ) as Record<FrameStatus, number>;
  for (const row of frames) counts[row.status]++;

  return {
    a: a.manifestPath,
    b: b.manifestPath,
    tolerance,
    ok: frames.every((row) => !FAILING_STATUSES.includes(row.status)),
    frames,
    counts,
    diffs: {
      spec: deepDiff(a.manifest.spec, b.manifest.spec, "spec"),
      model: deepDiff(a.manifest.model, b.manifest.model, "model"),
      runtime: deepDiff(a.manifest.runtime, b.manifest.runtime, "runtime"),
    },
    identity,
  };
}

function identityComparison(
  a: OpenedRun,
  b: OpenedRun,
  labelA: string,
  labelB: string,
): RunComparison["identity"] {
  const [ea, eb] = [a.manifest.identity?.embedder, b.manifest.identity?.embedder];
  if (!ea && !eb) return null;
  if (!ea || !eb) {
    return {
      compared: false,
      note: `no identity numbers in ${ea ? labelB : labelA} (deno task analyze adds them)`,
    };
  }
  if (ea.sha256 !== eb.sha256 || ea.dimension !== eb.dimension) {
    return {
      compared: false,
      note: `the runs' face embedders differ (${ea.sha256.slice(0, 12)}… vs ` +
        `${eb.sha256.slice(0, 12)}…): their descriptors are not comparable`,
    };
  }
  return {
    compared: true,
    note: `Euclidean distance between ${labelA}'s and ${labelB}'s face descriptors of each frame ` +
      `(${ea.name}; the same person below ${ea.threshold})`,
  };
}
