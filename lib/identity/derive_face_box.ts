/**
 * Where face-api puts its face box on a CelebA-HQ-aligned face: the evidence behind
 * {@link CELEBAHQ_FACE_BOX}. Run with `deno run -A lib/identity/derive_face_box.ts`.
 *
 * No CelebA-HQ image ships with fluidity, but face-api ships photos of real people
 * (`demo/sample*.jpg`). On each face found there, face-api's own pipeline runs in TensorFlow.js
 * (SSD MobileNet v1 detection, then the 68-point landmark net); the landmarks are then mapped
 * into the frame the CelebA-HQ alignment (Karras et al. 2018, `dataset_tool.py create_celebahq`:
 * eye and mouth centres, side = 2·max(2·|eye→eye|, 1.8·|eye→mouth|), centre = eye midpoint +
 * 0.1·eye→mouth) would cut from that photo, and face-api's `FaceLandmarks.align()` box (the
 * landmarks' bounding box padded by 20 %) is computed there, as fractions of the aligned side.
 * The median over faces is the fixed box; the spread is printed beside it.
 *
 * @module
 */

import { Image } from "imagescript";
import { join } from "node:path";
import { faceApiPackageDir } from "./face_api_weights.ts";
import { type FaceApiReference, loadFaceApiReference, loadNet } from "./_tfjs_reference.ts";
import type { FaceBox } from "./face_crop.ts";
import { median } from "../bench/machine.ts";

type Point = { x: number; y: number };

/** Face-api's `alignMinBbox(0.2)` of 68 points, in the CelebA-HQ frame of those points. */
export function celebaHqAlignedBox(points: readonly Point[]): FaceBox {
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
  const bx = -ay;
  const by = ax;
  const c = { x: eyeAvg.x + eyeToMouth.x * 0.1, y: eyeAvg.y + eyeToMouth.y * 0.1 };
  const origin = { x: c.x - ax - bx, y: c.y - ay - by };
  const side = 2 * half;
  // Coordinates in the aligned square, as fractions of its side.
  const aligned = points.map((p) => {
    const dx = p.x - origin.x;
    const dy = p.y - origin.y;
    return { x: (dx * ax + dy * ay) / (half * side), y: (dx * bx + dy * by) / (half * side) };
  });
  const xs = aligned.map((p) => p.x);
  const ys = aligned.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const w = x1 - x0;
  const h = y1 - y0;
  return { x: x0 - 0.1 * w, y: y0 - 0.1 * h, width: 1.2 * w, height: 1.2 * h };
}

async function facesOf(ref: FaceApiReference, file: string): Promise<Point[][]> {
  const image = await Image.decode(await Deno.readFile(file));
  const { width, height } = image;
  const rgb = new Int32Array(width * height * 3);
  const rgba = image.bitmap;
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = rgba[i * 4 + c];
  }
  const tensor = ref.tf.tensor3d(rgb, [height, width, 3], "int32");
  const results = await ref.faceapi
    .detectAllFaces(tensor, new ref.faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }))
    .withFaceLandmarks();
  tensor.dispose();
  return results.map((r: { landmarks: { positions: Point[] } }) =>
    r.landmarks.positions.map((p) => ({ x: p.x, y: p.y }))
  );
}

if (import.meta.main) {
  const ref = await loadFaceApiReference();
  await loadNet(ref, ref.faceapi.nets.ssdMobilenetv1, "ssd_mobilenetv1_model");
  await loadNet(ref, ref.faceapi.nets.faceLandmark68Net, "face_landmark_68_model");
  const demo = join(faceApiPackageDir(), "demo");
  const boxes: FaceBox[] = [];
  for (const entry of [...Deno.readDirSync(demo)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!/^sample\d+\.jpg$/.test(entry.name)) continue;
    const faces = await facesOf(ref, join(demo, entry.name));
    for (const points of faces) {
      const b = celebaHqAlignedBox(points);
      boxes.push(b);
      console.log(
        `  centre ${(b.x + b.width / 2).toFixed(3)},${(b.y + b.height / 2).toFixed(3)} ` +
          `size ${b.width.toFixed(3)}×${b.height.toFixed(3)}`,
      );
    }
    console.log(`${entry.name}: ${faces.length} faces`);
  }
  const f = (v: number) => v.toFixed(3);
  const spread = (name: string, v: number[]) =>
    console.log(
      `${name}: median ${f(median(v))}, range ${f(Math.min(...v))}..${f(Math.max(...v))}`,
    );
  const centreX = boxes.map((b) => b.x + b.width / 2);
  const centreY = boxes.map((b) => b.y + b.height / 2);
  spread("centre x", centreX);
  spread("centre y", centreY);
  spread("width", boxes.map((b) => b.width));
  spread("height", boxes.map((b) => b.height));
  // The alignment centres a frontal face horizontally; the photos' turned heads scatter the
  // centre left and right of it, so the box is kept symmetric.
  const width = median(boxes.map((b) => b.width));
  const height = median(boxes.map((b) => b.height));
  const box = { x: 0.5 - width / 2, y: median(centreY) - height / 2, width, height };
  console.log(
    `box: { x: ${f(box.x)}, y: ${f(box.y)}, width: ${f(box.width)}, height: ${f(box.height)} }`,
  );
  console.log(`faces: ${boxes.length}`);
}
