/**
 * The fused denoising loop: one ONNX `Loop` whose body is the colour injection, the UNet and the
 * deterministic DDIM update, so that K denoising steps take one `session.run` and the latents
 * stay wherever the runtime keeps them (on a GPU: on the device) between steps.
 * onnxruntime-node offers no I/O binding for CUDA, so this is how the per-step host↔device
 * copies of the latents are avoided.
 *
 * Everything that varies per step — timestep, injection scale, injection noise, the DDIM
 * coefficients — comes in as a table indexed by the loop counter, computed in JavaScript by the
 * same code the step-by-step sampler uses, so both paths round identically. The body reads the
 * UNet weights as outer-scope initializers of the main graph: they are stored once, with the
 * same names and order as in `unet.onnx`, so both models can share one external-data file.
 *
 * Graph interface (K = trip count, N batch, C×H×W latents):
 * - `latents` float32 [N, C, H, W]: the starting latents
 * - `trip_count` int64 []: K
 * - `timesteps` float32 [K]
 * - `inject_scale` float32 [K]: the injection scale at each step, 0 outside the window
 * - `inject_field` float32 [N, C, H, W]: M per image (the colour in channels 0–2, 0 elsewhere)
 * - `inject_noise` float32 [K, 1, C, H, W] (gaussian mode) or [K, 1, 1, 1, 1] of ones (constant)
 * - `sqrt_alpha_prod`, `sqrt_beta_prod`, `sqrt_alpha_prod_prev`, `direction_scale` float32 [K]:
 *   see `DDIMScheduler.stepCoefficients`
 * - output `denoised` float32 [N, C, H, W]
 *
 * Step k computes x ← x + (inject_scale[k] · M) · noise[k]; ε = UNet(x, timesteps[k]);
 * x ← sqrt_alpha_prod_prev[k] · ((x − sqrt_beta_prod[k] · ε) / sqrt_alpha_prod[k])
 *   + direction_scale[k] · ε (for `epsilon` prediction), the operation order of
 * `injectColor` and `DDIMScheduler.step`.
 *
 * @module
 */

import { attr, type OnnxGraph } from "../onnx/graph.ts";
import { GraphBuilder } from "../onnx/graph_builder.ts";
import { UNET_IO } from "./unet.ts";

/** Names of the loop graph's inputs and output. */
export const DENOISE_LOOP_IO = {
  latents: "latents",
  tripCount: "trip_count",
  timesteps: "timesteps",
  injectScale: "inject_scale",
  injectField: "inject_field",
  injectNoise: "inject_noise",
  sqrtAlphaProd: "sqrt_alpha_prod",
  sqrtBetaProd: "sqrt_beta_prod",
  sqrtAlphaProdPrev: "sqrt_alpha_prod_prev",
  directionScale: "direction_scale",
  denoised: "denoised",
} as const;

/** The per-step coefficient tables, in the order {@link DENOISE_LOOP_IO} lists them. */
export const DENOISE_LOOP_TABLES = [
  DENOISE_LOOP_IO.timesteps,
  DENOISE_LOOP_IO.injectScale,
  DENOISE_LOOP_IO.sqrtAlphaProd,
  DENOISE_LOOP_IO.sqrtBetaProd,
  DENOISE_LOOP_IO.sqrtAlphaProdPrev,
  DENOISE_LOOP_IO.directionScale,
] as const;

/** Options of {@link buildDenoiseLoopGraph}: the scheduler settings the update depends on. */
export interface DenoiseLoopOptions {
  /** What the UNet predicts (diffusers' `prediction_type`, default `epsilon`). */
  predictionType?: "epsilon" | "sample" | "v_prediction";
  /** Clamp the predicted x0 to ±this (diffusers' `clip_sample_range`); null/omitted: no clamp. */
  clipSample?: number | null;
  /** Graph name (default `"denoise_loop"`). */
  name?: string;
}

/**
 * Wraps a built UNet graph (fp32 or fp16, as `buildUnetGraph` returns it) into the fused
 * denoising loop. The result's initializers are the UNet's, same names, same order.
 *
 * @throws {RangeError} when `unet` does not have the UNet graph's inputs and output
 */
export function buildDenoiseLoopGraph(
  unet: OnnxGraph,
  options: DenoiseLoopOptions = {},
): OnnxGraph {
  const inputNames = unet.inputs.map((i) => i.name).sort();
  if (
    inputNames.join() !== [UNET_IO.sample, UNET_IO.timestep].sort().join() ||
    !unet.outputs.some((o) => o.name === UNET_IO.eps)
  ) {
    throw new RangeError(
      `graph "${unet.name}" is not a UNet graph: need inputs sample, timestep and output eps`,
    );
  }
  const prediction = options.predictionType ?? "epsilon";
  const io = DENOISE_LOOP_IO;
  const sampleInfo = unet.inputs.find((i) => i.name === UNET_IO.sample)!;
  const channels = sampleInfo.shape?.[1] ?? "channels";
  const latentShape = ["batch", channels, "height", "width"];

  const outer = new GraphBuilder({ name: options.name ?? "denoise_loop", opset: unet.opset });
  for (const [domain, version] of Object.entries(unet.extraOpsets)) {
    outer.importOpset(domain, version);
  }
  // Same initializers in the same order as unet.onnx, so the external-data layouts coincide.
  for (const init of unet.initializers) outer.initializer(init.name, init.data, init.dims);
  const latents = outer.input(io.latents, "float32", latentShape);
  const tripCount = outer.input(io.tripCount, "int64", []);
  for (const table of DENOISE_LOOP_TABLES) outer.input(table, "float32", ["steps"]);
  outer.input(io.injectField, "float32", latentShape);
  outer.input(io.injectNoise, "float32", ["steps", 1, "noise_c", "noise_h", "noise_w"]);

  const body = new GraphBuilder({ name: "denoise_step", opset: unet.opset });
  body.outerScope([
    ...unet.initializers.map((i) => i.name),
    latents,
    tripCount,
    ...DENOISE_LOOP_TABLES,
    io.injectField,
    io.injectNoise,
  ]);
  const k = body.input("loop/iteration", "int64", []);
  const condIn = body.input("loop/cond", "bool", []);
  const xIn = body.input("loop/latents", "float32", latentShape);
  const xOut = body.scope("loop", () => {
    const at = (table: string) => body.gather(table, k);
    // injectColor: x + (scale · M) · noise, each product rounded to float32 as there.
    const field = body.mul(at(io.injectScale), io.injectField);
    const x = body.add(xIn, body.mul(field, at(io.injectNoise)));
    const t = body.expand(at(io.timesteps), body.shape(x, 0, 1));
    const { [UNET_IO.eps]: eps } = body.include(unet, {
      [UNET_IO.sample]: x,
      [UNET_IO.timestep]: t,
    });
    return ddimUpdate(
      body,
      x,
      eps,
      {
        sqrtAlphaProd: at(io.sqrtAlphaProd),
        sqrtBetaProd: at(io.sqrtBetaProd),
        sqrtAlphaProdPrev: at(io.sqrtAlphaProdPrev),
        directionScale: at(io.directionScale),
      },
      prediction,
      options.clipSample ?? null,
    );
  });
  body.output(body.identity(condIn), "loop/cond_out", "bool", []);
  body.output(xOut, "loop/latents_out", "float32", latentShape);

  const [final] = outer.node("Loop", [tripCount, "", latents], {
    body: attr.graph(body.buildSubgraph()),
  });
  outer.output(final, io.denoised, "float32", latentShape);
  for (const [key, value] of Object.entries(unet.metadata)) outer.setMetadata(key, value);
  outer.setMetadata("fused_loop", JSON.stringify({ predictionType: prediction }));
  return outer.build();
}

/** `DDIMScheduler.step` for eta 0, operation by operation. */
function ddimUpdate(
  b: GraphBuilder,
  x: string,
  m: string,
  c: {
    sqrtAlphaProd: string;
    sqrtBetaProd: string;
    sqrtAlphaProdPrev: string;
    directionScale: string;
  },
  prediction: "epsilon" | "sample" | "v_prediction",
  clip: number | null,
): string {
  let x0: string;
  let epsilon: string;
  if (prediction === "epsilon") {
    x0 = b.div(b.sub(x, b.mul(c.sqrtBetaProd, m)), c.sqrtAlphaProd);
    epsilon = m;
  } else if (prediction === "sample") {
    x0 = m;
    epsilon = b.div(b.sub(x, b.mul(c.sqrtAlphaProd, x0)), c.sqrtBetaProd);
  } else {
    x0 = b.sub(b.mul(c.sqrtAlphaProd, x), b.mul(c.sqrtBetaProd, m));
    epsilon = b.add(b.mul(c.sqrtAlphaProd, m), b.mul(c.sqrtBetaProd, x));
  }
  if (clip !== null) {
    x0 = b.node("Clip", [x0, b.constFloat([-clip], []), b.constFloat([clip], [])])[0];
  }
  return b.add(b.mul(c.sqrtAlphaProdPrev, x0), b.mul(c.directionScale, epsilon));
}
