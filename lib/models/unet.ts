/**
 * The ONNX graph of diffusers' `UNet2DModel` (0.31 semantics): sinusoidal timestep embedding
 * inside the graph, DownBlock2D/AttnDownBlock2D, UNetMidBlock2D with attention,
 * AttnUpBlock2D/UpBlock2D, GroupNorm → SiLU → conv_out.
 *
 * Graph interface: inputs `sample` float32 [N, C, H, W] and `timestep` float32 [N]; output `eps`
 * float32 [N, C_out, H, W]. N, H and W are dynamic (H and W multiples of 2^(levels−1)).
 *
 * @module
 */

import type { RawTensor } from "../io/tensor.ts";
import type { OnnxGraph } from "../onnx/graph.ts";
import { GraphBuilder } from "../onnx/graph_builder.ts";
import {
  attentionBlock,
  type AttentionImpl,
  conv2d,
  downsample,
  type Emit,
  groupNorm,
  linear,
  resnetBlock,
  upsample,
} from "./layers.ts";
import { applyPrecision, type Precision } from "./precision.ts";
import type { UnetConfig } from "./unet_config.ts";
import { CheckpointParams, checkWeights, ShapeRecorder } from "./weights.ts";

/** Names of the UNet graph's inputs and output. */
export const UNET_IO = { sample: "sample", timestep: "timestep", eps: "eps" } as const;

/** Options of {@link buildUnetGraph}. */
export interface UnetGraphOptions {
  /** Graph name (default `"unet"`). */
  name?: string;
  /** ONNX opset (default: the builder's). */
  opset?: number;
  /** How attention is written (default `"fused"`; see {@link AttentionImpl}). */
  attention?: AttentionImpl;
  /**
   * Precision of the weights and activations (default `"fp32"`). `"fp16"` stores weights as
   * float16 and computes in float16 — meant for CUDA, as onnxruntime's CPU float16 kernels are
   * slow — while the inputs, the output and the sinusoidal timestep embedding (whose arguments
   * reach 999 rad, beyond float16's resolution) stay float32.
   */
  precision?: Precision;
}

/**
 * Builds the UNet graph with the checkpoint's tensors as initializers (stored as float32 under
 * their diffusers keys).
 *
 * @param config a parsed config (see `parseUnetConfig`)
 * @param weights checkpoint tensors by diffusers key (F32, F16 or BF16); extra keys are ignored
 * @throws {WeightError} listing every missing or misshaped tensor
 */
export function buildUnetGraph(
  config: UnetConfig,
  weights: ReadonlyMap<string, RawTensor>,
  options: UnetGraphOptions = {},
): OnnxGraph {
  checkWeights(unetParameterShapes(config), weights, "UNet2DModel");
  const b = new GraphBuilder({ name: options.name ?? "unet", opset: options.opset });
  const attention = options.attention ?? "fused";
  emitUnet({ b, p: new CheckpointParams(b, weights, "UNet2DModel"), attention }, config);
  b.setMetadata("diffusers_class", "UNet2DModel");
  b.setMetadata("config", JSON.stringify(config));
  b.setMetadata("attention", attention);
  return applyPrecision(b.build(), options.precision, ["time_proj"]);
}

/** Every tensor the UNet graph reads, by diffusers key, with its shape, in graph order. */
export function unetParameterShapes(config: UnetConfig): Map<string, number[]> {
  const b = new GraphBuilder({ name: "unet-shapes" });
  const recorder = new ShapeRecorder(b);
  emitUnet({ b, p: recorder }, config);
  return recorder.shapes;
}

/**
 * The frequencies of diffusers' `get_timestep_embedding`, rounded at each step as PyTorch's
 * float32 arithmetic rounds them: exp(−ln(10000)·i / (half − shift)), i < half.
 */
export function timestepFrequencies(embeddingDim: number, freqShift: number): Float32Array {
  const half = Math.floor(embeddingDim / 2);
  const logMax = Math.fround(-Math.log(10000));
  const divisor = Math.fround(half - freqShift);
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround(Math.fround(logMax * i) / divisor);
    out[i] = Math.exp(exponent);
  }
  return out;
}

/** `Timesteps` / `get_timestep_embedding`: [N] float timesteps → [N, dim] sinusoids. */
function timestepEmbedding(
  { b }: Emit,
  t: string,
  dim: number,
  flipSinToCos: boolean,
  freqShift: number,
): string {
  return b.scope("time_proj", () => {
    const freqs = timestepFrequencies(dim, freqShift);
    const args = b.mul(b.unsqueeze(t, [1]), b.constFloat(freqs, [1, freqs.length]));
    const sin = b.sin(args);
    const cos = b.cos(args);
    const emb = b.concat(flipSinToCos ? [cos, sin] : [sin, cos], 1);
    return dim % 2 === 1 ? b.pad(emb, [0, 0, 0, 1]) : emb;
  });
}

/** Heads and head width of an attention layer over `channels` (diffusers' rule). */
function headsOf(
  channels: number,
  attentionHeadDim: number | null,
): { heads: number; headDim: number } {
  const headDim = attentionHeadDim ?? channels;
  return { heads: Math.floor(channels / headDim), headDim };
}

/** Emits the whole UNet into `e.b`, reading parameters from `e.p`. */
function emitUnet(e: Emit, config: UnetConfig): void {
  const { b } = e;
  const boc = config.blockOutChannels;
  const levels = boc.length;
  const eps = config.normEps;
  const groups = config.normNumGroups;
  const tembDim = config.timeEmbedDim;

  const sampleIn = b.input(UNET_IO.sample, "float32", [
    "batch",
    config.inChannels,
    "height",
    "width",
  ]);
  const timestep = b.input(UNET_IO.timestep, "float32", ["batch"]);
  let sample = sampleIn;
  if (config.centerInputSample) {
    sample = b.sub(b.mul(sample, b.constFloat([2], [])), b.constFloat([1], []));
  }

  // 1. time
  const tProj = timestepEmbedding(e, timestep, boc[0], config.flipSinToCos, config.freqShift);
  const emb = b.scope("time_embedding", () => {
    const h = linear(e, "time_embedding.linear_1", tProj, boc[0], tembDim);
    return linear(e, "time_embedding.linear_2", b.silu(h), tembDim, tembDim);
  });
  // Every ResnetBlock2D applies SiLU to temb before its projection; compute it once.
  const tembSilu = b.silu(emb);

  const resnet = (prefix: string, x: string, cin: number, cout: number, scale = 1) =>
    resnetBlock(e, prefix, x, tembSilu, {
      inChannels: cin,
      outChannels: cout,
      tembChannels: tembDim,
      groups,
      eps,
      outputScaleFactor: scale,
    });
  const attention = (
    prefix: string,
    x: string,
    channels: number,
    attnGroups: number,
    rescale = 1,
  ) =>
    attentionBlock(e, prefix, x, {
      channels,
      ...headsOf(channels, config.attentionHeadDim),
      groups: attnGroups,
      eps,
      rescaleOutputFactor: rescale,
    });

  // 2. pre-process
  let x = conv2d(e, "conv_in", sample, config.inChannels, boc[0], 3);

  // 3. down
  const skips: { value: string; channels: number }[] = [{ value: x, channels: boc[0] }];
  let channels = boc[0];
  config.downBlockTypes.forEach((type, i) => {
    const prefix = `down_blocks.${i}`;
    const cout = boc[i];
    for (let j = 0; j < config.layersPerBlock; j++) {
      x = resnet(`${prefix}.resnets.${j}`, x, j === 0 ? channels : cout, cout);
      if (type === "AttnDownBlock2D") x = attention(`${prefix}.attentions.${j}`, x, cout, groups);
      skips.push({ value: x, channels: cout });
    }
    channels = cout;
    if (i < levels - 1) {
      x = downsample(e, `${prefix}.downsamplers.0`, x, cout, config.downsamplePadding);
      skips.push({ value: x, channels: cout });
    }
  });

  // 4. mid
  const mid = boc[levels - 1];
  const midScale = config.midBlockScaleFactor;
  x = resnet("mid_block.resnets.0", x, mid, mid, midScale);
  if (config.addAttention) {
    x = attention("mid_block.attentions.0", x, mid, config.attnNormNumGroups, midScale);
  }
  x = resnet("mid_block.resnets.1", x, mid, mid, midScale);

  // 5. up
  const reversed = [...boc].reverse();
  let prevOut = reversed[0];
  config.upBlockTypes.forEach((type, i) => {
    const prefix = `up_blocks.${i}`;
    const cout = reversed[i];
    const cin = reversed[Math.min(i + 1, levels - 1)];
    for (let j = 0; j <= config.layersPerBlock; j++) {
      const skip = skips.pop();
      const skipChannels = j === config.layersPerBlock ? cin : cout;
      if (!skip || skip.channels !== skipChannels) {
        throw new Error(`${prefix}.resnets.${j}: skip connection bookkeeping is inconsistent`);
      }
      x = b.concat([x, skip.value], 1);
      x = resnet(`${prefix}.resnets.${j}`, x, (j === 0 ? prevOut : cout) + skipChannels, cout);
      if (type === "AttnUpBlock2D") x = attention(`${prefix}.attentions.${j}`, x, cout, groups);
    }
    if (i < levels - 1) x = upsample(e, `${prefix}.upsamplers.0`, x, cout);
    prevOut = cout;
  });

  // 6. post-process
  x = groupNorm(e, "conv_norm_out", x, boc[0], groups, eps);
  x = conv2d(e, "conv_out", b.silu(x), boc[0], config.outChannels, 3);
  b.output(x, UNET_IO.eps, "float32", ["batch", config.outChannels, "height", "width"]);
}
