/**
 * Parameter tables of the graphs (every tensor each graph reads, by diffusers key and shape),
 * checkpoint checking against them, and deterministic random weights for running the
 * full-size architecture without the real checkpoint (benchmarks, smoke tests).
 *
 * @module
 */

import { f32Tensor, numel, type RawTensor } from "../io/tensor.ts";
import { unetParameterShapes } from "./unet.ts";
import { vqDecoderParameterShapes } from "./vqvae.ts";
import { checkWeights, countParameters, WeightError } from "./weights.ts";

export {
  checkWeights,
  countParameters,
  unetParameterShapes,
  vqDecoderParameterShapes,
  WeightError,
};

/**
 * Deterministic random float32 weights for a shape table: tensors of rank ≥ 2 uniform in
 * ±1/√fan_in (fan_in = all dims but the first, PyTorch's default bound for Linear/Conv), biases
 * (`*.bias`) 0 and other rank-1 tensors (norm scales) 1. The same seed gives the same weights.
 *
 * @param shapes name → shape, e.g. from {@link unetParameterShapes}
 * @param seed any integer; taken modulo 2^32
 */
export function randomWeights(
  shapes: ReadonlyMap<string, readonly number[]>,
  seed: number,
): Map<string, RawTensor> {
  const next = mulberry32(seed >>> 0);
  const out = new Map<string, RawTensor>();
  for (const [name, shape] of shapes) {
    const data = new Float32Array(numel(shape));
    if (shape.length >= 2) {
      const bound = 1 / Math.sqrt(numel(shape.slice(1)));
      for (let i = 0; i < data.length; i++) data[i] = (next() * 2 - 1) * bound;
    } else if (!name.endsWith(".bias")) {
      data.fill(1);
    }
    out.set(name, f32Tensor([...shape], data));
  }
  return out;
}

/** A small, fast 32-bit PRNG (mulberry32) returning floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
