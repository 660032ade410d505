/**
 * The diffusers `UNet2DModel` configuration (config.json) as our graph builder supports it:
 * parsed with diffusers 0.31's defaults for absent keys, and every setting the graph does not
 * implement rejected with an error naming the field, the value and what is supported.
 *
 * @module
 */

import { ConfigError, ConfigReader } from "./config_reader.ts";

/** Down-block types the UNet graph implements. */
export const UNET_DOWN_BLOCK_TYPES = ["DownBlock2D", "AttnDownBlock2D"] as const;
/** Up-block types the UNet graph implements. */
export const UNET_UP_BLOCK_TYPES = ["UpBlock2D", "AttnUpBlock2D"] as const;

/** A supported down block. */
export type UnetDownBlockType = typeof UNET_DOWN_BLOCK_TYPES[number];
/** A supported up block. */
export type UnetUpBlockType = typeof UNET_UP_BLOCK_TYPES[number];

/** A validated `UNet2DModel` config (field names are the camelCase of config.json's). */
export interface UnetConfig {
  /** Latent size the model was trained at (informative; the graph takes any multiple). */
  sampleSize: number | [number, number] | null;
  /** Channels of the input sample. */
  inChannels: number;
  /** Channels of the output. */
  outChannels: number;
  /** Whether the input is mapped x → 2x − 1 first. */
  centerInputSample: boolean;
  /** Width of the timestep MLP (config `time_embedding_dim`, default 4 × first block width). */
  timeEmbedDim: number;
  /** Subtracted from half the embedding width in the sinusoid frequencies. */
  freqShift: number;
  /** Whether the sinusoidal embedding is ordered (cos, sin) instead of (sin, cos). */
  flipSinToCos: boolean;
  /** Down blocks, outermost first. */
  downBlockTypes: UnetDownBlockType[];
  /** Up blocks, innermost first. */
  upBlockTypes: UnetUpBlockType[];
  /** Output channels of each level. */
  blockOutChannels: number[];
  /** ResNet layers per down block (up blocks have one more). */
  layersPerBlock: number;
  /** Output scale of the mid block's ResNets and attention. */
  midBlockScaleFactor: number;
  /** Padding of the stride-2 downsampling convolutions (0 pads right/bottom by one). */
  downsamplePadding: number;
  /** Channels per attention head; null means one head spanning all channels. */
  attentionHeadDim: number | null;
  /** GroupNorm groups of every ResNet and attention norm. */
  normNumGroups: number;
  /** GroupNorm groups of the mid-block attention (defaults to `normNumGroups`). */
  attnNormNumGroups: number;
  /** GroupNorm epsilon. */
  normEps: number;
  /** Whether the mid block has its attention layer. */
  addAttention: boolean;
}

const strip = (s: string) => s.startsWith("UNetRes") ? s.slice(7) : s;

/**
 * Parses and validates a UNet2DModel config.json object.
 *
 * @param raw the parsed JSON
 * @param source a label for error messages (e.g. the file path)
 * @throws {ConfigError} naming the field for any value the graph does not implement
 */
export function parseUnetConfig(raw: unknown, source = "unet config.json"): UnetConfig {
  const r = new ConfigReader(raw, source, "UNet2DModel");

  r.oneOf("time_embedding_type", "positional", ["positional"]);
  r.oneOf("act_fn", "silu", ["silu", "swish"]);
  r.oneOf("resnet_time_scale_shift", "default", ["default"]);
  r.oneOf("downsample_type", "conv", ["conv"]);
  r.oneOf("upsample_type", "conv", ["conv"]);
  r.oneOf("class_embed_type", null, [null]);
  r.oneOf("num_class_embeds", null, [null]);
  r.oneOf("mid_block_type", "UNetMidBlock2D", ["UNetMidBlock2D"]);

  const blockOutChannels = r.intList("block_out_channels", [224, 448, 672, 896]);
  const downBlockTypes = r.stringList(
    "down_block_types",
    ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
    UNET_DOWN_BLOCK_TYPES,
    strip,
  );
  const upBlockTypes = r.stringList(
    "up_block_types",
    ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
    UNET_UP_BLOCK_TYPES,
    strip,
  );
  if (downBlockTypes.length !== blockOutChannels.length) {
    throw r.error(
      "down_block_types",
      `has ${downBlockTypes.length} entries but block_out_channels has ${blockOutChannels.length}`,
    );
  }
  if (upBlockTypes.length !== downBlockTypes.length) {
    throw r.error(
      "up_block_types",
      `has ${upBlockTypes.length} entries but down_block_types has ${downBlockTypes.length}`,
    );
  }

  const normNumGroups = r.normGroups(blockOutChannels);
  const attnNormNumGroups = r.intOrNull("attn_norm_num_groups", null) ?? normNumGroups;
  if (blockOutChannels[blockOutChannels.length - 1] % attnNormNumGroups !== 0) {
    throw r.error(
      "attn_norm_num_groups",
      `${attnNormNumGroups} does not divide the mid-block width ${blockOutChannels.at(-1)}`,
    );
  }

  const attentionHeadDim = r.intOrNull("attention_head_dim", 8);
  if (attentionHeadDim !== null) {
    blockOutChannels.forEach((c, i) => {
      const usesAttention = downBlockTypes[i] === "AttnDownBlock2D" ||
        upBlockTypes[blockOutChannels.length - 1 - i] === "AttnUpBlock2D";
      if (usesAttention && c < attentionHeadDim) {
        throw r.error("attention_head_dim", `${attentionHeadDim} exceeds the block width ${c}`);
      }
    });
  }

  const timeEmbedDim = r.intOrNull("time_embedding_dim", null) ?? blockOutChannels[0] * 4;
  const freqShift = r.number("freq_shift", 0);
  if (Math.floor(blockOutChannels[0] / 2) === freqShift) {
    throw r.error("freq_shift", `${freqShift} equals half the embedding width (division by zero)`);
  }

  const sampleSize = r.raw("sample_size") ?? null;
  if (
    !(sampleSize === null || (Number.isInteger(sampleSize) && (sampleSize as number) > 0) ||
      (Array.isArray(sampleSize) && sampleSize.length === 2 && sampleSize.every(Number.isInteger)))
  ) {
    throw r.error(
      "sample_size",
      `expected null, an integer or [height, width], got ${JSON.stringify(sampleSize)}`,
    );
  }

  return {
    sampleSize: sampleSize as UnetConfig["sampleSize"],
    inChannels: r.int("in_channels", 3, 1),
    outChannels: r.int("out_channels", 3, 1),
    centerInputSample: r.bool("center_input_sample", false),
    timeEmbedDim,
    freqShift,
    flipSinToCos: r.bool("flip_sin_to_cos", true),
    downBlockTypes,
    upBlockTypes,
    blockOutChannels,
    layersPerBlock: r.int("layers_per_block", 2, 1),
    midBlockScaleFactor: nonZero(r, "mid_block_scale_factor", 1),
    downsamplePadding: r.int("downsample_padding", 1, 0),
    attentionHeadDim,
    normNumGroups,
    attnNormNumGroups,
    normEps: positive(r, "norm_eps", 1e-5),
    addAttention: r.bool("add_attention", true),
  };
}

function nonZero(r: ConfigReader, field: string, fallback: number): number {
  const v = r.number(field, fallback);
  if (v === 0) throw r.error(field, "must not be 0 (outputs are divided by it)");
  return v;
}

function positive(r: ConfigReader, field: string, fallback: number): number {
  const v = r.number(field, fallback);
  if (!(v > 0)) throw r.error(field, `expected a positive number, got ${v}`);
  return v;
}

export { ConfigError };
