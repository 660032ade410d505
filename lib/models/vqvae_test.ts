import assert from "node:assert/strict";
import ort from "onnxruntime-node";
import { toBigInt64, toFloat32 } from "../io/tensor.ts";
import { WeightError } from "./parameters.ts";
import { buildVqDecoderGraph, vqDecoderParameterShapes } from "./vqvae.ts";
import { parseVqModelConfig } from "./vqvae_config.ts";
import { maxAbsDiff, referenceJson, referenceTensors, runGraph } from "./_test_utils.ts";

const config = parseVqModelConfig(await referenceJson("tiny-ldm/vqvae/config.json"));
const weights = await referenceTensors("tiny-ldm/vqvae/diffusion_pytorch_model.safetensors");
const io = await referenceTensors("vqvae_io.safetensors");
const z = io.get("z")!;
const latents = () => ({ latents: new ort.Tensor("float32", toFloat32(z), z.shape) });

Deno.test("quantised decode: codes identical to diffusers, image within 1e-3", async () => {
  const out = await runGraph(buildVqDecoderGraph(config, weights), latents());
  const wantCodes = toBigInt64(io.get("codes")!);
  assert.deepEqual(out.codes.dims, io.get("codes")!.shape);
  const codes = out.codes.data as BigInt64Array;
  const differing = codes.filter((c, i) => c !== wantCodes[i]).length;
  console.log(`  codes differing: ${differing} of ${codes.length}`);
  assert.equal(differing, 0);

  const want = io.get("decoded_quantized")!;
  assert.deepEqual(out.image.dims, want.shape);
  const err = maxAbsDiff(out.image.data as Float32Array, toFloat32(want));
  console.log(`  max |image - diffusers decode(z)| = ${err.toExponential(2)}`);
  assert.ok(err <= 1e-3, `max error ${err}`);
});

Deno.test("unquantised decode (force_not_quantize) within 1e-3 and without codes", async () => {
  const graph = buildVqDecoderGraph(config, weights, { quantize: false });
  assert.deepEqual(graph.outputs.map((o) => o.name), ["image"]);
  const out = await runGraph(graph, latents());
  const err = maxAbsDiff(out.image.data as Float32Array, toFloat32(io.get("decoded_unquantized")!));
  console.log(`  max |image - diffusers decode(z, force_not_quantize)| = ${err.toExponential(2)}`);
  assert.ok(err <= 1e-3, `max error ${err}`);
});

Deno.test("quantisation alone reproduces diffusers' quant rows", async () => {
  // Decoding the reference `quant` unquantised must equal decoding z quantised.
  const quant = io.get("quant")!;
  const out = await runGraph(buildVqDecoderGraph(config, weights, { quantize: false }), {
    latents: new ort.Tensor("float32", toFloat32(quant), quant.shape),
  });
  const err = maxAbsDiff(out.image.data as Float32Array, toFloat32(io.get("decoded_quantized")!));
  assert.ok(err <= 1e-3, `max error ${err}`);
});

Deno.test("the decoder ignores encoder tensors and needs the codebook only when quantising", () => {
  const shapes = vqDecoderParameterShapes(config);
  const unused = [...weights.keys()].filter((k) => !shapes.has(k));
  assert.ok(
    unused.length > 0 &&
      unused.every((k) => k.startsWith("encoder.") || k.startsWith("quant_conv.")),
  );

  const noCodebook = new Map(weights);
  noCodebook.delete("quantize.embedding.weight");
  assert.throws(
    () => buildVqDecoderGraph(config, noCodebook),
    (e: unknown) =>
      e instanceof WeightError &&
      /missing tensor "quantize\.embedding\.weight" \(expected shape \[64,3\]\)/.test(e.message),
  );
  assert.doesNotThrow(() => buildVqDecoderGraph(config, noCodebook, { quantize: false }));
});

Deno.test("quantize: false is refused when the config looks latents up in the codebook", () => {
  assert.throws(
    () =>
      buildVqDecoderGraph({ ...config, lookupFromCodebook: true }, weights, { quantize: false }),
    /lookup_from_codebook/,
  );
});

Deno.test("matmul attention decode matches diffusers within 1e-3 too", async () => {
  const graph = buildVqDecoderGraph(config, weights, { attention: "matmul" });
  assert.ok(graph.nodes.every((n) => n.domain === ""));
  const out = await runGraph(graph, latents());
  const err = maxAbsDiff(out.image.data as Float32Array, toFloat32(io.get("decoded_quantized")!));
  console.log(`  matmul attention: max |image - diffusers decode(z)| = ${err.toExponential(2)}`);
  assert.ok(err <= 1e-3, `max error ${err}`);
});

Deno.test("fp16 decode: codes identical (quantisation stays float32), image within 2e-2", async () => {
  const graph = buildVqDecoderGraph(config, weights, { precision: "fp16" });
  assert.equal(
    graph.initializers.find((i) => i.name === "quantize.embedding.weight")!.elemType,
    "float32",
  );
  assert.equal(
    graph.initializers.find((i) => i.name === "decoder.conv_in.weight")!.elemType,
    "float16",
  );
  const out = await runGraph(graph, latents());
  assert.deepEqual(out.codes.data, toBigInt64(io.get("codes")!));
  assert.equal(out.image.type, "float32");
  const err = maxAbsDiff(out.image.data as Float32Array, toFloat32(io.get("decoded_quantized")!));
  console.log(`  fp16: max |image - diffusers decode(z)| = ${err.toExponential(2)}`);
  assert.ok(err <= 2e-2, `max error ${err}`);
});
