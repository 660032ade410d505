import assert from "node:assert/strict";
import ort from "onnxruntime-node";
import { halfToFloat } from "../io/tensor.ts";
import { GraphBuilder } from "./graph_builder.ts";
import { convertToFloat16 } from "./float16.ts";
import { serializeModel } from "./serialize.ts";

function sample() {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", ["n", 2, 4, 4]);
  const w = b.initializer(
    "w",
    Float32Array.from({ length: 3 * 2 * 9 }, (_, i) => (i % 7) / 7 - 0.4),
    [3, 2, 3, 3],
  );
  const y = b.scope("keep", () => b.sin(b.mul(x, b.constFloat([300], []))));
  const conv = b.conv(b.add(x, y), w, undefined, { pads: [1, 1, 1, 1] });
  const up = b.resizeNearest(conv, [1, 1, 2, 2]);
  b.output(b.reshape(up, b.shape(up)), "out", "float32", ["n", 3, 8, 8]);
  return b.build();
}

async function run(graph: ReturnType<typeof sample>, x: Float32Array) {
  const session = await ort.InferenceSession.create(serializeModel(graph).model);
  try {
    const out = await session.run({ x: new ort.Tensor("float32", x, [1, 2, 4, 4]) });
    return out.out;
  } finally {
    await session.release();
  }
}

Deno.test("float16 conversion: float16 weights, float32 interface, kept nodes in float32", async () => {
  const graph = sample();
  const half = convertToFloat16(graph, { keepFloat32: (n) => n.name.startsWith("keep/") });
  const w = half.initializers.find((i) => i.name === "w")!;
  assert.equal(w.elemType, "float16");
  const original = graph.initializers.find((i) => i.name === "w")!.data as Float32Array;
  for (let i = 0; i < original.length; i++) {
    assert.ok(Math.abs(halfToFloat((w.data as Uint16Array)[i]) - original[i]) <= 2 ** -11);
  }
  // the 300 of the kept Mul stays float32; Resize scales are float32 by definition
  const mul = half.nodes.find((n) => n.name === "keep/Mul")!;
  assert.equal(half.initializers.find((i) => i.name === mul.inputs[1])!.elemType, "float32");
  const resize = half.nodes.find((n) => n.opType === "Resize")!;
  assert.equal(half.initializers.find((i) => i.name === resize.inputs[2])!.elemType, "float32");
  assert.deepEqual(half.inputs, graph.inputs);
  assert.deepEqual(half.outputs, graph.outputs);
  assert.equal(graph.initializers.find((i) => i.name === "w")!.elemType, "float32");

  const x = Float32Array.from({ length: 32 }, (_, i) => Math.cos(i));
  const want = await run(graph, x);
  const got = await run(half, x);
  assert.equal(got.type, "float32");
  assert.deepEqual(got.dims, want.dims);
  const a = want.data as Float32Array;
  const b = got.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  console.log(`  max |fp16 - fp32| = ${worst.toExponential(2)}`);
  assert.ok(worst > 0 && worst < 1e-2, `error ${worst}`);
});

Deno.test("float16 conversion without kept nodes has no float32 arithmetic left", () => {
  const half = convertToFloat16(sample());
  const casts = half.nodes.filter((n) => n.opType === "Cast");
  // one Cast after the input and one before the output, nothing in between
  assert.equal(casts.length, 2);
  assert.ok(half.initializers.every((i) => i.elemType !== "float32" || i.dims.length === 1));
});
