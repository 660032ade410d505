import assert from "node:assert/strict";
import {
  buildDenoiseLoopGraph,
  buildUnetGraph,
  buildVqDecoderGraph,
  LDM_CELEBAHQ_UNET_CONFIG,
  LDM_CELEBAHQ_VQVAE_CONFIG,
  parseUnetConfig,
  parseVqModelConfig,
  type Precision,
  randomWeights,
  unetParameterShapes,
  vqDecoderParameterShapes,
} from "../models/mod.ts";
import { GraphBuilder } from "../onnx/graph_builder.ts";
import { attr } from "../onnx/graph.ts";
import { checkCudaCoverage, CUDA_KERNELS, KERNEL_TABLE_OPSET } from "./cuda_kernels.ts";
import { nodeSignatures } from "./node_types.ts";

const TINY = new URL("../testdata/ldm-reference/tiny-ldm/", import.meta.url);
const unetConfig = parseUnetConfig(
  JSON.parse(await Deno.readTextFile(new URL("unet/config.json", TINY))),
);
const vqConfig = parseVqModelConfig(
  JSON.parse(await Deno.readTextFile(new URL("vqvae/config.json", TINY))),
);

/** The three graphs the converter writes, built fresh (random weights: only the ops matter). */
function freshGraphs(precision: Precision) {
  const unet = buildUnetGraph(unetConfig, randomWeights(unetParameterShapes(unetConfig), 1), {
    precision,
  });
  return {
    "unet.onnx": unet,
    "unet_loop.onnx": buildDenoiseLoopGraph(unet),
    "unet_loop.onnx (clip_sample)": buildDenoiseLoopGraph(unet, { clipSample: 1 }),
    "vqvae_decoder.onnx": buildVqDecoderGraph(
      vqConfig,
      randomWeights(vqDecoderParameterShapes(vqConfig), 2),
      { precision },
    ),
  };
}

for (const precision of ["fp32", "fp16"] as const) {
  Deno.test(`every node of the ${precision} graphs has a CUDA kernel (Loop body included)`, () => {
    for (const [file, graph] of Object.entries(freshGraphs(precision))) {
      const coverage = checkCudaCoverage(graph);
      assert.deepEqual(
        coverage.uncovered.map((u) => `${u.node.path}: ${u.reason}`),
        [],
        `${precision} ${file}`,
      );
      assert.ok(coverage.nodes.length > 0);
      if (file.startsWith("unet_loop")) {
        // The walk really entered the body: the UNet's convolutions are there, inside the Loop.
        assert.ok(coverage.nodes.some((n) => n.inLoop && n.op === "Conv"), file);
        assert.ok(coverage.nodes.some((n) => !n.inLoop && n.op === "Loop"), file);
      }
      if (precision === "fp16") {
        // fp16 graphs really compute in float16: the heavy operators read float16.
        for (const op of ["Conv", "Gemm", "MultiHeadAttention", "InstanceNormalization"]) {
          assert.ok(
            coverage.nodes.some((n) => n.op === op && n.inputType === "float16"),
            `${file}: no float16 ${op}`,
          );
        }
      }
    }
  });
}

Deno.test({
  name: "the full-size CompVis graphs (random weights), fp32 and fp16, are covered too",
  ignore: Deno.env.get("FLUIDITY_SKIP_FULL") === "1",
  fn() {
    const unetFull = parseUnetConfig({ ...LDM_CELEBAHQ_UNET_CONFIG });
    const vqFull = parseVqModelConfig({ ...LDM_CELEBAHQ_VQVAE_CONFIG });
    const unetWeights = randomWeights(unetParameterShapes(unetFull), 7);
    const vqWeights = randomWeights(vqDecoderParameterShapes(vqFull), 8);
    for (const precision of ["fp32", "fp16"] as const) {
      const unet = buildUnetGraph(unetFull, unetWeights, { precision });
      const graphs = {
        unet,
        loop: buildDenoiseLoopGraph(unet),
        vq: buildVqDecoderGraph(vqFull, vqWeights, { precision }),
      };
      for (const [file, graph] of Object.entries(graphs)) {
        const coverage = checkCudaCoverage(graph);
        assert.ok(coverage.nodes.length > 300, `${precision} ${file}`);
        assert.deepEqual(coverage.uncovered.map((u) => u.reason), [], `${precision} ${file}`);
      }
    }
  },
});

Deno.test("the coverage check fails for an operator or a type CUDA does not register", () => {
  const b = new GraphBuilder({ name: "bad" });
  const x = b.input("x", "float32", [2, 2]);
  const i = b.cast(x, "int64");
  const [y] = b.node("Gemm", [i, i]); // CUDA Gemm: float types only
  const [z] = b.node("Col2Im", [x, x, x]); // no CUDA kernel at all
  b.output(b.add(b.cast(y, "float32"), z), "out", "float32", [2, 2]);
  const coverage = checkCudaCoverage(b.build());
  const reasons = coverage.uncovered.map((u) => `${u.node.op}: ${u.reason}`);
  assert.equal(reasons.length, 2, reasons.join("\n"));
  assert.match(
    reasons[0],
    /^Gemm: CUDA registers ai\.onnx:Gemm 13\+ for float32, float16, not int64/,
  );
  assert.match(reasons[1], /^Col2Im: no CUDA kernel is registered/);
});

Deno.test("a Loop body's types come from the outer scope and the body's inputs", () => {
  const b = new GraphBuilder({ name: "outer" });
  const table = b.input("table", "float32", ["k"]);
  const m = b.input("m", "int64", []);
  const x0 = b.input("x0", "float16", [2]);
  const body = new GraphBuilder({ name: "body" });
  body.outerScope([table]);
  const it = body.input("it", "int64", []);
  const cond = body.input("cond", "bool", []);
  const x = body.input("x", "float16", [2]);
  const scale = body.gather(table, it);
  const next = body.mul(x, body.cast(scale, "float16"));
  body.output(body.identity(cond), "cond_out", "bool", []);
  body.output(next, "x_out", "float16", [2]);
  const [final] = b.node("Loop", [m, "", x0], { body: attr.graph(body.buildSubgraph()) });
  b.output(b.cast(final, "float32"), "y", "float32", [2]);
  const sigs = nodeSignatures(b.build());
  const typesOf = (op: string, inLoop: boolean) =>
    sigs.filter((s) => s.op === op && s.inLoop === inLoop).map((s) => s.inputType);
  assert.deepEqual(typesOf("Gather", true), ["float32"]);
  assert.deepEqual(typesOf("Cast", true), ["float32"]);
  assert.deepEqual(typesOf("Mul", true), ["float16"]);
  assert.ok(typesOf("Identity", true).includes("bool"));
  assert.deepEqual(typesOf("Loop", false), ["int64"]);
  assert.deepEqual(typesOf("Cast", false), ["float16"]); // the Loop's output keeps x0's type
});

Deno.test("the kernel table is consistent: each registration covers the version it is used at", () => {
  for (const kernel of CUDA_KERNELS) {
    assert.ok(
      kernel.range[0] <= kernel.since && kernel.since <= kernel.range[1],
      `${kernel.op}: version ${kernel.since} outside ${kernel.registered}`,
    );
    if (kernel.domain === "ai.onnx") assert.ok(kernel.since <= KERNEL_TABLE_OPSET, kernel.op);
  }
});
