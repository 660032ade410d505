/**
 * A deterministic test double of {@link FaceEmbedder} for unit tests of the statistics and of the
 * runner's bookkeeping (never for claims about faces): the descriptor is a fixed random linear
 * map of the image's mean colour and of its top/bottom and left/right contrasts, so different
 * images give different descriptors and equal images equal ones.
 *
 * @module
 */

import { DESCRIPTOR_LENGTH, type EmbedderInfo, type FaceEmbedder } from "./embedder.ts";

/** A small seeded PRNG (mulberry32) returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a fake embedder recorded. */
export interface FakeEmbedderLog {
  /** Images per `embed` call. */
  calls: number[];
  /** Whether `release` was called. */
  released: boolean;
}

/** The fake embedder's info; `sha256` can be varied to simulate another network. */
export function fakeEmbedderInfo(sha256 = "f".repeat(64)): EmbedderInfo {
  return {
    name: "fake embedder (tests only)",
    source: "lib/identity/_fake_embedder.ts",
    sha256,
    dimension: DESCRIPTOR_LENGTH,
    threshold: 0.6,
    preprocessing: "none",
  };
}

/** A fake embedder and its log. */
export function fakeEmbedder(sha256?: string): { embedder: FaceEmbedder; log: FakeEmbedderLog } {
  const rand = mulberry32(11);
  const weights = Array.from({ length: DESCRIPTOR_LENGTH * 9 }, () => rand() - 0.5);
  const log: FakeEmbedderLog = { calls: [], released: false };
  const embedder: FaceEmbedder = {
    info: fakeEmbedderInfo(sha256),
    embed(images, count, size) {
      log.calls.push(count);
      const plane = size * size;
      if (images.length !== count * 3 * plane) {
        return Promise.reject(
          new RangeError(`fake embedder: ${images.length} values for ${count}`),
        );
      }
      const out = new Float32Array(count * DESCRIPTOR_LENGTH);
      for (let b = 0; b < count; b++) {
        const features: number[] = [];
        for (let c = 0; c < 3; c++) {
          let all = 0, top = 0, left = 0;
          for (let y = 0; y < size; y++) {
            for (let x = 0; x < size; x++) {
              const v = images[(b * 3 + c) * plane + y * size + x];
              all += v;
              if (y < size / 2) top += v;
              if (x < size / 2) left += v;
            }
          }
          features.push(all / plane, (2 * top - all) / plane, (2 * left - all) / plane);
        }
        for (let k = 0; k < DESCRIPTOR_LENGTH; k++) {
          let sum = 0;
          for (let f = 0; f < 9; f++) sum += weights[k * 9 + f] * features[f];
          out[b * DESCRIPTOR_LENGTH + k] = sum;
        }
      }
      return Promise.resolve(out);
    },
    release() {
      log.released = true;
      return Promise.resolve();
    },
  };
  return { embedder, log };
}
