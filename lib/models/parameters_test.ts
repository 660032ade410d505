import assert from "node:assert/strict";
import { numel, toFloat32 } from "../io/tensor.ts";
import { LDM_CELEBAHQ_UNET_CONFIG } from "./compvis_configs.ts";
import {
  countParameters,
  randomWeights,
  unetParameterShapes,
  vqDecoderParameterShapes,
} from "./parameters.ts";
import { buildUnetGraph } from "./unet.ts";
import { parseUnetConfig } from "./unet_config.ts";
import { buildVqDecoderGraph } from "./vqvae.ts";
import { parseVqModelConfig } from "./vqvae_config.ts";
import { referenceJson, referenceTensors } from "./_test_utils.ts";

const unetConfig = parseUnetConfig(await referenceJson("tiny-ldm/unet/config.json"));
const vqConfig = parseVqModelConfig(await referenceJson("tiny-ldm/vqvae/config.json"));
const unetWeights = await referenceTensors("tiny-ldm/unet/diffusion_pytorch_model.safetensors");
const vqWeights = await referenceTensors("tiny-ldm/vqvae/diffusion_pytorch_model.safetensors");

Deno.test("the UNet shape table is exactly the tensor list of a diffusers UNet2DModel checkpoint", () => {
  const shapes = unetParameterShapes(unetConfig);
  assert.deepEqual([...shapes.keys()].sort(), [...unetWeights.keys()].sort());
  for (const [name, shape] of shapes) assert.deepEqual(shape, unetWeights.get(name)!.shape, name);
});

Deno.test("the VQ decoder shape table matches the checkpoint's decoder tensors", () => {
  const shapes = vqDecoderParameterShapes(vqConfig);
  for (const [name, shape] of shapes) assert.deepEqual(shape, vqWeights.get(name)?.shape, name);
  const decoderKeys = [...vqWeights.keys()].filter((k) =>
    !k.startsWith("encoder.") && !k.startsWith("quant_conv.")
  );
  assert.deepEqual([...shapes.keys()].sort(), decoderKeys.sort());
  assert.ok(
    !vqDecoderParameterShapes(vqConfig, { quantize: false }).has("quantize.embedding.weight"),
  );
});

Deno.test("built graphs hold exactly the tabled tensors, with the checkpoint's values", () => {
  const cases = [
    {
      graph: buildUnetGraph(unetConfig, unetWeights),
      shapes: unetParameterShapes(unetConfig),
      weights: unetWeights,
    },
    {
      graph: buildVqDecoderGraph(vqConfig, vqWeights),
      shapes: vqDecoderParameterShapes(vqConfig),
      weights: vqWeights,
    },
  ];
  for (const { graph, shapes, weights } of cases) {
    const named = graph.initializers.filter((i) => weights.has(i.name));
    assert.deepEqual(named.map((i) => i.name).sort(), [...shapes.keys()].sort());
    for (const init of named) {
      assert.deepEqual(init.dims, shapes.get(init.name));
      assert.deepEqual(init.data, toFloat32(weights.get(init.name)!));
    }
    const total = named.reduce((n, i) => n + numel(i.dims), 0);
    assert.equal(countParameters(shapes), total);
  }
});

Deno.test("randomWeights is deterministic and follows the fan-in rule", () => {
  const shapes = unetParameterShapes(parseUnetConfig(LDM_CELEBAHQ_UNET_CONFIG));
  const subset = new Map(
    [...shapes].filter(([name]) => name.startsWith("down_blocks.1.attentions.0.")),
  );
  const a = randomWeights(subset, 3);
  const b = randomWeights(subset, 3);
  const c = randomWeights(subset, 4);
  for (const [name, shape] of subset) {
    const va = toFloat32(a.get(name)!);
    assert.deepEqual(a.get(name)!.shape, shape);
    assert.deepEqual(va, toFloat32(b.get(name)!));
    if (shape.length >= 2) {
      const bound = 1 / Math.sqrt(numel(shape.slice(1)));
      const max = va.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assert.ok(max <= bound && max > 0.9 * bound, `${name}: max ${max}, bound ${bound}`);
      assert.notDeepEqual(va, toFloat32(c.get(name)!));
    } else {
      assert.ok(va.every((v) => v === (name.endsWith(".bias") ? 0 : 1)), name);
    }
  }
});
