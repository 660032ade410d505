import assert from "node:assert/strict";
import ort from "onnxruntime-node";
import { GraphBuilder } from "./graph_builder.ts";
import { serializeModel } from "./serialize.ts";
import type { OnnxGraph } from "./graph.ts";

async function run(
  graph: OnnxGraph,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(serializeModel(graph).model, {
    intraOpNumThreads: 1,
  });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function pseudoRandom(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 2.5);
}

Deno.test("node names follow the innermost scope and never repeat", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", ["batch", 2]);
  const a = b.scope("block.0", () => b.sigmoid(x));
  const c = b.scope("block.0", () => b.sigmoid(a));
  const d = b.scope("outer", () => b.scope("inner.1", () => b.sigmoid(c)));
  b.output(d, "y", "float32");
  const g = b.build();
  assert.deepEqual(g.nodes.slice(0, 3).map((n) => n.name), [
    "block.0/Sigmoid",
    "block.0/Sigmoid_1",
    "inner.1/Sigmoid",
  ]);
  const outputs = g.nodes.flatMap((n) => n.outputs);
  assert.equal(new Set(outputs).size, outputs.length);
});

Deno.test("small identical constants are shared, large ones are not", () => {
  const b = new GraphBuilder();
  assert.equal(b.constInt64([0, 4, -1]), b.constInt64([0, 4, -1]));
  assert.notEqual(b.constInt64([0, 4, -1]), b.constInt64([0, 4, 1]));
  assert.notEqual(b.constFloat([1]), b.constInt64([1]));
  const big = new Float32Array(1000);
  assert.notEqual(b.constFloat(big), b.constFloat(big));
});

Deno.test("misuse is reported with the offending name", () => {
  const b = new GraphBuilder();
  b.input("x", "float32", [1]);
  assert.throws(() => b.sigmoid("nope"), /input "nope" is not defined/);
  assert.throws(() => b.initializer("x", new Float32Array(1), [1]), /"x" is already used/);
  assert.throws(
    () => b.initializer("w", new Float32Array(3), [2, 2]),
    /dims \[2,2\] need 4 values, got 3/,
  );
  assert.throws(() => new GraphBuilder({ opset: 13 }), /opset must be an integer >= 18/);
  assert.throws(() => new GraphBuilder().build(), /has no outputs/);
});

Deno.test("groupNorm matches torch.nn.GroupNorm's definition (float64 reference)", async () => {
  const [n, c, h, w, groups, eps] = [2, 6, 3, 5, 3, 1e-5];
  const b = new GraphBuilder();
  const x = b.input("x", "float32", ["batch", c, h, w]);
  const gamma = pseudoRandom(c, 1);
  const beta = pseudoRandom(c, 2);
  const y = b.groupNorm(x, {
    groups,
    epsilon: eps,
    scale: b.initializer("gamma", gamma, [c]),
    bias: b.initializer("beta", beta, [c]),
  });
  b.output(y, "y", "float32");
  const input = pseudoRandom(n * c * h * w, 3);
  const got = (await run(b.build(), { x: new ort.Tensor("float32", input, [n, c, h, w]) })).y
    .data as Float32Array;

  const perGroup = (c / groups) * h * w;
  let worst = 0;
  for (let s = 0; s < n * groups; s++) {
    const base = s * perGroup;
    let mean = 0;
    for (let i = 0; i < perGroup; i++) mean += input[base + i];
    mean /= perGroup;
    let variance = 0;
    for (let i = 0; i < perGroup; i++) variance += (input[base + i] - mean) ** 2;
    variance /= perGroup;
    for (let i = 0; i < perGroup; i++) {
      const channel = Math.floor((base + i) / (h * w)) % c;
      const want = ((input[base + i] - mean) / Math.sqrt(variance + eps)) * gamma[channel] +
        beta[channel];
      worst = Math.max(worst, Math.abs(got[base + i] - want));
    }
  }
  assert.ok(worst < 1e-5, `max error ${worst}`);
});

Deno.test("resizeNearest repeats each pixel as torch's nearest ×2 does", async () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [1, 1, 2, 3]);
  b.output(b.resizeNearest(x, [1, 1, 2, 2]), "y", "float32");
  const input = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const y = (await run(b.build(), { x: new ort.Tensor("float32", input, [1, 1, 2, 3]) })).y;
  assert.deepEqual(y.dims, [1, 1, 4, 6]);
  const got = y.data as Float32Array;
  for (let r = 0; r < 4; r++) {
    for (let col = 0; col < 6; col++) {
      assert.equal(got[r * 6 + col], input[Math.floor(r / 2) * 3 + Math.floor(col / 2)]);
    }
  }
});

Deno.test("argMin returns the first index on ties, like torch.argmin", async () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", ["rows", 4]);
  b.output(b.argMin(x, 1), "i", "int64");
  const input = Float32Array.from([3, 1, 1, 2, 0, 5, 0, 0]);
  const i = (await run(b.build(), { x: new ort.Tensor("float32", input, [2, 4]) })).i;
  assert.deepEqual([...(i.data as BigInt64Array)], [1n, 0n]);
});

Deno.test("a dynamic batch dimension accepts any batch size", async () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", ["batch", 3]);
  const w = b.initializer("w", Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
  b.output(b.linear(x, w), "y", "float32", ["batch", 2]);
  const graph = b.build();
  for (const n of [1, 3]) {
    const input = Float32Array.from({ length: n * 3 }, (_, i) => i);
    const y = (await run(graph, { x: new ort.Tensor("float32", input, [n, 3]) })).y;
    assert.deepEqual(y.dims, [n, 2]);
    const got = y.data as Float32Array;
    for (let r = 0; r < n; r++) {
      const [a, c, d] = input.subarray(r * 3, r * 3 + 3);
      assert.equal(got[r * 2], a + 2 * c + 3 * d);
      assert.equal(got[r * 2 + 1], 4 * a + 5 * c + 6 * d);
    }
  }
});
