/**
 * Graph emitters for the diffusers building blocks shared by the UNet and the VQ decoder:
 * convolutions, GroupNorm, ResnetBlock2D, the spatial self-attention block, and the conv
 * down/upsamplers. Each reads its parameters by diffusers key under a prefix and reproduces the
 * PyTorch forward of diffusers 0.31 operation for operation.
 *
 * @module
 */

import { attr } from "../onnx/graph.ts";
import type { GraphBuilder } from "../onnx/graph_builder.ts";
import type { ParamSource } from "./weights.ts";

/** The builder plus the parameter source every emitter needs. */
export interface Emit {
  /** Graph under construction. */
  b: GraphBuilder;
  /** Where parameters come from. */
  p: ParamSource;
  /** How attention blocks are written (default `"fused"`, see {@link AttentionImpl}). */
  attention?: AttentionImpl;
}

/**
 * How {@link attentionBlock} writes the attention itself:
 * - `"fused"`: onnxruntime's `com.microsoft.MultiHeadAttention` contrib operator (CPU and CUDA),
 *   one kernel for scores, softmax and weighted sum — on the CPU mlas can tile it so the L×L
 *   score matrix (14 heads × 1024² floats per image at 32×32 latents) is not written out;
 *   measured ~4–7 % faster per UNet step than `"matmul"` on the CompVis UNet;
 * - `"matmul"`: standard ONNX MatMul/Softmax/MatMul, what `torch.onnx.export` writes, for
 *   runtimes without the contrib operators.
 */
export type AttentionImpl = "fused" | "matmul";

/** `nn.Conv2d(cin, cout, k, stride, padding)` with bias, on [N, C, H, W]. */
export function conv2d(
  { b, p }: Emit,
  prefix: string,
  x: string,
  cin: number,
  cout: number,
  kernel: number,
  options: { stride?: number; pads?: number[] } = {},
): string {
  const pad = (kernel - 1) / 2;
  const stride = options.stride ?? 1;
  return b.conv(
    x,
    p.param(`${prefix}.weight`, [cout, cin, kernel, kernel]),
    p.param(`${prefix}.bias`, [cout]),
    {
      pads: options.pads ?? [pad, pad, pad, pad],
      ...(stride !== 1 ? { strides: [stride, stride] } : {}),
    },
  );
}

/** `nn.Linear(in, out)` on a 2-D input [N, in]. */
export function linear(
  { b, p }: Emit,
  prefix: string,
  x: string,
  inFeatures: number,
  outFeatures: number,
): string {
  return b.linear(
    x,
    p.param(`${prefix}.weight`, [outFeatures, inFeatures]),
    p.param(`${prefix}.bias`, [outFeatures]),
  );
}

/** `nn.GroupNorm(groups, channels, eps)` (affine) on [N, C, ...]. */
export function groupNorm(
  { b, p }: Emit,
  prefix: string,
  x: string,
  channels: number,
  groups: number,
  eps: number,
  rank = 4,
): string {
  return b.scope(prefix, () =>
    b.groupNorm(x, {
      groups,
      epsilon: eps,
      scale: p.param(`${prefix}.weight`, [channels]),
      bias: p.param(`${prefix}.bias`, [channels]),
      rank,
    }));
}

/** Dimensions of a `ResnetBlock2D` (time_embedding_norm "default", no up/down sampling). */
export interface ResnetSpec {
  /** Input channels. */
  inChannels: number;
  /** Output channels (a 1×1 `conv_shortcut` is used when they differ from the input's). */
  outChannels: number;
  /** Width of the time embedding, or null when the block takes none (VQ decoder). */
  tembChannels: number | null;
  /** GroupNorm groups of both norms. */
  groups: number;
  /** GroupNorm epsilon. */
  eps: number;
  /** The output is divided by this (diffusers `output_scale_factor`). */
  outputScaleFactor: number;
}

/**
 * `ResnetBlock2D.forward`: norm1 → SiLU → conv1 (+ time_emb_proj(SiLU(temb))) → norm2 → SiLU →
 * conv2, added to the (projected) input and divided by the output scale factor.
 *
 * @param tembSilu SiLU of the time embedding [N, temb] (shared by all blocks), or null
 */
export function resnetBlock(
  e: Emit,
  prefix: string,
  x: string,
  tembSilu: string | null,
  spec: ResnetSpec,
): string {
  const { b } = e;
  const { inChannels: cin, outChannels: cout } = spec;
  return b.scope(prefix, () => {
    let h = groupNorm(e, `${prefix}.norm1`, x, cin, spec.groups, spec.eps);
    h = conv2d(e, `${prefix}.conv1`, b.silu(h), cin, cout, 3);
    if (spec.tembChannels !== null) {
      if (tembSilu === null) throw new Error(`${prefix}: block needs a time embedding`);
      const t = linear(e, `${prefix}.time_emb_proj`, tembSilu, spec.tembChannels, cout);
      h = b.add(h, b.unsqueeze(t, [2, 3]));
    }
    h = groupNorm(e, `${prefix}.norm2`, h, cout, spec.groups, spec.eps);
    h = conv2d(e, `${prefix}.conv2`, b.silu(h), cout, cout, 3);
    const shortcut = cin !== cout ? conv2d(e, `${prefix}.conv_shortcut`, x, cin, cout, 1) : x;
    const sum = b.add(shortcut, h);
    return spec.outputScaleFactor === 1
      ? sum
      : b.div(sum, b.constFloat([spec.outputScaleFactor], []));
  });
}

/** Dimensions of a diffusers `Attention` built from a deprecated attention block. */
export interface AttentionSpec {
  /** Channels of the feature map (query_dim). */
  channels: number;
  /** Number of heads. */
  heads: number;
  /** Channels per head. */
  headDim: number;
  /** GroupNorm groups of `group_norm`. */
  groups: number;
  /** GroupNorm epsilon. */
  eps: number;
  /** The output (after the residual) is divided by this (`rescale_output_factor`). */
  rescaleOutputFactor: number;
}

/**
 * Spatial self-attention as diffusers' `Attention` + `AttnProcessor` run it for UNet2DModel and
 * VQModel blocks: GroupNorm, q/k/v projections, per-head softmax(q·kᵀ·d^-½)·v, `to_out.0`,
 * residual, rescale.
 *
 * The graph keeps the feature map channel-first ([N, C, H·W]) so the projections are plain
 * weight-on-the-left MatMuls and no activation is transposed explicitly: the two transposes
 * left are of the last two axes and feed MatMuls, which onnxruntime folds into the GEMM.
 */
export function attentionBlock(e: Emit, prefix: string, x: string, spec: AttentionSpec): string {
  if ((e.attention ?? "fused") === "fused") return fusedAttentionBlock(e, prefix, x, spec);
  const { b, p } = e;
  const { channels: c, heads, headDim } = spec;
  const inner = heads * headDim;
  return b.scope(prefix, () => {
    const normed = groupNorm(e, `${prefix}.group_norm`, x, c, spec.groups, spec.eps);
    const tokens = b.reshape(normed, [0, c, -1]); // [N, C, L]
    const project = (name: string, outF: number, inF: number, input: string) =>
      b.add(
        b.matmul(p.param(`${prefix}.${name}.weight`, [outF, inF]), input),
        b.unsqueeze(p.param(`${prefix}.${name}.bias`, [outF]), [1]),
      );
    const perHead = (v: string) => b.reshape(v, [0, heads, headDim, -1]); // [N, h, d, L]
    const q = perHead(project("to_q", inner, c, tokens));
    const k = perHead(project("to_k", inner, c, tokens));
    const v = perHead(project("to_v", inner, c, tokens));
    // scores[i, j] = d^-½ · Σ q[:, i] k[:, j], as torch.baddbmm(alpha=scale) computes it.
    const scores = b.mul(
      b.matmul(b.transpose(q, [0, 1, 3, 2]), k),
      b.constFloat([headDim ** -0.5], []),
    );
    const probs = b.softmax(scores, -1); // [N, h, Lq, Lk]
    // out[:, i] = Σ_j probs[i, j] v[:, j], kept channel-first: [N, h, d, Lq].
    const attended = b.matmul(v, b.transpose(probs, [0, 1, 3, 2]));
    const merged = b.reshape(attended, [0, inner, -1]);
    const out = b.reshape(project("to_out.0", c, inner, merged), b.shape(x));
    const sum = b.add(out, x);
    return spec.rescaleOutputFactor === 1
      ? sum
      : b.div(sum, b.constFloat([spec.rescaleOutputFactor], []));
  });
}

/**
 * {@link attentionBlock} with `com.microsoft.MultiHeadAttention`. Tokens are laid out once as
 * rows ([N·L, C], the operator takes [N, L, inner]) and projected by Gemm with `transB`, so the
 * checkpoint's [out, in] weights are used as stored and onnxruntime prepacks them as constant
 * right-hand sides (a weight on the left of a MatMul is not prepacked).
 */
function fusedAttentionBlock(e: Emit, prefix: string, x: string, spec: AttentionSpec): string {
  const { b } = e;
  const { channels: c, heads, headDim } = spec;
  const inner = heads * headDim;
  b.importOpset("com.microsoft", 1);
  return b.scope(prefix, () => {
    const normed = groupNorm(e, `${prefix}.group_norm`, x, c, spec.groups, spec.eps);
    const rows = b.reshape(b.transpose(b.reshape(normed, [0, c, -1]), [0, 2, 1]), [-1, c]);
    const project = (name: string, outF: number, inF: number, input: string) =>
      linear(e, `${prefix}.${name}`, input, inF, outF); // [N·L, out]
    const perBatch = perBatchChannels(e, x, inner);
    const q = b.reshape(project("to_q", inner, c, rows), perBatch);
    const k = b.reshape(project("to_k", inner, c, rows), perBatch);
    const v = b.reshape(project("to_v", inner, c, rows), perBatch);
    const [attended] = b.node("MultiHeadAttention", [q, k, v], {
      num_heads: attr.int(heads),
      scale: attr.float(headDim ** -0.5),
    }, { domain: "com.microsoft" }); // [N, L, inner]
    const projected = project("to_out.0", c, inner, b.reshape(attended, [-1, inner])); // [N·L, C]
    const channelFirst = b.transpose(b.reshape(projected, perBatchChannels(e, x, c)), [0, 2, 1]);
    const out = b.reshape(channelFirst, b.shape(x));
    const sum = b.add(out, x);
    return spec.rescaleOutputFactor === 1
      ? sum
      : b.div(sum, b.constFloat([spec.rescaleOutputFactor], []));
  });
}

/** The int64 shape [N, -1, channels] of token rows taken from the feature map `x`. */
function perBatchChannels({ b }: Emit, x: string, channels: number): string {
  return b.concat([b.shape(x, 0, 1), b.constInt64([-1, channels])], 0);
}

/**
 * `Downsample2D(use_conv=True)`: a stride-2 3×3 conv; with padding 0 diffusers first pads one
 * zero row/column at the bottom/right.
 */
export function downsample(
  e: Emit,
  prefix: string,
  x: string,
  channels: number,
  padding: number,
): string {
  const pads = padding === 0 ? [0, 0, 1, 1] : [padding, padding, padding, padding];
  return e.b.scope(
    prefix,
    () => conv2d(e, `${prefix}.conv`, x, channels, channels, 3, { stride: 2, pads }),
  );
}

/** `Upsample2D(use_conv=True)`: nearest ×2 then a 3×3 conv. */
export function upsample(e: Emit, prefix: string, x: string, channels: number): string {
  const { b } = e;
  return b.scope(prefix, () => {
    const up = b.resizeNearest(x, [1, 1, 2, 2]);
    return conv2d(e, `${prefix}.conv`, up, channels, channels, 3);
  });
}
