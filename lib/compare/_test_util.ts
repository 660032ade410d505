/**
 * Synthetic run folders for tests: PNG frames and a manifest in the runner's layout, without
 * running any model.
 *
 * @module
 */

import { join } from "node:path";
import { encodePng } from "../render/png.ts";
import { sha256Hex } from "../util/hash.ts";
import type { Manifest } from "../experiments/manifest.ts";

/** A small deterministic test image: a gradient that depends on `seed`. */
export function gradientImage(width: number, height: number, seed = 0): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      rgba[i] = (x * 7 + seed * 31) % 256;
      rgba[i + 1] = (y * 5 + seed * 17) % 256;
      rgba[i + 2] = ((x + y) * 3 + seed * 13) % 256;
      rgba[i + 3] = 255;
    }
  }
  return rgba;
}

/** One frame of a synthetic run. */
export interface TestFrame {
  /** Pixels. */
  rgba: Uint8Array;
  /** Width (default 16). */
  width?: number;
  /** Height (default 16). */
  height?: number;
  /** Path time (default index / 10). */
  t?: number | null;
  /** Colour (default grey by index). */
  color?: [number, number, number];
}

/** Options of {@link writeTestRun}. */
export interface TestRunOptions {
  /** Seed recorded in the spec (default 1). */
  seed?: number;
  /** Threads recorded in the runtime (default 1). */
  threads?: number;
  /** Model file hashes (default one fixed file). */
  modelSha256?: Record<string, string>;
}

/** Writes a run folder (`manifest.json` + `frames/<sha>.png`) and returns its manifest. */
export async function writeTestRun(
  dir: string,
  frames: TestFrame[],
  options: TestRunOptions = {},
): Promise<Manifest> {
  await Deno.mkdir(join(dir, "frames"), { recursive: true });
  const entries = [];
  for (const [index, frame] of frames.entries()) {
    const width = frame.width ?? 16;
    const height = frame.height ?? 16;
    const png = await encodePng(frame.rgba, width, height);
    const sha256 = sha256Hex(png);
    const file = `frames/${sha256}.png`;
    await Deno.writeFile(join(dir, file), png);
    entries.push({
      index,
      t: frame.t === undefined ? index / 10 : frame.t,
      color: frame.color ?? [index / 10, index / 10, index / 10],
      injection: { scale: 0.01, window: [1, 10], mode: "constant" },
      key: sha256Hex(`key ${index}`),
      file,
      sha256,
      width,
      height,
      computed: true,
      timings: { sampleMs: 1, batchMs: 1, batchSize: 1 },
      meanColor: [0.5, 0.5, 0.5],
      distanceToPrevious: null,
    });
  }
  const manifest = {
    version: 1,
    status: "complete",
    runId: "test",
    specHash: "0".repeat(64),
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z",
    spec: {
      name: "test",
      model: "tiny",
      seed: options.seed ?? 1,
      steps: 5,
      injection: { scale: 0.01, window: [1, 5], mode: "constant" },
      frames: { count: frames.length, sampling: "time" },
      batch: 1,
      outputs: { frames: true, contactSheet: false, pathPlot: false, video: false },
    },
    model: {
      spec: "tiny",
      dir: "models/tiny",
      info: { sha256: options.modelSha256 ?? { "unet.onnx": "a".repeat(64) }, latentScale: 1 },
    },
    runtime: {
      deno: "2.0.0",
      v8: "1",
      onnxruntime: "1.30.0",
      device: "cpu",
      threads: options.threads ?? 1,
      os: "linux",
      arch: "x86_64",
      cpu: { model: "test", cores: 2 },
    },
    frames: entries,
    summary: null,
    outputs: { contactSheet: null, pathPlot: null, video: { mp4: null, gif: null } },
    warnings: [],
  } as unknown as Manifest;
  await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
  return manifest;
}

/** Collects the lines a CLI writes. */
export function captureIo(): {
  out: string[];
  err: string[];
  io: { out: (s: string) => void; err: (s: string) => void };
} {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s) => out.push(s), err: (s) => err.push(s) } };
}
