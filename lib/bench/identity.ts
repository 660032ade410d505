/**
 * The identity figure of `deno task bench`: what computing one frame's face descriptor costs
 * (face-api's recognition net on onnxruntime, CPU, including the crop and resize of `embed`),
 * per image at batch 1 and 8, on 256×256 images like the real model's frames.
 *
 * @module
 */

import { loadFaceEmbedder } from "../identity/face_recognition.ts";
import { torchRandn } from "../noise/mod.ts";
import { median } from "./machine.ts";

/** Options of {@link measureFaceEmbedding}. */
export interface FaceEmbeddingBenchOptions {
  /** Intra-op threads. */
  threads: number;
  /** Timed runs per batch size after one warm-up (the median is reported). */
  runs: number;
  /** Batch sizes (default 1 and 8). */
  batches?: readonly number[];
  /** Side of the images (default 256, the real model's frames). */
  imageSize?: number;
  /** Progress messages. */
  log?: (message: string) => void;
}

/** Cost of `FaceEmbedder.embed` at one batch size. */
export interface FaceEmbeddingBatchResult {
  /** Images per `embed` call. */
  batch: number;
  /** Median milliseconds of one call. */
  msPerCall: number;
  /** `msPerCall / batch`: the cost per frame. */
  msPerImage: number;
  /** Every timed call, milliseconds. */
  runsMs: number[];
}

/** The identity section of the bench result. */
export interface FaceEmbeddingBench {
  /** Embedder name and source (see `EmbedderInfo`). */
  embedder: string;
  /** Side of the measured images. */
  imageSize: number;
  /** Per batch size. */
  batches: FaceEmbeddingBatchResult[];
}

/** Measures `embed` on deterministic noise images (the cost does not depend on the content). */
export async function measureFaceEmbedding(
  options: FaceEmbeddingBenchOptions,
): Promise<FaceEmbeddingBench> {
  const size = options.imageSize ?? 256;
  const batches = [...(options.batches ?? [1, 8])];
  const embedder = await loadFaceEmbedder({ threads: options.threads, log: options.log });
  try {
    const result: FaceEmbeddingBatchResult[] = [];
    for (const batch of batches) {
      options.log?.(`face embedding batch ${batch}`);
      const images = torchRandn([batch, 3, size, size], 3).map((v) => 1 / (1 + Math.exp(-v)));
      await embedder.embed(images, batch, size);
      const runsMs: number[] = [];
      for (let r = 0; r < options.runs; r++) {
        const start = performance.now();
        await embedder.embed(images, batch, size);
        runsMs.push(performance.now() - start);
      }
      const msPerCall = median(runsMs);
      result.push({ batch, msPerCall, msPerImage: msPerCall / batch, runsMs });
    }
    return {
      embedder: `${embedder.info.name}, ${embedder.info.source}`,
      imageSize: size,
      batches: result,
    };
  } finally {
    await embedder.release();
  }
}

/** One report line: `face embedding (…): 12.3 ms/image at batch 1, 9.8 at batch 8`. */
export function formatFaceEmbedding(r: FaceEmbeddingBench): string {
  return `face embedding (${r.embedder}, ${r.imageSize}×${r.imageSize}, CPU): ` +
    r.batches.map((b) => `${b.msPerImage.toFixed(1)} ms/image at batch ${b.batch}`).join(", ");
}
