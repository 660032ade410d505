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
import { readModelInfo } from "../pipelines/model.ts";

/** The published reference: input recipe, timestep, 30 values of `eps[0, 0, 0, :30]`, atol. */
export const REAL_MODEL_GOLDEN: {
  model: string;
  timestep: number;
  values: number[];
  atol: number;
} = golden;

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
 * Runs the model's UNet on the golden input and compares with the published values.
 *
 * @throws {Error} when the model is not shaped like the real one (3×64×64 latents)
 */
export async function verifyGolden(
  modelDir: string,
  reference = REAL_MODEL_GOLDEN,
): Promise<GoldenResult> {
  const info = await readModelInfo(modelDir);
  if (info.latentChannels !== 3 || info.latentSize !== 64) {
    throw new Error(
      `${modelDir} has ${info.latentChannels}×${info.latentSize}×${info.latentSize} latents; ` +
        `the golden values are for ${reference.model} (3×64×64)`,
    );
  }
  const session = await ort.InferenceSession.create(join(modelDir, "unet.onnx"));
  try {
    const x = torchRandn([1, 3, 64, 64], 0);
    const out = await session.run({
      sample: new ort.Tensor("float32", x, [1, 3, 64, 64]),
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
