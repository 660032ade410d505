/**
 * The check that a converted real model is right: diffusers publishes 30 output values of the
 * CompVis/ldm-celebahq-256 UNet for `torch.manual_seed(0); torch.randn(1, 3, 64, 64)` at t = 10.
 * Our noise is torch's bit for bit, so our UNet must reproduce them.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { join } from "node:path";
import golden from "../testdata/ldm-reference/real-model-golden.json" with { type: "json" };
import { torchRandn } from "../noise/mod.ts";
import { readModelInfo, sessionOptions } from "../pipelines/model.ts";
import { cpus } from "node:os";

/**
 * A golden check: the UNet input is `torch.manual_seed(seed); torch.randn(*shape)`, and `values`
 * are the first entries of `eps[0, 0, 0, :]` at `timestep`.
 */
export interface GoldenReference {
  /** The model the values belong to. */
  model: string;
  /** Seed of the input noise. */
  seed: number;
  /** Input shape, [1, C, H, W]. */
  shape: [number, number, number, number];
  /** UNet timestep. */
  timestep: number;
  /** Reference values of `eps[0, 0, 0, :values.length]`. */
  values: number[];
  /** Largest allowed absolute difference. */
  atol: number;
}

/** The values diffusers publishes for CompVis/ldm-celebahq-256 (seed 0, 1×3×64×64, t = 10). */
export const REAL_MODEL_GOLDEN: GoldenReference = {
  model: golden.model,
  seed: 0,
  shape: [1, 3, 64, 64],
  timestep: golden.timestep,
  values: golden.values,
  atol: golden.atol,
};

/** Outcome of {@link verifyGolden}. */
export interface GoldenResult {
  /** Whether every value is within the tolerance. */
  ok: boolean;
  /** Largest absolute difference. */
  maxAbsDiff: number;
  /** Our 30 values. */
  values: number[];
  /** The reference values. */
  expected: number[];
  /** Tolerance used. */
  atol: number;
}

/**
 * Runs the model's UNet on the golden input and compares with the reference values.
 *
 * @throws {Error} when the model's latents are not shaped like the reference input
 */
export async function verifyGolden(
  modelDir: string,
  reference: GoldenReference = REAL_MODEL_GOLDEN,
): Promise<GoldenResult> {
  const info = await readModelInfo(modelDir);
  const [, c, h] = reference.shape;
  if (info.latentChannels !== c || info.latentSize !== h) {
    throw new Error(
      `${modelDir} has ${info.latentChannels}×${info.latentSize}×${info.latentSize} latents; ` +
        `the golden values are for ${reference.model} (${c}×${h}×${reference.shape[3]})`,
    );
  }
  if (info.precision === "fp16") {
    throw new Error(
      `${modelDir} holds an fp16 conversion; the golden values check float32 arithmetic ` +
        `(tolerance ${reference.atol}): verify an fp32 conversion of the same checkpoint instead`,
    );
  }
  const session = await ort.InferenceSession.create(
    join(modelDir, "unet.onnx"),
    sessionOptions("cpu", cpus().length),
  );
  try {
    const x = torchRandn(reference.shape, reference.seed);
    const out = await session.run({
      sample: new ort.Tensor("float32", x, reference.shape),
      timestep: new ort.Tensor("float32", new Float32Array([reference.timestep]), [1]),
    });
    const eps = out.eps.data as Float32Array;
    const values = Array.from(eps.subarray(0, reference.values.length));
    let maxAbsDiff = 0;
    for (let i = 0; i < values.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(values[i] - reference.values[i]));
    }
    return {
      ok: maxAbsDiff <= reference.atol,
      maxAbsDiff,
      values,
      expected: reference.values,
      atol: reference.atol,
    };
  } finally {
    await session.release();
  }
}
