/**
 * Helpers shared by the sampler tests: the diffusers reference cases and agreement measures.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readSafetensors, type SafetensorsFile } from "../io/safetensors.ts";

/** The reference data folder. */
export const FIXTURES = new URL("../testdata/ldm-reference/", import.meta.url);

/** `pipeline.safetensors`: diffusers' colour-injection runs on the tiny checkpoint. */
export const pipelineCases: SafetensorsFile = await readSafetensors(
  new URL("pipeline.safetensors", FIXTURES).pathname,
);

/** Share of values with |a - b| ≤ tol, and the largest difference. */
export function agreement(
  a: Float32Array,
  b: Float32Array,
  tol: number,
): { share: number; max: number } {
  assert.equal(a.length, b.length);
  let within = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d <= tol) within++;
    if (d > max) max = d;
  }
  return { share: within / a.length, max };
}

/** Largest absolute value. */
export function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}
