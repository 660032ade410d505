/**
 * Checkpoints converted by early diffusers (the CompVis/ldm-celebahq-256 one on the hub among
 * them) name attention weights `query`, `key`, `value`, `proj_attn`; current diffusers names them
 * `to_q`, `to_k`, `to_v`, `to_out.0`. The graphs are built against the current names, so legacy
 * names are mapped here, once, before anything else looks at the weights.
 *
 * @module
 */

import type { RawTensor } from "../io/tensor.ts";

const LEGACY_ATTENTION = /^(.*\.attentions\.\d+)\.(query|key|value|proj_attn)\.(weight|bias)$/;
const CURRENT_NAME: Readonly<Record<string, string>> = {
  query: "to_q",
  key: "to_k",
  value: "to_v",
  proj_attn: "to_out.0",
};

/** The current diffusers name of a (possibly legacy) parameter name; other names unchanged. */
export function currentKeyName(name: string): string {
  const m = LEGACY_ATTENTION.exec(name);
  return m ? `${m[1]}.${CURRENT_NAME[m[2]]}.${m[3]}` : name;
}

/**
 * Returns the weights under current diffusers names.
 *
 * Legacy attention projections may be stored as 1×1 convolutions (shape [out, in, 1, 1]) in some
 * early checkpoints; they are reshaped to the linear layers' [out, in] without copying.
 *
 * @throws {Error} when a legacy and a current name map to the same key (a checkpoint that mixes
 *   both schemes is ambiguous).
 */
export function normalizeKeys(weights: Map<string, RawTensor>): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const [name, tensor] of weights) {
    const current = currentKeyName(name);
    if (out.has(current)) {
      throw new Error(`checkpoint holds both "${name}" and a tensor already named "${current}"`);
    }
    const isLegacyProjection = current !== name && name.endsWith(".weight") &&
      tensor.shape.length === 4 && tensor.shape[2] === 1 && tensor.shape[3] === 1;
    out.set(
      current,
      isLegacyProjection ? { ...tensor, shape: [tensor.shape[0], tensor.shape[1]] } : tensor,
    );
  }
  return out;
}
