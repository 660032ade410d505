import assert from "node:assert/strict";
import { currentKeyName, normalizeKeys } from "./keys.ts";
import type { RawTensor } from "../io/tensor.ts";

Deno.test("currentKeyName maps early-diffusers attention names and leaves others alone", () => {
  const cases: [string, string][] = [
    ["down_blocks.1.attentions.0.query.weight", "down_blocks.1.attentions.0.to_q.weight"],
    ["down_blocks.1.attentions.0.key.bias", "down_blocks.1.attentions.0.to_k.bias"],
    ["mid_block.attentions.0.value.weight", "mid_block.attentions.0.to_v.weight"],
    [
      "decoder.mid_block.attentions.0.proj_attn.bias",
      "decoder.mid_block.attentions.0.to_out.0.bias",
    ],
    [
      "down_blocks.1.attentions.0.group_norm.weight",
      "down_blocks.1.attentions.0.group_norm.weight",
    ],
    ["down_blocks.1.attentions.0.to_q.weight", "down_blocks.1.attentions.0.to_q.weight"],
    ["quantize.embedding.weight", "quantize.embedding.weight"],
    // "key" outside an attention block is not an attention projection
    ["key.weight", "key.weight"],
  ];
  for (const [legacy, current] of cases) assert.equal(currentKeyName(legacy), current);
});

Deno.test("normalizeKeys reshapes 1×1-conv projections and refuses mixed schemes", () => {
  const t = (shape: number[]): RawTensor => ({
    dtype: "F32",
    shape,
    bytes: new Uint8Array(4 * shape.reduce((a, b) => a * b, 1)),
  });
  const out = normalizeKeys(new Map([["a.attentions.0.query.weight", t([4, 4, 1, 1])]]));
  assert.deepEqual(out.get("a.attentions.0.to_q.weight")?.shape, [4, 4]);
  assert.throws(
    () =>
      normalizeKeys(
        new Map([["a.attentions.0.to_q.weight", t([4, 4])], [
          "a.attentions.0.query.weight",
          t([4, 4]),
        ]]),
      ),
    /both "a.attentions.0.query.weight"/,
  );
});
