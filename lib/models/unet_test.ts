import assert from "node:assert/strict";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { floatToHalf, numel, type RawTensor, toFloat32 } from "../io/tensor.ts";
import { saveModel, serializeModel } from "../onnx/serialize.ts";
import { LDM_CELEBAHQ_UNET_CONFIG } from "./compvis_configs.ts";
import { countParameters, randomWeights, WeightError } from "./parameters.ts";
import { buildUnetGraph, unetParameterShapes } from "./unet.ts";
import { parseUnetConfig } from "./unet_config.ts";
import { maxAbsDiff, referenceJson, referenceTensors, runGraph } from "./_test_utils.ts";

const config = parseUnetConfig(await referenceJson("tiny-ldm/unet/config.json"));
const weights = await referenceTensors("tiny-ldm/unet/diffusion_pytorch_model.safetensors");
const io = await referenceTensors("unet_io.safetensors");
const x = io.get("x")!;
const TIMESTEPS = [999, 500, 10, 0];

function feeds(sample: RawTensor, timesteps: number[]): Record<string, ort.Tensor> {
  return {
    sample: new ort.Tensor("float32", toFloat32(sample), sample.shape),
    timestep: new ort.Tensor("float32", Float32Array.from(timesteps), [timesteps.length]),
  };
}

Deno.test("tiny UNet matches diffusers' eps at t = 999, 500, 10, 0 within 1e-4", async () => {
  const graph = buildUnetGraph(config, weights);
  const session = await ort.InferenceSession.create(
    serializeModel(graph).model,
    { intraOpNumThreads: 1 },
  );
  try {
    for (const t of TIMESTEPS) {
      const out = await session.run(feeds(x, [t, t]));
      assert.deepEqual(out.eps.dims, x.shape);
      const err = maxAbsDiff(out.eps.data as Float32Array, toFloat32(io.get(`eps_t${t}`)!));
      console.log(`  t=${t}: max |eps - diffusers| = ${err.toExponential(2)}`);
      assert.ok(err <= 1e-4, `t=${t}: max error ${err}`);
    }
  } finally {
    await session.release();
  }
});

Deno.test("each sample of a batch gets its own timestep", async () => {
  const out = await runGraph(buildUnetGraph(config, weights), feeds(x, [999, 10]));
  const got = out.eps.data as Float32Array;
  const half = got.length / 2;
  const first = toFloat32(io.get("eps_t999")!).subarray(0, half);
  const second = toFloat32(io.get("eps_t10")!).subarray(half);
  assert.ok(maxAbsDiff(got.subarray(0, half), first) <= 1e-4);
  assert.ok(maxAbsDiff(got.subarray(half), second) <= 1e-4);
});

Deno.test("F16 checkpoints are accepted and stored as their exact float32 values", () => {
  const half = new Map<string, RawTensor>();
  for (const [name, t] of weights) {
    const values = toFloat32(t);
    const bits = Uint16Array.from(values, floatToHalf);
    half.set(name, { dtype: "F16", shape: t.shape, bytes: new Uint8Array(bits.buffer) });
  }
  const graph = buildUnetGraph(config, half);
  const init = graph.initializers.find((i) => i.name === "conv_in.weight")!;
  const original = toFloat32(weights.get("conv_in.weight")!);
  assert.equal(init.elemType, "float32");
  for (let i = 0; i < original.length; i++) {
    // Independent of our own half conversions: the engine's IEEE rounding to float16.
    assert.equal(init.data[i], Math.f16round(original[i]));
  }
});

Deno.test("a missing or misshaped tensor is reported with its key and both shapes", () => {
  const missing = new Map(weights);
  missing.delete("mid_block.attentions.0.to_k.weight");
  assert.throws(
    () => buildUnetGraph(config, missing),
    (e: unknown) =>
      e instanceof WeightError && e.missing.includes("mid_block.attentions.0.to_k.weight") &&
      /missing tensor "mid_block\.attentions\.0\.to_k\.weight" \(expected shape \[64,64\]\)/.test(
        e.message,
      ),
  );
  const misshaped = new Map(weights);
  const bias = weights.get("conv_out.bias")!;
  misshaped.set("conv_out.bias", { ...bias, shape: [1, 3] });
  assert.throws(
    () => buildUnetGraph(config, misshaped),
    /tensor "conv_out\.bias" has shape \[1,3\], expected \[3\]/,
  );
});

Deno.test({
  name: "full-size CompVis UNet with random weights runs one step from external data",
  ignore: Deno.env.get("FLUIDITY_SKIP_FULL") === "1",
  async fn() {
    const full = parseUnetConfig(LDM_CELEBAHQ_UNET_CONFIG, "CompVis/ldm-celebahq-256 unet");
    const shapes = unetParameterShapes(full);
    const count = countParameters(shapes);
    console.log(`  CompVis UNet parameters: ${count} in ${shapes.size} tensors`);
    assert.ok(count > 270e6 && count < 280e6, `expected ~274 M parameters, got ${count}`);

    const graph = buildUnetGraph(full, randomWeights(shapes, 7));
    assert.equal(
      graph.initializers.reduce((n, i) => n + (shapes.has(i.name) ? numel(i.dims) : 0), 0),
      count,
    );
    const dir = await Deno.makeTempDir({ prefix: "unet-full-" });
    try {
      const path = join(dir, "unet.onnx");
      await saveModel(path, graph, { externalData: true });
      const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 2 });
      try {
        const sample = Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.1));
        const out = await session.run({
          sample: new ort.Tensor("float32", sample, [1, 3, 64, 64]),
          timestep: new ort.Tensor("float32", Float32Array.of(500), [1]),
        });
        assert.deepEqual(out.eps.dims, [1, 3, 64, 64]);
        const eps = out.eps.data as Float32Array;
        assert.ok(eps.every(Number.isFinite), "eps has non-finite values");
        assert.ok(eps.some((v) => v !== 0));
      } finally {
        await session.release();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("attention written as plain MatMul/Softmax also matches diffusers within 1e-4", async () => {
  const graph = buildUnetGraph(config, weights, { attention: "matmul" });
  assert.ok(graph.nodes.every((n) => n.domain === ""));
  const out = await runGraph(graph, feeds(x, [500, 500]));
  const err = maxAbsDiff(out.eps.data as Float32Array, toFloat32(io.get("eps_t500")!));
  console.log(`  matmul attention, t=500: max |eps - diffusers| = ${err.toExponential(2)}`);
  assert.ok(err <= 1e-4, `max error ${err}`);
});

Deno.test("fp16 UNet: float16 weights, float32 interface, eps within 1e-2 of diffusers", async () => {
  const graph = buildUnetGraph(config, weights, { precision: "fp16" });
  assert.equal(graph.initializers.find((i) => i.name === "conv_in.weight")!.elemType, "float16");
  assert.deepEqual(graph.inputs.map((i) => i.elemType), ["float32", "float32"]);
  // the sinusoidal embedding of t up to 999 stays float32
  const sin = graph.nodes.find((n) => n.opType === "Sin")!;
  assert.ok(sin.name.startsWith("time_proj/"));
  for (const t of TIMESTEPS) {
    const out = await runGraph(graph, feeds(x, [t, t]));
    assert.equal(out.eps.type, "float32");
    const err = maxAbsDiff(out.eps.data as Float32Array, toFloat32(io.get(`eps_t${t}`)!));
    console.log(`  fp16, t=${t}: max |eps - diffusers| = ${err.toExponential(2)}`);
    assert.ok(err <= 1e-2, `t=${t}: max error ${err}`);
  }
});
