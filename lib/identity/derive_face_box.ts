/**
 * Where face-api puts its face box on a CelebA-HQ-aligned face: the evidence behind
 * {@link CELEBAHQ_FACE_BOX}, and how close the fixed box comes to face-api's full pipeline. Run
 * with `deno run -A lib/identity/derive_face_box.ts` (about two minutes on 2 cores).
 *
 * No CelebA-HQ image ships with fluidity, but face-api ships photos of real people
 * (`demo/sample*.jpg`). On each face found there, face-api's own pipeline runs in TensorFlow.js
 * (SSD MobileNet v1 detection, then the 68-point landmark net). From the landmarks, the square the
 * CelebA-HQ alignment (Karras et al. 2018, `dataset_tool.py create_celebahq`: eye and mouth
 * centres; side = 2·max(2·|eye→eye|, 1.8·|eye→mouth|), centre = eye midpoint + 0.1·eye→mouth,
 * turned upright) would cut from the photo is computed, and
 *
 * 1. face-api's `FaceLandmarks.align()` box (the landmarks' bounding box padded by 20 %) is
 *    expressed as fractions of that square — the median over faces is the fixed box (centred
 *    horizontally, as the alignment centres a frontal face);
 * 2. the square is cut out and resized to 256×256 — a CelebA-HQ-style aligned face — and face-api's
 *    full pipeline (detect → landmarks → align → descriptor) runs on it, giving its own box and
 *    descriptor there; the descriptor of the same image through the fixed box (`embed`) is set
 *    against it.
 *
 * @module
 */

import { Image } from "imagescript";
import { join } from "node:path";
import { median } from "../bench/machine.ts";
import { DESCRIPTOR_LENGTH, descriptorDistance } from "./embedder.ts";
import { faceApiPackageDir } from "./face_api_weights.ts";
import type { FaceBox } from "./face_crop.ts";
import { loadFaceEmbedder } from "./face_recognition.ts";
import { type FaceApiReference, loadFaceApiReference, loadNet } from "./_tfjs_reference.ts";

type Point = { x: number; y: number };

/** The CelebA-HQ crop square of a face: top-left corner and its two side vectors, in pixels. */
export interface AlignedSquare {
  /** Top-left corner. */
  origin: Point;
  /** Vector along the top side (left to right), full side length. */
  across: Point;
  /** Vector along the left side (top to bottom), full side length. */
  down: Point;
}

/** The CelebA-HQ alignment square from 68 face-api landmarks. */
export function celebaHqSquare(points: readonly Point[]): AlignedSquare {
  const mean = (idx: number[]) => ({
    x: idx.reduce((s, i) => s + points[i].x, 0) / idx.length,
    y: idx.reduce((s, i) => s + points[i].y, 0) / idx.length,
  });
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
  // CelebA's five landmarks from the 68-point scheme: eye centres, mouth corners.
  const leftEye = mean(range(36, 42));
  const rightEye = mean(range(42, 48));
  const mouth = mean([48, 54]);
  const eyeAvg = { x: (leftEye.x + rightEye.x) / 2, y: (leftEye.y + rightEye.y) / 2 };
  const eyeToEye = { x: rightEye.x - leftEye.x, y: rightEye.y - leftEye.y };
  const eyeToMouth = { x: mouth.x - eyeAvg.x, y: mouth.y - eyeAvg.y };
  // x = eye_to_eye - flipud(eye_to_mouth) * [-1, 1]; normalised, scaled; y = flipud(x) * [-1, 1].
  let ax = eyeToEye.x + eyeToMouth.y;
  let ay = eyeToEye.y - eyeToMouth.x;
  const norm = Math.hypot(ax, ay);
  const half = Math.max(
    Math.hypot(eyeToEye.x, eyeToEye.y) * 2,
    Math.hypot(eyeToMouth.x, eyeToMouth.y) * 1.8,
  );
  ax = (ax / norm) * half;
  ay = (ay / norm) * half;
  const c = { x: eyeAvg.x + eyeToMouth.x * 0.1, y: eyeAvg.y + eyeToMouth.y * 0.1 };
  return {
    origin: { x: c.x - ax + ay, y: c.y - ay - ax },
    across: { x: 2 * ax, y: 2 * ay },
    down: { x: -2 * ay, y: 2 * ax },
  };
}

/** Face-api's `alignMinBbox(0.2)` of the points, as fractions of the aligned square. */
export function alignedBox(points: readonly Point[], square: AlignedSquare): FaceBox {
  const side2 = square.across.x ** 2 + square.across.y ** 2;
  const inSquare = points.map((p) => {
    const dx = p.x - square.origin.x;
    const dy = p.y - square.origin.y;
    return {
      x: (dx * square.across.x + dy * square.across.y) / side2,
      y: (dx * square.down.x + dy * square.down.y) / side2,
    };
  });
  return minBboxPadded(inSquare);
}

/** The bounding box of the points padded by 20 % of its width and height (face-api's align). */
function minBboxPadded(points: readonly Point[]): FaceBox {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const w = x1 - x0;
  const h = y1 - y0;
  return { x: x0 - 0.1 * w, y: y0 - 0.1 * h, width: 1.2 * w, height: 1.2 * h };
}

/** Cuts the square out of an RGBA photo as a `size`² NCHW [0, 1] image (bilinear, edges held). */
export function cutAligned(
  rgba: Uint8ClampedArray | Uint8Array,
  width: number,
  height: number,
  square: AlignedSquare,
  size: number,
): Float32Array {
  const out = new Float32Array(3 * size * size);
  const at = (x: number, y: number, c: number) =>
    rgba[
      (Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))) * 4 +
      c
    ];
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const fu = (u + 0.5) / size;
      const fv = (v + 0.5) / size;
      const x = square.origin.x + fu * square.across.x + fv * square.down.x - 0.5;
      const y = square.origin.y + fu * square.across.y + fv * square.down.y - 0.5;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const tx = x - x0;
      const ty = y - y0;
      for (let c = 0; c < 3; c++) {
        const top = at(x0, y0, c) * (1 - tx) + at(x0 + 1, y0, c) * tx;
        const bottom = at(x0, y0 + 1, c) * (1 - tx) + at(x0 + 1, y0 + 1, c) * tx;
        out[(c * size + v) * size + u] = (top * (1 - ty) + bottom * ty) / 255;
      }
    }
  }
  return out;
}

interface Found {
  landmarks: { positions: Point[] };
  alignedRect: { box: { area: number } };
  descriptor?: Float32Array;
}

/** face-api's detect → landmarks (→ descriptors) on an int32 HWC tensor. */
async function detect(
  ref: FaceApiReference,
  tensor: unknown,
  describe: boolean,
  minConfidence: number,
): Promise<Found[]> {
  const options = new ref.faceapi.SsdMobilenetv1Options({ minConfidence });
  const task = ref.faceapi.detectAllFaces(tensor, options).withFaceLandmarks();
  return describe ? await task.withFaceDescriptors() : await task;
}

function toTensor(ref: FaceApiReference, rgba: ArrayLike<number>, width: number, height: number) {
  const rgb = new Int32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = rgba[i * 4 + c];
  }
  return ref.tf.tensor3d(rgb, [height, width, 3], "int32");
}

function nchwToRgba(image: Float32Array, size: number): Uint8Array {
  const rgba = new Uint8Array(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round(image[c * size * size + i] * 255);
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

if (import.meta.main) {
  const SIZE = 256;
  const ref = await loadFaceApiReference();
  await loadNet(ref, ref.faceapi.nets.ssdMobilenetv1, "ssd_mobilenetv1_model");
  await loadNet(ref, ref.faceapi.nets.faceLandmark68Net, "face_landmark_68_model");
  const demo = join(faceApiPackageDir(), "demo");
  const mapped: FaceBox[] = [];
  const aligned: { image: Float32Array; box?: FaceBox; descriptor?: Float32Array }[] = [];
  const f = (v: number) => v.toFixed(3);
  for (const entry of [...Deno.readDirSync(demo)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!/^sample\d+\.jpg$/.test(entry.name)) continue;
    const photo = await Image.decode(await Deno.readFile(join(demo, entry.name)));
    const tensor = toTensor(ref, photo.bitmap, photo.width, photo.height);
    const faces = await detect(ref, tensor, false, 0.5);
    tensor.dispose();
    console.log(`${entry.name}: ${faces.length} faces`);
    for (const face of faces) {
      const square = celebaHqSquare(face.landmarks.positions);
      const box = alignedBox(face.landmarks.positions, square);
      mapped.push(box);
      const image = cutAligned(photo.bitmap, photo.width, photo.height, square, SIZE);
      const alignedTensor = toTensor(ref, nchwToRgba(image, SIZE), SIZE, SIZE);
      // The aligned face is known to be there (often upsampled from a small one): a low threshold.
      const again = await detect(ref, alignedTensor, true, 0.2);
      alignedTensor.dispose();
      const best = again.sort((a, b) => b.alignedRect.box.area - a.alignedRect.box.area)[0];
      const pipelineBox = best ? minBboxPadded(best.landmarks.positions) : undefined;
      if (pipelineBox) {
        for (const k of ["x", "width"] as const) pipelineBox[k] /= SIZE;
        for (const k of ["y", "height"] as const) pipelineBox[k] /= SIZE;
      }
      aligned.push({ image, box: pipelineBox, descriptor: best?.descriptor });
      console.log(
        `  mapped box centre ${f(box.x + box.width / 2)},${f(box.y + box.height / 2)} size ` +
          `${f(box.width)}×${f(box.height)}` +
          (pipelineBox
            ? `; face-api on the aligned face: centre ${
              f(pipelineBox.x + pipelineBox.width / 2)
            },` +
              `${f(pipelineBox.y + pipelineBox.height / 2)} size ${f(pipelineBox.width)}×` +
              f(pipelineBox.height)
            : "; face-api finds no face in the aligned image"),
      );
    }
  }
  const spread = (name: string, v: number[]) =>
    console.log(
      `${name}: median ${f(median(v))}, range ${f(Math.min(...v))}..${f(Math.max(...v))}`,
    );
  const report = (title: string, boxes: FaceBox[]) => {
    console.log(`${title} (${boxes.length} faces):`);
    spread("  centre x", boxes.map((b) => b.x + b.width / 2));
    spread("  centre y", boxes.map((b) => b.y + b.height / 2));
    spread("  width", boxes.map((b) => b.width));
    spread("  height", boxes.map((b) => b.height));
  };
  report("align box mapped into the CelebA-HQ square", mapped);
  report(
    "align box of face-api's pipeline on the aligned 256×256 faces",
    aligned.flatMap((a) => (a.box ? [a.box] : [])),
  );
  // The alignment centres a frontal face horizontally; the photos' turned heads scatter the
  // centre left and right of it, so the box is kept symmetric.
  const width = median(mapped.map((b) => b.width));
  const height = median(mapped.map((b) => b.height));
  const box = {
    x: 0.5 - width / 2,
    y: median(mapped.map((b) => b.y + b.height / 2)) - height / 2,
    width,
    height,
  };
  console.log(
    `box: { x: ${f(box.x)}, y: ${f(box.y)}, width: ${f(box.width)}, height: ${f(box.height)} }`,
  );

  // How far the fixed box's descriptor lies from face-api's full pipeline on the same image, and,
  // for contrast, the full image's.
  const pairs = aligned.filter((a) => a.descriptor);
  const images = Float32Array.from(pairs.flatMap((a) => [...a.image]));
  const distancesWith = async (crop: FaceBox) => {
    const embedder = await loadFaceEmbedder({ box: crop });
    try {
      const ours = await embedder.embed(images, pairs.length, SIZE);
      return pairs.map((a, i) => descriptorDistance(ours, a.descriptor!, DESCRIPTOR_LENGTH, i, 0));
    } finally {
      await embedder.release();
    }
  };
  const between: number[] = [];
  for (let i = 0; i < pairs.length; i++) {
    for (let j = i + 1; j < pairs.length; j++) {
      between.push(descriptorDistance(pairs[i].descriptor!, pairs[j].descriptor!));
    }
  }
  spread(
    `fixed box vs face-api's full pipeline, same face (${pairs.length})`,
    await distancesWith(box),
  );
  spread(
    `full image vs face-api's full pipeline, same face (${pairs.length})`,
    await distancesWith({ x: 0, y: 0, width: 1, height: 1 }),
  );
  spread(`face-api's full pipeline, different faces (${between.length} pairs)`, between);
}
