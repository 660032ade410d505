import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import ort from "onnxruntime-node";
import { GraphBuilder } from "./graph_builder.ts";
import { attr, type OnnxGraph } from "./graph.ts";
import { saveModel, serializeModel } from "./serialize.ts";

const { onnx } = onnxProto;

// deno-lint-ignore no-explicit-any
type Plain = Record<string, any>;

/** The model as plain objects (numbers for int64 fields, all arrays present). */
function decode(bytes: Uint8Array): Plain {
  return onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { longs: Number, arrays: true });
}

/** y = conv(x) + 1 with a 1 KiB weight, a bias, and a Gemm on the flattened result. */
function smallGraph(): OnnxGraph {
  const b = new GraphBuilder({ name: "small" });
  const x = b.input("x", "float32", ["batch", 4, 4, 4]);
  const w = b.initializer(
    "conv.weight",
    Float32Array.from({ length: 256 }, (_, i) => Math.cos(i) / 8),
    [
      16,
      4,
      2,
      2,
    ],
  );
  const bias = b.initializer("conv.bias", Float32Array.from({ length: 16 }, (_, i) => i / 16), [
    16,
  ]);
  const y = b.conv(x, w, bias, { strides: [2, 2] });
  const flat = b.reshape(y, [0, -1]);
  const fc = b.initializer(
    "fc.weight",
    Float32Array.from({ length: 5 * 64 }, (_, i) => Math.sin(i) / 8),
    [5, 64],
  );
  b.output(b.linear(flat, fc), "y", "float32", ["batch", 5]);
  b.setMetadata("purpose", "test");
  return b.build();
}

const input = Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i * 0.7));

async function runSession(session: ort.InferenceSession): Promise<Float32Array> {
  try {
    const out = await session.run({ x: new ort.Tensor("float32", input, [2, 4, 4, 4]) });
    return out.y.data as Float32Array;
  } finally {
    await session.release();
  }
}

Deno.test("serializeModel encodes opset, IR version, typed attributes, metadata and raw data", () => {
  const graph = smallGraph();
  const { model, data } = serializeModel(graph);
  assert.equal(data, undefined);
  const decoded = decode(model);
  assert.equal(Number(decoded.irVersion), 10);
  assert.deepEqual(decoded.opsetImport.map((o: Plain) => [o.domain ?? "", o.version]), [[
    "",
    graph.opset,
  ]]);
  assert.deepEqual(decoded.metadataProps.map((p: Plain) => [p.key, p.value]), [[
    "purpose",
    "test",
  ]]);
  const conv = decoded.graph.node.find((n: Plain) => n.opType === "Conv")!;
  const strides = conv.attribute.find((a: Plain) => a.name === "strides")!;
  assert.equal(strides.type, onnx.AttributeProto.AttributeType.INTS);
  assert.deepEqual(strides.ints.map(Number), [2, 2]);
  const weight = decoded.graph.initializer.find((t: Plain) => t.name === "conv.weight")!;
  assert.deepEqual(weight.dims.map(Number), [16, 4, 2, 2]);
  const values = new Float32Array(Uint8Array.from(weight.rawData).buffer);
  assert.equal(values[3], Math.fround(Math.cos(3) / 8));
  const dims = decoded.graph.input[0].type.tensorType.shape.dim;
  assert.deepEqual(dims.map((d: Plain) => d.dimParam ?? d.dimValue), ["batch", 4, 4, 4]);
});

Deno.test("float attributes stay floats even when integral", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [1, 2]);
  b.output(b.node("LeakyRelu", [x], { alpha: attr.float(1) })[0], "y", "float32");
  const decoded = decode(serializeModel(b.build()).model);
  const alpha = decoded.graph.node[0].attribute[0];
  assert.equal(alpha.type, onnx.AttributeProto.AttributeType.FLOAT);
  assert.equal(alpha.f, 1);
});

Deno.test("external data: layout, and onnxruntime-node loads the model from disk", async () => {
  const graph = smallGraph();
  const inline = serializeModel(graph);
  const external = serializeModel(graph, { externalData: "small.onnx.data", sizeThreshold: 0 });
  assert.ok(external.data && external.data.byteLength >= (256 + 16 + 320) * 4);
  assert.ok(external.model.byteLength < inline.model.byteLength - 2000);

  const decoded = decode(external.model);
  for (const t of decoded.graph.initializer) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT) {
      assert.ok(t.rawData.length > 0, `${t.name}: integer tensors stay inline`);
      continue;
    }
    assert.equal(t.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL, t.name);
    assert.equal(t.rawData?.length ?? 0, 0);
    const info = Object.fromEntries(t.externalData.map((e: Plain) => [e.key, e.value]));
    assert.equal(info.location, "small.onnx.data");
    const offset = Number(info.offset);
    assert.equal(offset % 64, 0);
    const original = graph.initializers.find((i) => i.name === t.name)!;
    const bytes = new Uint8Array(
      original.data.buffer,
      original.data.byteOffset,
      original.data.byteLength,
    );
    assert.equal(Number(info.length), bytes.byteLength);
    assert.deepEqual(external.data!.subarray(offset, offset + bytes.byteLength), bytes);
  }

  const dir = await Deno.makeTempDir({ prefix: "onnx-external-" });
  try {
    const path = join(dir, "small.onnx");
    const written = await saveModel(path, graph, { externalData: true, sizeThreshold: 0 });
    assert.equal(written.dataPath, join(dir, "small.onnx.data"));
    const fromDisk = await runSession(
      await ort.InferenceSession.create(path, { intraOpNumThreads: 1 }),
    );
    const fromMemory = await runSession(
      await ort.InferenceSession.create(inline.model, { intraOpNumThreads: 1 }),
    );
    assert.deepEqual(fromDisk, fromMemory);
    assert.ok(fromDisk.some((v) => v !== 0));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("small initializers stay inline under the size threshold", () => {
  const { model, data } = serializeModel(smallGraph(), { externalData: "m.data" });
  const decoded = decode(model);
  const external = decoded.graph.initializer.filter((t: Plain) =>
    t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL
  )
    .map((t: Plain) => t.name).sort();
  assert.deepEqual(external, ["conv.weight", "fc.weight"]);
  assert.equal(data!.byteLength, 256 * 4 + 320 * 4);
});

Deno.test("externalData must be a plain file name", () => {
  assert.throws(
    () => serializeModel(smallGraph(), { externalData: "../x.data" }),
    /plain file name/,
  );
});

/** A graph with tensors above the page-alignment and write-chunk sizes, and small ones between. */
function largeGraph(): OnnxGraph {
  const b = new GraphBuilder({ name: "large" });
  const x = b.input("x", "float32", [1, 1024]);
  let y = x;
  // 9 MiB (more than one write chunk), 4 KiB + 4 bytes (64-byte aligned), 1 MiB + 4 bytes
  // (page aligned, so zero padding precedes and follows the small ones).
  for (const [i, rows] of [2304, 1, 256].entries()) {
    const w = b.initializer(
      `w${i}`,
      Float32Array.from({ length: 1024 * rows + 1 }, (_, j) => Math.sin(i + j * 0.01)).subarray(1),
      [rows, 1024],
    );
    y = b.node("MatMul", [x, b.node("Transpose", [w], { perm: attr.ints([1, 0]) })[0]])[0];
  }
  b.output(y, "y", "float32", [1, 256]);
  return b.build();
}

const sha256Of = async (path: string) =>
  createHash("sha256").update(await Deno.readFile(path)).digest("hex");

Deno.test("saveModel streams the data file: same bytes as in memory, hashed as written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onnx-stream-" });
  try {
    for (
      const [name, graph, threshold] of [["small", smallGraph(), 0], [
        "large",
        largeGraph(),
        1024,
      ]] as const
    ) {
      const path = join(dir, `${name}.onnx`);
      const saved = await saveModel(path, graph, { externalData: true, sizeThreshold: threshold });
      const reference = serializeModel(graph, {
        externalData: `${name}.onnx.data`,
        sizeThreshold: threshold,
      });
      assert.deepEqual(await Deno.readFile(path), new Uint8Array(reference.model), `${name}.onnx`);
      assert.deepEqual(await Deno.readFile(`${path}.data`), reference.data, `${name}.onnx.data`);
      assert.deepEqual(saved.sha256, {
        [`${name}.onnx`]: await sha256Of(path),
        [`${name}.onnx.data`]: await sha256Of(`${path}.data`),
      });
      assert.deepEqual(saved.layout, reference.layout);
    }
    // A model sharing another's data file hashes only itself.
    const unet = await saveModel(join(dir, "large.onnx"), largeGraph(), { externalData: true });
    const loop = await saveModel(join(dir, "copy.onnx"), largeGraph(), {
      sharedData: { file: "large.onnx.data", layout: unet.layout },
    });
    assert.deepEqual(loop.sha256, { "copy.onnx": await sha256Of(join(dir, "copy.onnx")) });
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["copy.onnx", "large.onnx", "large.onnx.data", "small.onnx", "small.onnx.data"],
      "no temporary files left",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("saveModel writes the weights from the graph's own memory, never one assembled copy", async () => {
  // The streamed conversion's memory bound (issue 13): every byte written to the data file is a
  // view of an initializer's buffer or a page of zero padding, in chunks of at most 8 MiB, so
  // writing a model never allocates a second copy of its weights.
  const graph = largeGraph();
  const weightBuffers = new Set(graph.initializers.map((init) => init.data.buffer));
  const dir = await Deno.makeTempDir({ prefix: "onnx-stream-views-" });
  const write = Deno.FsFile.prototype.write;
  const chunks: Uint8Array[] = [];
  Deno.FsFile.prototype.write = function (this: Deno.FsFile, p: Uint8Array) {
    chunks.push(p);
    return write.call(this, p);
  };
  let model: Uint8Array;
  try {
    await saveModel(join(dir, "large.onnx"), graph, { externalData: true, sizeThreshold: 1024 });
  } finally {
    Deno.FsFile.prototype.write = write;
    model = await Deno.readFile(join(dir, "large.onnx")).catch(() => new Uint8Array());
    await Deno.remove(dir, { recursive: true });
  }
  // The model file itself (graph structure, no weights) is written in one piece.
  const isModelFile = (c: Uint8Array) =>
    c.byteLength === model.byteLength && c.every((v, i) => v === model[i]);
  assert.equal(chunks.filter(isModelFile).length, 1, "the .onnx file is written once");
  chunks.splice(chunks.findIndex(isModelFile), 1);
  const dataBytes = chunks.reduce((n, c) => n + c.byteLength, 0);
  assert.ok(dataBytes > 9 << 20, `the data file went through FsFile.write (${dataBytes} bytes)`);
  for (const chunk of chunks) {
    assert.ok(chunk.byteLength <= 8 << 20, `a ${chunk.byteLength}-byte write`);
    const isWeights = weightBuffers.has(chunk.buffer);
    const isPadding = chunk.byteLength <= 4096 && chunk.every((v) => v === 0);
    assert.ok(isWeights || isPadding, `a ${chunk.byteLength}-byte write from a copied buffer`);
  }
});
