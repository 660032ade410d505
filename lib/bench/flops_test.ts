import assert from "node:assert/strict";
import { GraphBuilder } from "../onnx/graph_builder.ts";
import { attr } from "../onnx/graph.ts";
import { countFlops } from "./flops.ts";

Deno.test("Conv FLOPs: 2 × N·Cout·Hout·Wout·(Cin/group)·kh·kw, with stride and padding", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", ["n", 4, "h", "w"]);
  const w = b.initializer("w", new Float32Array(6 * 4 * 3 * 3), [6, 4, 3, 3]);
  const y = b.conv(x, w, undefined, { pads: [1, 1, 1, 1], strides: [2, 2] });
  const g = b.initializer("g", new Float32Array(6 * 3 * 1 * 1), [6, 3, 1, 1]);
  const z = b.conv(y, g, undefined, { group: 2 });
  b.output(z, "z", "float32");
  const { total, byOp, shapes } = countFlops(b.build(), { x: [2, 4, 10, 8] });
  // 10×8 padded by 1 with stride 2 → 5×4; the grouped 1×1 conv reads 3 channels per output.
  assert.deepEqual(shapes.get(y), [2, 6, 5, 4]);
  assert.deepEqual(shapes.get("z"), [2, 6, 5, 4]);
  const first = 2 * (2 * 6 * 5 * 4) * (4 * 3 * 3);
  const second = 2 * (2 * 6 * 5 * 4) * 3;
  assert.equal(total, first + second);
  assert.deepEqual(byOp, { Conv: first + second });
});

Deno.test("MatMul with broadcast batch dims and Gemm with transB", () => {
  const b = new GraphBuilder();
  const a = b.input("a", "float32", ["n", 3, 5, 7]);
  const m = b.initializer("m", new Float32Array(7 * 2), [7, 2]);
  const prod = b.matmul(a, m); // [n, 3, 5, 2]
  const flat = b.reshape(prod, [-1, 2]); // [n·15, 2]
  const w = b.initializer("lw", new Float32Array(4 * 2), [4, 2]);
  const out = b.linear(flat, w); // Gemm transB: [n·15, 4]
  b.output(out, "y", "float32");
  const { total, byOp, shapes } = countFlops(b.build(), { a: [2, 3, 5, 7] });
  assert.deepEqual(shapes.get("y"), [30, 4]);
  assert.equal(byOp.MatMul, 2 * (2 * 3) * 5 * 7 * 2);
  assert.equal(byOp.Gemm, 2 * 30 * 2 * 4);
  assert.equal(total, byOp.MatMul + byOp.Gemm);
});

Deno.test("dynamic reshapes through Shape/Concat are evaluated; other ops cost nothing", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", ["n", 8, "h", "w"]);
  const tokens = b.reshape(x, b.concat([b.shape(x, 0, 2), b.constInt64([-1])], 0)); // [n, 8, h·w]
  const scores = b.softmax(b.matmul(b.transpose(tokens, [0, 2, 1]), tokens)); // [n, hw, hw]
  b.output(b.add(b.sigmoid(scores), scores), "y", "float32");
  const { total, shapes } = countFlops(b.build(), { x: [1, 8, 2, 3] });
  assert.deepEqual(shapes.get("y"), [1, 6, 6]);
  assert.equal(total, 2 * 6 * 8 * 6);
});

Deno.test("com.microsoft.MultiHeadAttention counts q·kᵀ and probs·v", () => {
  const b = new GraphBuilder();
  const q = b.input("q", "float32", ["n", "s", 8]);
  const kv = b.input("kv", "float32", ["n", "l", 8]);
  const [o] = b.node("MultiHeadAttention", [q, kv, kv], { num_heads: attr.int(2) }, {
    domain: "com.microsoft",
  });
  b.output(o, "o", "float32");
  const { total, shapes } = countFlops(b.build(), { q: [3, 5, 8], kv: [3, 7, 8] });
  assert.deepEqual(shapes.get("o"), [3, 5, 8]);
  assert.equal(total, 2 * 3 * 5 * 7 * 8 * 2);
});

Deno.test("missing input shapes and unsupported operators are named", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [2]);
  b.output(b.node("Einsum", [x], { equation: attr.string("i->i") })[0], "y", "float32");
  const graph = b.build();
  assert.throws(() => countFlops(graph, {}), /no shape given for graph input "x"/);
  assert.throws(
    () => countFlops(graph, { x: [2] }),
    /"Einsum\/?[^"]*" \(Einsum\): operator is not supported/,
  );
});
