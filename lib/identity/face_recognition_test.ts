import assert from "node:assert/strict";
import { join } from "node:path";
import { Image } from "imagescript";
import { unitToByte } from "../render/png.ts";
import { torchRandn } from "../noise/mod.ts";
import { loadModel } from "../pipelines/model.ts";
import { resolveModel } from "../pipelines/resolve.ts";
import { sample } from "../pipelines/sample.ts";
import { DESCRIPTOR_LENGTH, descriptorDistance } from "./embedder.ts";
import { faceApiPackageDir, readFaceApiWeights } from "./face_api_weights.ts";
import { cropFaces, type FaceBox, pixelBox } from "./face_crop.ts";
import {
  CELEBAHQ_FACE_BOX,
  convertFaceRecognitionNet,
  FACE_NET_CONVERTER_VERSION,
  loadFaceEmbedder,
} from "./face_recognition.ts";
import { buildFaceRecognitionGraph, FaceNetWeightsError } from "./face_recognition_graph.ts";
import { type FaceApiReference, loadFaceApiReference, tfjsWeightMap } from "./_tfjs_reference.ts";

/**
 * Agreement with TF.js stated in the README: largest difference of one descriptor component and
 * largest Euclidean distance between the two descriptors of one input (descriptors have norm
 * ≈ 1, and 0.6 separates people, so 1e-5 is five orders of magnitude below any decision).
 */
const COMPONENT_TOLERANCE = 1e-5;
const DISTANCE_TOLERANCE = 1e-5;

/** NCHW [0, 1] image → face-api's input: an HWC int32 tensor of the bytes a PNG would hold. */
function toTfjsImage(ref: FaceApiReference, image: Float32Array, size: number) {
  const plane = size * size;
  const hwc = new Int32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) hwc[i * 3 + c] = unitToByte(image[c * plane + i]);
  }
  return ref.tf.tensor3d(hwc, [size, size, 3], "int32");
}

/** face-api's own path: extractFaceTensors(image, [box]) → computeFaceDescriptor. */
async function faceApiDescriptor(
  ref: FaceApiReference,
  image: Float32Array,
  size: number,
  box: FaceBox,
  withDescriptor = true,
): Promise<{ descriptor?: Float32Array; netInput: Float32Array }> {
  const { faceapi, tf } = ref;
  const tensor = toTfjsImage(ref, image, size);
  const rect = new faceapi.Rect(box.x * size, box.y * size, box.width * size, box.height * size);
  const [face] = await faceapi.extractFaceTensors(tensor, [rect]);
  const batch = (await faceapi.toNetInput(face)).toBatchTensor(150, true);
  const nhwc = await batch.data();
  const netInput = new Float32Array(nhwc.length);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 150 * 150; i++) netInput[c * 150 * 150 + i] = nhwc[i * 3 + c];
  }
  const descriptor = withDescriptor
    ? await ref.recognitionNet.computeFaceDescriptor(face)
    : undefined;
  tf.dispose([tensor, face, batch]);
  return { descriptor, netInput };
}

/** A square crop of one of face-api's demo photos, resized to `size` (imagescript, bilinear). */
async function photo(file: string, size: number, offset: number): Promise<Float32Array> {
  const image = await Image.decode(await Deno.readFile(join(faceApiPackageDir(), "demo", file)));
  const side = Math.min(image.width, image.height);
  const left = Math.round((image.width - side) * offset);
  const top = Math.round((image.height - side) * 0.3);
  const square = image.crop(left, top, side, side).resize(size, size);
  const out = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) out[c * size * size + i] = square.bitmap[i * 4 + c] / 255;
  }
  return out;
}

/** Deterministic inputs: photos of people, the tiny model's images, noise, gradients, flats. */
async function testInputs(): Promise<{ label: string; size: number; image: Float32Array }[]> {
  const inputs: { label: string; size: number; image: Float32Array }[] = [];
  for (let k = 1; k <= 6; k++) {
    inputs.push({
      label: `sample${k}.jpg @256`,
      size: 256,
      image: await photo(`sample${k}.jpg`, 256, 0.5),
    });
    inputs.push({
      label: `sample${k}.jpg @64`,
      size: 64,
      image: await photo(`sample${k}.jpg`, 64, 0.2),
    });
  }
  const model = await loadModel(await resolveModel("tiny"), { threads: 1 });
  try {
    const { images } = await sample(model, {
      seed: 7,
      steps: 2,
      window: [1, 2],
      colors: ["#ff0000", "#00ff00", "#0000ff", "#ffffff"],
    });
    const one = 3 * model.imageSize * model.imageSize;
    for (let b = 0; b < 4; b++) {
      const image = images.slice(b * one, (b + 1) * one).map((v) => Math.min(1, Math.max(0, v)));
      inputs.push({ label: `tiny model #${b}`, size: model.imageSize, image });
    }
  } finally {
    await model.release();
  }
  for (const [seed, size] of [[1, 256], [2, 256], [3, 64], [4, 150]] as const) {
    const noise = torchRandn([1, 3, size, size], seed);
    inputs.push({
      label: `sigmoid(randn) seed ${seed} @${size}`,
      size,
      image: noise.map((v) => 1 / (1 + Math.exp(-v))),
    });
  }
  for (const size of [256, 64]) {
    const image = new Float32Array(3 * size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        image[y * size + x] = x / (size - 1);
        image[size * size + y * size + x] = y / (size - 1);
        image[2 * size * size + y * size + x] = 0.5 + 0.5 * Math.sin((x + y) / 9);
      }
    }
    inputs.push({ label: `gradient @${size}`, size, image });
  }
  inputs.push({
    label: "mid grey @256",
    size: 256,
    image: new Float32Array(3 * 256 * 256).fill(0.5),
  });
  return inputs;
}

Deno.test("readFaceApiWeights decodes every weight exactly as tfjs's io.decodeWeights", async () => {
  const ours = await readFaceApiWeights("face_recognition_model");
  const ref = await loadFaceApiReference();
  const theirs = await tfjsWeightMap(ref, "face_recognition_model");
  assert.equal(ours.tensors.size, theirs.size);
  assert.equal(ours.tensors.size, 117);
  for (const [name, t] of theirs) {
    const mine = ours.tensors.get(name);
    assert.ok(mine, `weight ${name} missing`);
    assert.deepEqual(mine.shape, t.shape, name);
    assert.deepEqual(mine.data, t.data, name);
  }
  assert.match(ours.sha256["face_recognition_model.bin"], /^[0-9a-f]{64}$/);
});

Deno.test("face crop: cropFaces gives face-api's 150×150 batch tensor bit for bit", async () => {
  const ref = await loadFaceApiReference();
  const boxes: FaceBox[] = [
    CELEBAHQ_FACE_BOX,
    { x: 0, y: 0, width: 1, height: 1 },
    { x: 0.1, y: 0.25, width: 0.5, height: 0.7 }, // taller than wide: columns padded
    { x: -0.2, y: 0.6, width: 0.9, height: 0.8 }, // clipped at the left and bottom borders
  ];
  for (const size of [256, 64, 150]) {
    const image = torchRandn([1, 3, size, size], size).map((v) => 1 / (1 + Math.exp(-v)));
    for (const box of boxes) {
      const { netInput } = await faceApiDescriptor(ref, image, size, box, false);
      const ours = cropFaces(image, 1, size, box, 150);
      assert.deepEqual(ours, netInput, `size ${size} box ${JSON.stringify(box)}`);
    }
  }
});

Deno.test({
  name: "face embedder: descriptors match face-api's TF.js execution on 23 inputs",
  sanitizeResources: false,
  async fn() {
    const ref = await loadFaceApiReference();
    const cacheDir = await Deno.makeTempDir({ prefix: "face-net-" });
    const embedder = await loadFaceEmbedder({ cacheDir, threads: 1 });
    try {
      const inputs = await testInputs();
      assert.equal(inputs.length, 23);
      let worstComponent = 0;
      let worstDistance = 0;
      let smallest = Infinity;
      for (const { label, size, image } of inputs) {
        const descriptor = (await faceApiDescriptor(ref, image, size, CELEBAHQ_FACE_BOX))
          .descriptor!;
        const ours = await embedder.embed(image, 1, size);
        assert.equal(ours.length, DESCRIPTOR_LENGTH);
        let component = 0;
        for (let k = 0; k < DESCRIPTOR_LENGTH; k++) {
          component = Math.max(component, Math.abs(ours[k] - descriptor[k]));
        }
        const distance = descriptorDistance(ours, descriptor);
        assert.ok(component <= COMPONENT_TOLERANCE, `${label}: max |Δ| ${component}`);
        assert.ok(distance <= DISTANCE_TOLERANCE, `${label}: distance ${distance}`);
        worstComponent = Math.max(worstComponent, component);
        worstDistance = Math.max(worstDistance, distance);
        smallest = Math.min(smallest, Math.hypot(...descriptor));
      }
      // The descriptors are not degenerate: the comparison is between real, distinct outputs.
      assert.ok(smallest > 0.1, `descriptor norm ${smallest}`);
      console.log(
        `face net vs TF.js over ${inputs.length} inputs: max |Δ| per component ${
          worstComponent.toExponential(2)
        }, max descriptor distance ${worstDistance.toExponential(2)}`,
      );
      // A batch gives the same descriptors as one image at a time.
      const size = 64;
      const batch = inputs.filter((i) => i.size === size);
      const joined = new Float32Array(batch.length * 3 * size * size);
      batch.forEach((b, i) => joined.set(b.image, i * 3 * size * size));
      const together = await embedder.embed(joined, batch.length, size);
      for (const [i, b] of batch.entries()) {
        const alone = await embedder.embed(b.image, 1, size);
        assert.ok(descriptorDistance(together, alone, DESCRIPTOR_LENGTH, i, 0) < 1e-5, b.label);
      }
    } finally {
      await embedder.release();
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test("face embedder: different faces are far apart, a face is near a slightly noisy copy", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "face-net-" });
  const embedder = await loadFaceEmbedder({ cacheDir, threads: 1 });
  try {
    const a = await photo("sample1.jpg", 256, 0.5);
    const b = await photo("sample4.jpg", 256, 0.5);
    const noisy = a.map((v, i) => Math.min(1, Math.max(0, v + 0.004 * Math.sin(i))));
    const d = await embedder.embed(new Float32Array([...a, ...b, ...noisy]), 3, 256);
    assert.ok(descriptorDistance(d, d, DESCRIPTOR_LENGTH, 0, 2) < 0.1);
    assert.ok(descriptorDistance(d, d, DESCRIPTOR_LENGTH, 0, 1) > 0.3);
  } finally {
    await embedder.release();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("face embedder: the conversion is cached, checked and rebuilt when damaged", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "face-net-" });
  try {
    const first = await convertFaceRecognitionNet(cacheDir);
    assert.equal(first.info.converterVersion, FACE_NET_CONVERTER_VERSION);
    assert.match(first.info.source, /^@vladmandic\/face-api@1\.7\.15$/);
    const stat = await Deno.stat(first.graphPath);
    const again = await convertFaceRecognitionNet(cacheDir);
    assert.deepEqual(again.info, first.info);
    assert.equal((await Deno.stat(first.graphPath)).mtime?.getTime(), stat.mtime?.getTime());
    // A damaged graph is noticed and converted anew.
    const bytes = await Deno.readFile(first.graphPath);
    bytes[bytes.length - 1] ^= 0xff;
    await Deno.writeFile(first.graphPath, bytes);
    const repaired = await convertFaceRecognitionNet(cacheDir);
    assert.deepEqual(repaired.info, first.info);
    const entries = [...Deno.readDirSync(cacheDir)].map((e) => e.name).sort();
    assert.deepEqual(entries, ["face_net.json", "face_recognition.onnx"]);
    const embedder = await loadFaceEmbedder({ cacheDir, threads: 1 });
    assert.equal(embedder.info.sha256, first.info.sha256["face_recognition.onnx"]);
    assert.equal(embedder.info.source, "@vladmandic/face-api@1.7.15");
    assert.equal(embedder.info.dimension, 128);
    assert.equal(embedder.info.threshold, 0.6);
    await assert.rejects(
      () => embedder.embed(new Float32Array(10), 1, 64),
      /images holds 10 floats, expected count × 3 × size × size = 12288/,
    );
    await embedder.release();
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("loadFaceEmbedder: a bad device, thread count or box is refused naming the value", async () => {
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => loadFaceEmbedder({ device: "tpu" as any }),
    /device "tpu" is not one of cpu, cuda, auto/,
  );
  await assert.rejects(
    () => loadFaceEmbedder({ threads: 0 }),
    /threads must be a positive integer, got 0/,
  );
});

Deno.test("pixelBox: face-api's clipAtImageBorders (clip, then floor)", () => {
  assert.deepEqual(pixelBox({ x: 0.2, y: 0.33, width: 0.6, height: 0.62 }, 256), {
    x: 51,
    y: 84,
    width: 153,
    height: 158,
  });
  assert.deepEqual(pixelBox({ x: -0.1, y: 0.5, width: 0.5, height: 0.9 }, 100), {
    x: 0,
    y: 50,
    width: 40,
    height: 50,
  });
  assert.throws(() => pixelBox({ x: 1.2, y: 0, width: 0.1, height: 1 }, 64), /leaves no pixels/);
});

Deno.test("buildFaceRecognitionGraph: a missing or misshapen weight is named", async () => {
  const { tensors } = await readFaceApiWeights("face_recognition_model");
  const missing = new Map(tensors);
  missing.delete("conv64_1/conv2/scale/biases");
  assert.throws(
    () => buildFaceRecognitionGraph(missing),
    (e) =>
      e instanceof FaceNetWeightsError &&
      /conv64_1\/conv2\/scale\/biases" is missing/.test(e.message),
  );
  const wrong = new Map(tensors);
  wrong.set("fc", { name: "fc", shape: [128, 256], data: tensors.get("fc")!.data });
  assert.throws(
    () => buildFaceRecognitionGraph(wrong),
    /"fc" has shape \[128,256\], expected \[256,128\]/,
  );
});
