/**
 * Test doubles for the runner: a fake model and sampler (images derived from the colour and the
 * seed, so every sampling input shows in the pixels), and recording picture writers. PNG coding
 * and colour paths are the real ones.
 *
 * @module
 */

import * as paths from "../paths/mod.ts";
import { decodePng, encodePng, imageToRgba } from "../render/mod.ts";
import type { RunnerDeps, RunnerModel, RunnerSampleOptions } from "./deps.ts";
import type { PathApi } from "./plan.ts";
import type { FaceEmbedder } from "../identity/embedder.ts";

/** What a fake run recorded. */
export interface FakeLog {
  /** Every sampler call. */
  samples: RunnerSampleOptions[];
  /** Models released. */
  released: number;
  /** Model specs resolved. */
  resolved: string[];
  /** Model folders verified. */
  verified: string[];
  /** Picture calls by kind. */
  pictures: string[];
}

/** Options of {@link fakeDeps}. */
export interface FakeOptions {
  /** Image size of the fake model; default 4. */
  size?: number;
  /** Throw from the sampler on this call (1-based). */
  failOnCall?: number;
  /** Path reported by findFfmpeg; default null. */
  ffmpeg?: string | null;
  /** Called at the start of every sampler call (1-based), e.g. to abort a run there. */
  beforeSample?: (call: number) => void;
  /** Thrown by verifyModel (a damaged model file). */
  verifyError?: Error;
  /** Thrown by encodeGif (e.g. the disk filled up while writing the video). */
  gifError?: Error;
  /** Thrown by loadModel (e.g. the GPU is out of memory). */
  loadError?: Error;
  /** A face embedder for identity numbers (see `lib/identity/_fake_embedder.ts`); default none. */
  embedder?: FaceEmbedder;
}

/** Fake runner deps and the log they fill. */
export function fakeDeps(options: FakeOptions = {}): { deps: RunnerDeps; log: FakeLog } {
  const size = options.size ?? 4;
  const log: FakeLog = { samples: [], released: 0, resolved: [], verified: [], pictures: [] };
  const model: RunnerModel = {
    dir: "/fake/model",
    info: {
      sha256: { "unet.onnx": "1".repeat(64), "vqvae_decoder.onnx": "2".repeat(64) },
      scheduler: { num_train_timesteps: 1000 },
      latentScale: 1,
    },
    device: "cpu",
    threads: 1,
    imageSize: size,
    latentSize: size / 4,
    release() {
      log.released++;
      return Promise.resolve();
    },
  };
  const deps: RunnerDeps = {
    resolveModel(spec) {
      log.resolved.push(spec);
      return Promise.resolve(model.dir);
    },
    verifyModel(dir) {
      log.verified.push(dir);
      return options.verifyError ? Promise.reject(options.verifyError) : Promise.resolve();
    },
    loadModel: () => options.loadError ? Promise.reject(options.loadError) : Promise.resolve(model),
    sample(_model, o) {
      log.samples.push(o);
      options.beforeSample?.(log.samples.length);
      if (log.samples.length === options.failOnCall) {
        return Promise.reject(new Error("sampler failed (test)"));
      }
      const plane = size * size;
      const images = new Float32Array(o.colors.length * 3 * plane);
      const seed = Number(BigInt(o.seed) % 97n);
      o.colors.forEach((color, b) => {
        for (let c = 0; c < 3; c++) {
          for (let i = 0; i < plane; i++) {
            const pattern = ((i * 7 + seed + o.steps + o.window[0]) % 5) / 4;
            const v = 0.1 * pattern + 0.8 * color[c] * Math.min(1, o.scale * 50);
            images[(b * 3 + c) * plane + i] = Math.min(1, v);
          }
        }
      });
      for (let k = 1; k <= o.steps; k++) o.onStep?.(k, o.steps);
      return Promise.resolve({ images });
    },
    onnxruntimeVersion: () => Promise.resolve("fake"),
    paths: paths as unknown as PathApi,
    imageToRgba,
    encodePng,
    decodePng,
    contactSheet(frames) {
      log.pictures.push(`contactSheet:${frames.length}`);
      return encodePng(new Uint8Array(4).fill(255), 1, 1);
    },
    gridSheet(input) {
      log.pictures.push(`grid:${input.rows.length}x${input.colors.length}`);
      return encodePng(new Uint8Array(4).fill(255), 1, 1);
    },
    pathPlot(input) {
      log.pictures.push(`pathPlot:${input.points.length}`);
      return encodePng(new Uint8Array(4).fill(255), 1, 1);
    },
    async encodeGif(frames, _w, _h, o) {
      if (options.gifError) throw options.gifError;
      log.pictures.push(`gif:${frames.length}`);
      await Deno.writeFile(o.out, new Uint8Array([0x47, 0x49, 0x46]));
    },
    async encodeMp4(frames, _w, _h, o) {
      log.pictures.push(`mp4:${frames.length}`);
      await Deno.writeFile(o.out, new Uint8Array([0]));
    },
    findFfmpeg: () => Promise.resolve(options.ffmpeg ?? null),
    ...(options.embedder ? { loadEmbedder: () => Promise.resolve(options.embedder!) } : {}),
  };
  return { deps, log };
}

/** A progress writer that swallows output (keeps test logs clean). */
export const quietWriter = { writeSync: (b: Uint8Array) => b.length, isTerminal: () => false };

/** Runs `fn` in a fresh temporary folder (name starting with `prefix`), removed afterwards. */
export async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
