/**
 * ONNX graphs of the diffusers models behind CompVis/ldm-celebahq-256: `UNet2DModel` and the
 * `VQModel` decoder, built from a diffusers config.json and checkpoint tensors keyed by their
 * diffusers names.
 *
 * @example
 * ```ts
 * import { buildUnetGraph, parseUnetConfig } from "./mod.ts";
 * import { serializeModel } from "../onnx/mod.ts";
 * import { readSafetensors } from "../io/safetensors.ts";
 * const config = parseUnetConfig(JSON.parse(await Deno.readTextFile("unet/config.json")));
 * const { tensors } = await readSafetensors("unet/diffusion_pytorch_model.safetensors");
 * const { model, data } = serializeModel(buildUnetGraph(config, tensors), {
 *   externalData: "unet.onnx.data",
 * });
 * ```
 *
 * @module
 */

export { ConfigError } from "./config_reader.ts";
export {
  parseUnetConfig,
  UNET_DOWN_BLOCK_TYPES,
  UNET_UP_BLOCK_TYPES,
  type UnetConfig,
  type UnetDownBlockType,
  type UnetUpBlockType,
} from "./unet_config.ts";
export { parseVqModelConfig, VQ_DECODER_NORM_EPS, type VqModelConfig } from "./vqvae_config.ts";
export {
  buildUnetGraph,
  timestepFrequencies,
  UNET_IO,
  type UnetGraphOptions,
  unetParameterShapes,
} from "./unet.ts";
export {
  buildVqDecoderGraph,
  VQ_DECODER_IO,
  type VqDecoderGraphOptions,
  vqDecoderParameterShapes,
} from "./vqvae.ts";
export { checkWeights, countParameters, randomWeights, WeightError } from "./parameters.ts";
export type { AttentionImpl } from "./layers.ts";
export { applyPrecision, type Precision } from "./precision.ts";
export {
  buildDenoiseLoopGraph,
  DENOISE_LOOP_IO,
  DENOISE_LOOP_TABLES,
  type DenoiseLoopOptions,
} from "./denoise_loop.ts";
export { LDM_CELEBAHQ_UNET_CONFIG, LDM_CELEBAHQ_VQVAE_CONFIG } from "./compvis_configs.ts";
