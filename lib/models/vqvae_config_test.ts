import assert from "node:assert/strict";
import { ConfigError } from "./config_reader.ts";
import { LDM_CELEBAHQ_VQVAE_CONFIG } from "./compvis_configs.ts";
import { parseVqModelConfig } from "./vqvae_config.ts";
import { referenceJson } from "./_test_utils.ts";

const tinyRaw = await referenceJson("tiny-ldm/vqvae/config.json") as Record<string, unknown>;

function assertRejects(overrides: Record<string, unknown>, field: string, pattern: RegExp): void {
  assert.throws(
    () => parseVqModelConfig({ ...tinyRaw, ...overrides }, "tiny/vqvae/config.json"),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
      assert.equal(e.field, field);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

Deno.test("the tiny fixture's VQModel config is read field by field", () => {
  const c = parseVqModelConfig(tinyRaw);
  assert.deepEqual(c.blockOutChannels, tinyRaw.block_out_channels);
  assert.equal(c.layersPerBlock, tinyRaw.layers_per_block);
  assert.equal(c.latentChannels, tinyRaw.latent_channels);
  assert.equal(c.vqEmbedDim, tinyRaw.latent_channels); // vq_embed_dim is null
  assert.equal(c.numVqEmbeddings, tinyRaw.num_vq_embeddings);
  assert.equal(c.normNumGroups, tinyRaw.norm_num_groups);
  assert.equal(c.midBlockAddAttention, true);
});

Deno.test("the CompVis VQModel config's absent keys take diffusers' defaults", () => {
  const c = parseVqModelConfig(LDM_CELEBAHQ_VQVAE_CONFIG);
  assert.deepEqual(c.blockOutChannels, [128, 256, 512]);
  assert.equal(c.numVqEmbeddings, 8192);
  assert.equal(c.vqEmbedDim, 3);
  assert.equal(c.normNumGroups, 32);
  assert.equal(c.midBlockAddAttention, true);
  assert.equal(c.lookupFromCodebook, false);
});

Deno.test("unsupported VQModel settings name the field and the value", () => {
  assertRejects({ norm_type: "spatial" }, "norm_type", /"spatial"; supported: "group"/);
  assertRejects({ act_fn: "relu" }, "act_fn", /"relu"; supported: "silu", "swish"/);
  assertRejects(
    { up_block_types: ["UpDecoderBlock2D", "AttnUpDecoderBlock2D", "UpDecoderBlock2D"] },
    "up_block_types",
    /entry 1 "AttnUpDecoderBlock2D"; supported: UpDecoderBlock2D/,
  );
  assertRejects(
    { up_block_types: ["UpDecoderBlock2D"] },
    "up_block_types",
    /has 1 entries but block_out_channels has 3/,
  );
  assertRejects(
    { norm_num_groups: 5 },
    "norm_num_groups",
    /5 does not divide block_out_channels entry 16/,
  );
  assertRejects({ num_vq_embeddings: 0 }, "num_vq_embeddings", /integer >= 1, got 0/);
  assertRejects(
    { _class_name: "AutoencoderKL" },
    "_class_name",
    /expected "VQModel", got "AutoencoderKL"/,
  );
});
