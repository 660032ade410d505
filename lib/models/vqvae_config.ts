/**
 * The diffusers `VQModel` configuration (config.json) as far as the decoder graph needs it,
 * parsed with diffusers 0.31's defaults for absent keys; settings the graph does not implement
 * are rejected with an error naming the field, the value and what is supported.
 *
 * @module
 */

import { ConfigError, ConfigReader } from "./config_reader.ts";

/** A validated `VQModel` config (decoder side; camelCase of config.json's names). */
export interface VqModelConfig {
  /** Image channels the decoder produces. */
  outChannels: number;
  /** Channels of the decoder input (after post_quant_conv). */
  latentChannels: number;
  /** Width of each codebook vector (config `vq_embed_dim`, default `latent_channels`). */
  vqEmbedDim: number;
  /** Number of codebook entries. */
  numVqEmbeddings: number;
  /** Output channels of each level, outermost first (the decoder walks them in reverse). */
  blockOutChannels: number[];
  /** Layers per block (decoder up blocks have one more ResNet). */
  layersPerBlock: number;
  /** GroupNorm groups. */
  normNumGroups: number;
  /** Whether the decoder's mid block has its attention layer. */
  midBlockAddAttention: boolean;
  /** Whether `force_not_quantize` decoding looks latents up in the codebook (diffusers flag). */
  lookupFromCodebook: boolean;
  /** Latent scaling factor of the config (informative; the decoder graph does not apply it). */
  scalingFactor: number;
  /** Image size the model was trained at (informative). */
  sampleSize: number;
}

/** GroupNorm epsilon diffusers hard-codes in the VAE decoder. */
export const VQ_DECODER_NORM_EPS = 1e-6;

/**
 * Parses and validates a VQModel config.json object.
 *
 * @param raw the parsed JSON
 * @param source a label for error messages (e.g. the file path)
 * @throws {ConfigError} naming the field for any value the decoder graph does not implement
 */
export function parseVqModelConfig(raw: unknown, source = "vqvae config.json"): VqModelConfig {
  const r = new ConfigReader(raw, source, "VQModel");

  r.oneOf("act_fn", "silu", ["silu", "swish"]);
  r.oneOf("norm_type", "group", ["group"]);
  const blockOutChannels = r.intList("block_out_channels", [64]);
  const upBlockTypes = r.stringList("up_block_types", ["UpDecoderBlock2D"], ["UpDecoderBlock2D"]);
  if (upBlockTypes.length !== blockOutChannels.length) {
    throw r.error(
      "up_block_types",
      `has ${upBlockTypes.length} entries but block_out_channels has ${blockOutChannels.length}`,
    );
  }
  const normNumGroups = r.normGroups(blockOutChannels);
  const latentChannels = r.int("latent_channels", 3, 1);

  return {
    outChannels: r.int("out_channels", 3, 1),
    latentChannels,
    vqEmbedDim: r.intOrNull("vq_embed_dim", null) ?? latentChannels,
    numVqEmbeddings: r.int("num_vq_embeddings", 256, 1),
    blockOutChannels,
    layersPerBlock: r.int("layers_per_block", 1, 1),
    normNumGroups,
    midBlockAddAttention: r.bool("mid_block_add_attention", true),
    lookupFromCodebook: r.bool("lookup_from_codebook", false),
    scalingFactor: r.number("scaling_factor", 0.18215),
    sampleSize: r.int("sample_size", 32, 1),
  };
}

export { ConfigError };
