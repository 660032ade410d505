/**
 * The ONNX graph of diffusers' `VQModel.decode` (0.31 semantics): vector quantisation against
 * the codebook, post_quant_conv, and the `Decoder` (conv_in, mid block with single-head
 * attention, UpDecoderBlock2D ResNets with nearest ×2 + conv upsamplers, GroupNorm, SiLU,
 * conv_out).
 *
 * Graph interface: input `latents` float32 [N, vq_embed_dim, h, w]; outputs `image` float32
 * [N, C_out, h·2^(levels−1), w·2^(levels−1)] (≈[−1, 1]) and, when quantising, `codes` int64
 * [N, h, w] (the chosen codebook rows). N, h and w are dynamic.
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
  type Emit,
  groupNorm,
  resnetBlock,
  upsample,
} from "./layers.ts";
import { applyPrecision, type Precision } from "./precision.ts";
import { VQ_DECODER_NORM_EPS, type VqModelConfig } from "./vqvae_config.ts";
import { CheckpointParams, checkWeights, ShapeRecorder } from "./weights.ts";

/** Names of the VQ decoder graph's inputs and outputs. */
export const VQ_DECODER_IO = { latents: "latents", image: "image", codes: "codes" } as const;

/** Options of {@link buildVqDecoderGraph}. */
export interface VqDecoderGraphOptions {
  /**
   * Quantise the latents first (default true, diffusers' `decode(z)`); false decodes them as
   * given (`decode(z, force_not_quantize=True)`) and the graph has no `codes` output.
   */
  quantize?: boolean;
  /** Graph name (default `"vq_decoder"`). */
  name?: string;
  /** ONNX opset (default: the builder's). */
  opset?: number;
  /** How attention is written (default `"fused"`; see {@link AttentionImpl}). */
  attention?: AttentionImpl;
  /**
   * Precision of the weights and activations (default `"fp32"`). `"fp16"` (for CUDA) keeps the
   * input, the outputs and the vector quantisation in float32, so the chosen codes do not
   * depend on the precision.
   */
  precision?: Precision;
}

/**
 * Builds the VQ decoder graph with the checkpoint's tensors as float32 initializers. Tensors the
 * decoder does not use (encoder, quant_conv) are ignored.
 *
 * @param config a parsed config (see `parseVqModelConfig`)
 * @param weights checkpoint tensors by diffusers key (F32, F16 or BF16)
 * @throws {WeightError} listing every missing or misshaped tensor
 */
export function buildVqDecoderGraph(
  config: VqModelConfig,
  weights: ReadonlyMap<string, RawTensor>,
  options: VqDecoderGraphOptions = {},
): OnnxGraph {
  const quantize = options.quantize ?? true;
  if (!quantize && config.lookupFromCodebook) {
    throw new RangeError(
      `VQModel config field "lookup_from_codebook" = true is not supported with quantize: false`,
    );
  }
  checkWeights(vqDecoderParameterShapes(config, { quantize }), weights, "VQModel decoder");
  const b = new GraphBuilder({ name: options.name ?? "vq_decoder", opset: options.opset });
  const attention = options.attention ?? "fused";
  const p = new CheckpointParams(b, weights, "VQModel decoder");
  emitVqDecoder({ b, p, attention }, config, quantize);
  b.setMetadata("diffusers_class", "VQModel");
  b.setMetadata("config", JSON.stringify(config));
  b.setMetadata("quantize", String(quantize));
  b.setMetadata("attention", attention);
  return applyPrecision(b.build(), options.precision, ["quantize"]);
}

/**
 * Every tensor the VQ decoder graph reads, by diffusers key, with its shape, in graph order
 * (`quantize.embedding.weight` only when quantising, the default).
 */
export function vqDecoderParameterShapes(
  config: VqModelConfig,
  options: { quantize?: boolean } = {},
): Map<string, number[]> {
  const b = new GraphBuilder({ name: "vq-decoder-shapes" });
  const recorder = new ShapeRecorder(b);
  emitVqDecoder({ b, p: recorder }, config, options.quantize ?? true);
  return recorder.shapes;
}

/**
 * `VectorQuantizer.forward` (legacy, diffusers' default): the nearest codebook row of every
 * latent vector by `torch.cdist`, which for more than 25 rows evaluates squared distances as
 * one matmul of augmented rows [−2x, ‖x‖², 1]·[e, 1, ‖e‖²]ᵀ, clamps at 0 and takes the square
 * root — reproduced step by step so that near-ties resolve as in PyTorch. The result is
 * `z + (z_q − z)`, the straight-through form diffusers returns.
 */
function quantizeLatents(
  e: Emit,
  latents: string,
  dim: number,
  codebookSize: number,
): { quant: string; codes: string } {
  const { b, p } = e;
  return b.scope("quantize", () => {
    const codebook = p.param("quantize.embedding.weight", [codebookSize, dim]); // [K, D]
    const zt = b.transpose(latents, [0, 2, 3, 1]); // [N, h, w, D]
    const flat = b.reshape(zt, [-1, dim]); // [P, D]
    const flatNorm = b.reduceSum(b.mul(flat, flat), [1]); // [P, 1]
    const ones = b.expand(b.constFloat([1], [1, 1]), b.shape(flatNorm));
    const left = b.concat([b.mul(flat, b.constFloat([-2], [])), flatNorm, ones], 1); // [P, D+2]
    const codeNorm = b.reduceSum(b.mul(codebook, codebook), [1]); // [K, 1]
    const codeOnes = b.constFloat(new Float32Array(codebookSize).fill(1), [codebookSize, 1]);
    const right = b.concat([codebook, codeOnes, codeNorm], 1); // [K, D+2]
    const squared = b.matmul(left, b.transpose(right, [1, 0])); // [P, K]
    const distance = b.sqrt(b.max(squared, b.constFloat([0], [])));
    const index = b.argMin(distance, 1); // [P] int64, first minimum on ties
    const chosen = b.reshape(b.gather(codebook, index, 0), b.shape(zt)); // [N, h, w, D]
    const straightThrough = b.add(zt, b.sub(chosen, zt));
    return {
      quant: b.transpose(straightThrough, [0, 3, 1, 2]),
      codes: b.reshape(index, b.shape(zt, 0, 3)),
    };
  });
}

/** Emits the decoder into `e.b`, reading parameters from `e.p`. */
function emitVqDecoder(e: Emit, config: VqModelConfig, quantize: boolean): void {
  const { b } = e;
  const boc = config.blockOutChannels;
  const levels = boc.length;
  const groups = config.normNumGroups;
  const eps = VQ_DECODER_NORM_EPS;
  const latents = b.input(VQ_DECODER_IO.latents, "float32", [
    "batch",
    config.vqEmbedDim,
    "height",
    "width",
  ]);

  let quant = latents;
  let codes: string | undefined;
  if (quantize) {
    ({ quant, codes } = quantizeLatents(e, latents, config.vqEmbedDim, config.numVqEmbeddings));
  }
  let x = conv2d(e, "post_quant_conv", quant, config.vqEmbedDim, config.latentChannels, 1);

  const resnet = (prefix: string, input: string, cin: number, cout: number) =>
    resnetBlock(e, prefix, input, null, {
      inChannels: cin,
      outChannels: cout,
      tembChannels: null,
      groups,
      eps,
      outputScaleFactor: 1,
    });

  const top = boc[levels - 1];
  x = conv2d(e, "decoder.conv_in", x, config.latentChannels, top, 3);
  x = resnet("decoder.mid_block.resnets.0", x, top, top);
  if (config.midBlockAddAttention) {
    x = attentionBlock(e, "decoder.mid_block.attentions.0", x, {
      channels: top,
      heads: 1,
      headDim: top,
      groups,
      eps,
      rescaleOutputFactor: 1,
    });
  }
  x = resnet("decoder.mid_block.resnets.1", x, top, top);

  const reversed = [...boc].reverse();
  let channels = top;
  reversed.forEach((cout, i) => {
    const prefix = `decoder.up_blocks.${i}`;
    for (let j = 0; j <= config.layersPerBlock; j++) {
      x = resnet(`${prefix}.resnets.${j}`, x, j === 0 ? channels : cout, cout);
    }
    if (i < levels - 1) x = upsample(e, `${prefix}.upsamplers.0`, x, cout);
    channels = cout;
  });

  x = groupNorm(e, "decoder.conv_norm_out", x, boc[0], groups, eps);
  x = conv2d(e, "decoder.conv_out", b.silu(x), boc[0], config.outChannels, 3);
  b.output(x, VQ_DECODER_IO.image, "float32", [
    "batch",
    config.outChannels,
    "image_height",
    "image_width",
  ]);
  if (codes) b.output(codes, VQ_DECODER_IO.codes, "int64", ["batch", "height", "width"]);
}
