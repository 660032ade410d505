/**
 * What the runner needs from the rest of the project (model loading and sampling, colour paths,
 * pictures), as narrow interfaces. The real implementations are imported lazily, so unit tests
 * can inject fakes and never load onnxruntime.
 *
 * @module
 */

import type { PathApi } from "./plan.ts";
import type { FaceEmbedder } from "../identity/embedder.ts";

/** The parts of a loaded model the runner uses (see `LoadedModel` in `lib/pipelines`). */
export interface RunnerModel {
  /** The converted model folder. */
  dir: string;
  /** Parsed model.json (recorded whole in the manifest; these fields are used). */
  info: {
    /** SHA-256 of every converted file. */
    sha256: Record<string, string>;
    /** Scheduler config. */
    scheduler?: unknown;
    /** Latent divisor before decoding. */
    latentScale: number;
  };
  /** Device the sessions run on. */
  device: string;
  /** Intra-op threads. */
  threads: number;
  /** Decoded image height = width. */
  imageSize: number;
  /** Latent height = width (tells which benchmark applies to this model). */
  latentSize: number;
  /** Frees the sessions. */
  release(): Promise<void>;
}

/** Sampler inputs, as `sample` in `lib/pipelines` takes them. */
export interface RunnerSampleOptions {
  /** Seed of the shared initial noise. */
  seed: number | bigint;
  /** DDIM steps. */
  steps: number;
  /** One colour per image. */
  colors: [number, number, number][];
  /** Injection scale. */
  scale: number;
  /** Injection window. */
  window: [number, number];
  /** Injection mode. */
  mode: "constant" | "gaussian";
  /** Latent divisor. */
  latentScale: number;
  /** Progress callback per denoising step. */
  onStep?: (k: number, steps: number) => void;
}

/** One frame handed to the contact sheet (see `ContactFrame` in `lib/render`). */
export interface PictureFrame {
  /** Position in the run. */
  index: number;
  /** RGBA pixels. */
  rgba: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Injected colour. */
  color: [number, number, number];
  /** Caption (label or index). */
  label: string;
  /** Multi-seed runs: the frame's seed (grid row), decimal. */
  seed?: string;
  /** Multi-seed runs: the frame's colour position (grid column). */
  colorIndex?: number;
}

/** What the grid picture of a multi-seed run shows (see `GridSheetInput` in `lib/render`). */
export interface GridPictureInput {
  /** One row per seed, labelled with the seed, one frame per colour. */
  rows: { label: string; cells: readonly PictureFrame[] }[];
  /** The colours, one per column. */
  colors: [number, number, number][];
  /**
   * Identity numbers, once the run's descriptors are known (see `GridIdentity` in
   * `lib/render`): per row, per cell the distance to the seed's reference face; the threshold;
   * footer lines.
   */
  identity?: { toReference: (number | null)[][]; threshold: number; footer?: string[] };
}

/** Everything the runner calls outside `lib/experiments`. */
export interface RunnerDeps {
  /** Turns "tiny", a folder or a hub id into a converted model folder. */
  resolveModel(spec: string, log: (message: string) => void): Promise<string>;
  /**
   * Checks every file of a converted model against the SHA-256 recorded in its model.json,
   * throwing an error that names the damaged file.
   */
  verifyModel(dir: string, log: (message: string) => void): Promise<void>;
  /** Loads a converted model. */
  loadModel(
    dir: string,
    options: { device: "cpu" | "cuda" | "auto"; threads?: number; warn: (m: string) => void },
  ): Promise<RunnerModel>;
  /** Samples one batch; `images` is NCHW float32 in [0, 1]. */
  sample(model: RunnerModel, options: RunnerSampleOptions): Promise<{ images: Float32Array }>;
  /** onnxruntime version string for the manifest. */
  onnxruntimeVersion(): Promise<string>;
  /** Colour paths; `createPath` also checks path parameters before any work. */
  paths: PathApi;
  /** NCHW float batch → RGBA of one image. */
  imageToRgba(images: Float32Array, index: number, width: number, height: number): Uint8Array;
  /** RGBA → deterministic PNG bytes. */
  encodePng(rgba: Uint8Array, width: number, height: number): Promise<Uint8Array>;
  /** PNG bytes → RGBA. */
  decodePng(
    bytes: Uint8Array,
    source: string,
  ): Promise<{ width: number; height: number; rgba: Uint8Array }>;
  /** Grid of frames as PNG bytes. */
  contactSheet(
    frames: readonly PictureFrame[],
    options: { columns?: number; tileSize?: number; title?: string },
  ): Promise<Uint8Array>;
  /** Seeds × colours picture of a multi-seed run, PNG bytes. */
  gridSheet(
    input: GridPictureInput,
    options: { tileSize?: number; title?: string },
  ): Promise<Uint8Array>;
  /** The path through the RGB cube (dense `fine` colours) with the frames' colours, PNG bytes. */
  pathPlot(input: {
    fine: readonly (readonly [number, number, number])[];
    points: readonly { color: readonly [number, number, number] }[];
    title?: string;
  }): Promise<Uint8Array>;
  /** Writes an animated GIF of RGBA frames to `options.out`. */
  encodeGif(
    frames: readonly Uint8Array[],
    width: number,
    height: number,
    options: { fps: number; out: string },
  ): Promise<void>;
  /** Writes an H.264 MP4 of RGBA frames to `options.out` with the given ffmpeg. */
  encodeMp4(
    frames: readonly Uint8Array[],
    width: number,
    height: number,
    options: { fps: number; out: string; ffmpeg?: string },
  ): Promise<void>;
  /** Path of an ffmpeg executable, or null when there is none. */
  findFfmpeg(): Promise<string | null>;
  /**
   * Loads the face embedder for identity numbers (`lib/identity`). Optional so that test fakes
   * without one run no identity; the real deps always have it.
   */
  loadEmbedder?(
    options: { device?: "cpu" | "cuda" | "auto"; threads?: number; log?: (m: string) => void },
  ): Promise<FaceEmbedder>;
}
