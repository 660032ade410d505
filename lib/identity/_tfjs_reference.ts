/**
 * Test-only: face-api's own TensorFlow.js execution (the bundle `dist/face-api.esm.js` of
 * `@vladmandic/face-api`, which carries tfjs 4.22 with its pure-JS CPU backend), loaded inside
 * Deno, with the package's weights read the way its `NeuralNetwork.loadFromDisk` reads them
 * (`tf.io.weightsLoaderFactory` over the manifest and shards, i.e. tfjs's own dequantisation).
 *
 * Deno defines `process`, so tfjs would pick its Node platform, which in this browser bundle has
 * no `util` module and fails at import. The bundle is therefore imported with `process` hidden,
 * and a minimal platform (what tfjs-core's `Platform` interface asks for) is registered after.
 *
 * @module
 */

import { join } from "node:path";
import { faceApiPackageDir } from "./face_api_weights.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** The face-api module (untyped: the bundle's types pull in DOM declarations). */
export interface FaceApiReference {
  /** The face-api namespace. */
  faceapi: Any;
  /** Its bundled tfjs. */
  tf: Any;
  /** `faceapi.nets.faceRecognitionNet`, loaded from the package's weights. */
  recognitionNet: Any;
}

let loaded: Promise<FaceApiReference> | undefined;

/** Loads face-api on tfjs's CPU backend once per process. */
export function loadFaceApiReference(): Promise<FaceApiReference> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<FaceApiReference> {
  const g = globalThis as Any;
  const saved = Object.getOwnPropertyDescriptor(g, "process");
  Object.defineProperty(g, "process", { value: undefined, configurable: true, writable: true });
  let faceapi: Any;
  try {
    const url = new URL(
      `file://${join(faceApiPackageDir(), "dist", "face-api.esm.js")}`,
    );
    faceapi = await import(url.href);
  } finally {
    if (saved) Object.defineProperty(g, "process", saved);
    else delete g.process;
  }
  const tf = faceapi.tf;
  tf.setPlatform("deno", {
    fetch: (input: string, init?: RequestInit) => fetch(input, init),
    now: () => performance.now(),
    encode: (text: string) => new TextEncoder().encode(text),
    decode: (bytes: Uint8Array) => new TextDecoder().decode(bytes),
    isTypedArray: (a: unknown) => ArrayBuffer.isView(a) && !(a instanceof DataView),
    setTimeoutCustom: (f: () => void, ms: number) => setTimeout(f, ms),
  });
  // face-api's own environment (canvas and image classes) is only used for media inputs; with
  // tensors in, classes that nothing is an instance of are all it needs.
  const none = class {};
  faceapi.env.setEnv({
    Canvas: none,
    CanvasRenderingContext2D: none,
    Image: none,
    ImageData: none,
    Video: none,
    createCanvasElement: () => {
      throw new Error("no canvas in this test environment");
    },
    createImageElement: () => {
      throw new Error("no images in this test environment");
    },
    createVideoElement: () => {
      throw new Error("no video in this test environment");
    },
    fetch: (input: string, init?: RequestInit) => fetch(input, init),
    readFile: (path: string) => Deno.readFile(path),
  });
  await tf.setBackend("cpu");
  await tf.ready();
  const reference = { faceapi, tf, recognitionNet: faceapi.nets.faceRecognitionNet };
  await loadNet(reference, faceapi.nets.faceRecognitionNet, "face_recognition_model");
  return reference;
}

/** tfjs's `io.weightsLoaderFactory` over a manifest of the package: its tensor map. */
async function decodeWithTfjs(ref: FaceApiReference, manifestName: string): Promise<Any> {
  const modelDir = join(faceApiPackageDir(), "model");
  const manifest = JSON.parse(
    await Deno.readTextFile(join(modelDir, `${manifestName}-weights_manifest.json`)),
  );
  const readShards = (paths: string[]) =>
    Promise.all(paths.map(async (p) => (await Deno.readFile(p)).buffer));
  return await ref.tf.io.weightsLoaderFactory(readShards)(manifest, `${modelDir}/`);
}

/**
 * Loads one of face-api's nets (e.g. `faceapi.nets.ssdMobilenetv1`, manifest
 * `ssd_mobilenetv1_model`) from the package's weights, as `NeuralNetwork.loadFromDisk` does.
 */
export async function loadNet(ref: FaceApiReference, net: Any, manifestName: string) {
  if (!net.isLoaded) net.loadFromWeightMap(await decodeWithTfjs(ref, manifestName));
}

/** tfjs's own decoding of a weights manifest: name → { shape, data }. */
export async function tfjsWeightMap(
  ref: FaceApiReference,
  manifestName: string,
): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const weightMap = await decodeWithTfjs(ref, manifestName);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, tensor] of Object.entries(weightMap as Record<string, Any>)) {
    out.set(name, { shape: tensor.shape, data: tensor.dataSync() });
    tensor.dispose();
  }
  return out;
}
