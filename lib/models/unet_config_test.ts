import assert from "node:assert/strict";
import { ConfigError } from "./config_reader.ts";
import { LDM_CELEBAHQ_UNET_CONFIG } from "./compvis_configs.ts";
import { parseUnetConfig } from "./unet_config.ts";
import { referenceJson } from "./_test_utils.ts";

const tinyRaw = await referenceJson("tiny-ldm/unet/config.json") as Record<string, unknown>;

/** Asserts that parsing fails with a ConfigError on `field` whose message matches `pattern`. */
function assertRejects(overrides: Record<string, unknown>, field: string, pattern: RegExp): void {
  assert.throws(
    () => parseUnetConfig({ ...tinyRaw, ...overrides }, "tiny/unet/config.json"),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
      assert.equal(e.field, field);
      assert.match(e.message, /^tiny\/unet\/config\.json: field "/);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

Deno.test("the tiny fixture's config is read field by field", () => {
  const c = parseUnetConfig(tinyRaw);
  assert.deepEqual(c.blockOutChannels, tinyRaw.block_out_channels);
  assert.deepEqual(c.downBlockTypes, tinyRaw.down_block_types);
  assert.deepEqual(c.upBlockTypes, tinyRaw.up_block_types);
  assert.equal(c.layersPerBlock, tinyRaw.layers_per_block);
  assert.equal(c.attentionHeadDim, tinyRaw.attention_head_dim);
  assert.equal(c.normNumGroups, tinyRaw.norm_num_groups);
  assert.equal(c.attnNormNumGroups, tinyRaw.norm_num_groups); // attn_norm_num_groups is null
  assert.equal(c.normEps, tinyRaw.norm_eps);
  assert.equal(c.timeEmbedDim, (tinyRaw.block_out_channels as number[])[0] * 4);
  assert.equal(c.flipSinToCos, true);
  assert.equal(c.freqShift, 0);
});

Deno.test("the CompVis config's absent keys take diffusers' defaults", () => {
  const c = parseUnetConfig(LDM_CELEBAHQ_UNET_CONFIG);
  assert.deepEqual(c.blockOutChannels, [224, 448, 672, 896]);
  assert.equal(c.attentionHeadDim, 32);
  assert.equal(c.addAttention, true);
  assert.equal(c.attnNormNumGroups, 32);
  assert.equal(c.downsamplePadding, 1);
  assert.equal(c.timeEmbedDim, 896);
  assert.equal(c.midBlockScaleFactor, 1);
});

Deno.test("attention_head_dim null (one head per layer) and UNetRes-prefixed block names are accepted", () => {
  const c = parseUnetConfig({
    ...tinyRaw,
    attention_head_dim: null,
    down_block_types: ["UNetResDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
  });
  assert.equal(c.attentionHeadDim, null);
  assert.equal(c.downBlockTypes[0], "DownBlock2D");
});

Deno.test("unsupported settings name the field, the value and what is supported", () => {
  assertRejects(
    { resnet_time_scale_shift: "scale_shift" },
    "resnet_time_scale_shift",
    /"scale_shift"; supported: "default"/,
  );
  assertRejects(
    { time_embedding_type: "fourier" },
    "time_embedding_type",
    /"fourier"; supported: "positional"/,
  );
  assertRejects({ act_fn: "gelu" }, "act_fn", /"gelu"; supported: "silu", "swish"/);
  assertRejects(
    { class_embed_type: "timestep" },
    "class_embed_type",
    /"timestep"; supported: null/,
  );
  assertRejects({ num_class_embeds: 10 }, "num_class_embeds", /10; supported: null/);
  assertRejects({ downsample_type: "resnet" }, "downsample_type", /"resnet"; supported: "conv"/);
  assertRejects({ upsample_type: "resnet" }, "upsample_type", /"resnet"; supported: "conv"/);
  assertRejects(
    { down_block_types: ["DownBlock2D", "CrossAttnDownBlock2D", "AttnDownBlock2D"] },
    "down_block_types",
    /entry 1 "CrossAttnDownBlock2D"; supported: DownBlock2D, AttnDownBlock2D/,
  );
  assertRejects(
    { up_block_types: ["AttnUpBlock2D", "UpBlock2D"] },
    "up_block_types",
    /has 2 entries/,
  );
  assertRejects(
    { block_out_channels: [32, 64] },
    "down_block_types",
    /has 3 entries but block_out_channels has 2/,
  );
  assertRejects(
    { norm_num_groups: 7 },
    "norm_num_groups",
    /7 does not divide block_out_channels entry 32/,
  );
  assertRejects(
    { attention_head_dim: 128 },
    "attention_head_dim",
    /128 exceeds the block width 64/,
  );
  assertRejects({ layers_per_block: 0 }, "layers_per_block", /integer >= 1, got 0/);
  assertRejects({ norm_eps: "1e-5" }, "norm_eps", /expected a number, got "1e-5"/);
  assertRejects({ mid_block_scale_factor: 0 }, "mid_block_scale_factor", /must not be 0/);
  assertRejects({ freq_shift: 16 }, "freq_shift", /division by zero/);
  assertRejects({ _class_name: "UNet2DConditionModel" }, "_class_name", /expected "UNet2DModel"/);
});

Deno.test("a config that is not an object is rejected", () => {
  assert.throws(
    () => parseUnetConfig([1, 2], "x.json"),
    /x\.json: expected a JSON object, got \[1,2\]/,
  );
});
