import assert from "node:assert/strict";
import { join } from "node:path";
import {
  FACE_API_PACKAGE,
  faceApiPackageDir,
  faceApiVersion,
  FaceApiWeightsError,
  readFaceApiWeights,
} from "./face_api_weights.ts";

/** A fake package folder with one manifest of two groups (the first split over two shards). */
async function fakePackage(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "face-api-weights-" });
  await Deno.mkdir(join(dir, "model"));
  const manifest = [
    {
      paths: ["m.bin.1", "m.bin.2"],
      weights: [
        {
          name: "q8",
          shape: [2, 2],
          dtype: "float32",
          quantization: { dtype: "uint8", scale: 0.1, min: -1 },
        },
        { name: "plain", shape: [2], dtype: "float32" },
        { name: "ints", shape: [1], dtype: "int32" },
      ],
    },
    {
      paths: ["m.bin.3"],
      weights: [
        {
          name: "q16",
          shape: [2],
          dtype: "float32",
          quantization: { dtype: "uint16", scale: 0.5, min: 3 },
        },
      ],
    },
  ];
  await Deno.writeTextFile(join(dir, "model", "m-weights_manifest.json"), JSON.stringify(manifest));
  const group1 = new Uint8Array(4 + 8 + 4);
  group1.set([0, 10, 255, 7]);
  new DataView(group1.buffer).setFloat32(4, 1.5, true);
  new DataView(group1.buffer).setFloat32(8, -2.25, true);
  new DataView(group1.buffer).setInt32(12, 42, true);
  await Deno.writeFile(join(dir, "model", "m.bin.1"), group1.subarray(0, 6)); // split mid-float
  await Deno.writeFile(join(dir, "model", "m.bin.2"), group1.subarray(6));
  await Deno.writeFile(
    join(dir, "model", "m.bin.3"),
    new Uint8Array(new Uint16Array([0, 1000]).buffer),
  );
  return dir;
}

Deno.test("readFaceApiWeights: shards joined per group, q * scale + min stored as float32", async () => {
  const dir = await fakePackage();
  try {
    const { tensors, sha256 } = await readFaceApiWeights("m", dir);
    assert.deepEqual([...tensors.keys()], ["q8", "plain", "q16"]); // int32 is not a net weight
    assert.deepEqual(tensors.get("q8")!.shape, [2, 2]);
    assert.deepEqual(
      tensors.get("q8")!.data,
      new Float32Array([0 * 0.1 - 1, 10 * 0.1 - 1, 255 * 0.1 - 1, 7 * 0.1 - 1]),
    );
    assert.deepEqual(tensors.get("plain")!.data, new Float32Array([1.5, -2.25]));
    assert.deepEqual(tensors.get("q16")!.data, new Float32Array([3, 503]));
    assert.deepEqual(Object.keys(sha256).sort(), [
      "m-weights_manifest.json",
      "m.bin.1",
      "m.bin.2",
      "m.bin.3",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readFaceApiWeights: a missing or short shard is reported naming the file", async () => {
  const dir = await fakePackage();
  try {
    await Deno.remove(join(dir, "model", "m.bin.3"));
    await assert.rejects(
      () => readFaceApiWeights("m", dir),
      (e) => e instanceof FaceApiWeightsError && e.message.includes(join(dir, "model", "m.bin.3")),
    );
    await Deno.writeFile(join(dir, "model", "m.bin.3"), new Uint8Array(3));
    await assert.rejects(
      () => readFaceApiWeights("m", dir),
      /m-weights_manifest\.json: weight "q16" needs bytes 0\.\.4, but the shards m\.bin\.3 hold only 3/,
    );
    await assert.rejects(() => readFaceApiWeights("absent", dir), /absent-weights_manifest\.json/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("faceApiPackageDir: the installed package with its recognition and landmark nets", async () => {
  const dir = faceApiPackageDir();
  assert.equal(
    JSON.parse(await Deno.readTextFile(join(dir, "package.json"))).name,
    FACE_API_PACKAGE,
  );
  assert.equal(faceApiVersion(dir), "1.7.15");
  for (
    const file of ["face_recognition_model.bin", "face_landmark_68_model-weights_manifest.json"]
  ) {
    assert.ok((await Deno.stat(join(dir, "model", file))).isFile, file);
  }
});
