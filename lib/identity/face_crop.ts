/**
 * The preprocessing between a generated image and face-api's recognition net, written to match
 * `@vladmandic/face-api` 1.7.15 on a tensor input step for step, so the whole path can be checked
 * against TensorFlow.js:
 *
 * 1. pixels: the [0, 1] floats become bytes exactly as our PNG frames store them
 *    ({@link unitToByte}), so a descriptor computed while rendering equals one computed later
 *    from the PNG file, and face-api sees the 0..255 integers a decoded image gives it;
 * 2. crop: `extractFaceTensors(image, [box])` — the box clipped at the image borders
 *    (`Box.clipAtImageBorders`, which floors x, y, width and height) and sliced out;
 * 3. `padToSquare(face, true)`: the shorter side zero-padded, `round(diff / 2)` after and the rest
 *    before;
 * 4. `tf.image.resizeBilinear(face, [150, 150], alignCorners = false, halfPixelCenters = false)`
 *    as tfjs-backend-cpu computes it (source coordinate = destination × in/out, float64
 *    arithmetic, float32 result), skipped when the face is already 150×150.
 *
 * Images are NCHW throughout (the layout `sample` returns and the ONNX graph takes).
 *
 * @module
 */

import { unitToByte } from "../render/png.ts";

/** A crop box as fractions of the image side (x, y of the top-left corner; width, height). */
export interface FaceBox {
  /** Left edge, fraction of the width. */
  x: number;
  /** Top edge, fraction of the height. */
  y: number;
  /** Width, fraction of the width. */
  width: number;
  /** Height, fraction of the height. */
  height: number;
}

/** A box in pixels, as face-api's `Box` after `clipAtImageBorders` (integers). */
export interface PixelBox {
  /** Left column. */
  x: number;
  /** Top row. */
  y: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/**
 * face-api's `Box.clipAtImageBorders` of `box` scaled to a `size` × `size` image: the pixel
 * rectangle `extractFaceTensors` slices.
 *
 * @throws {RangeError} when nothing of the box lies inside the image
 */
export function pixelBox(box: FaceBox, size: number): PixelBox {
  const x = box.x * size;
  const y = box.y * size;
  const right = x + box.width * size;
  const bottom = y + box.height * size;
  const clippedX = Math.max(x, 0);
  const clippedY = Math.max(y, 0);
  const width = Math.min(right - clippedX, size - clippedX);
  const height = Math.min(bottom - clippedY, size - clippedY);
  const out = {
    x: Math.floor(clippedX),
    y: Math.floor(clippedY),
    width: Math.floor(width),
    height: Math.floor(height),
  };
  if (!(out.width > 0 && out.height > 0)) {
    throw new RangeError(
      `the face box ${JSON.stringify(box)} leaves no pixels of a ${size}×${size} image`,
    );
  }
  return out;
}

/**
 * Crops, pads to a square and resizes `count` NCHW [0, 1] images of `size` × `size` to
 * `outSize` × `outSize` NCHW float32 RGB values in 0..255, as face-api does (see the module doc).
 *
 * @throws {RangeError} when `images` does not hold `count` RGB images of that size
 */
export function cropFaces(
  images: Float32Array,
  count: number,
  size: number,
  box: FaceBox,
  outSize: number,
): Float32Array {
  const plane = size * size;
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  }
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`size must be a positive integer, got ${size}`);
  }
  if (images.length !== count * 3 * plane) {
    throw new RangeError(
      `images holds ${images.length} floats, expected count × 3 × size × size = ${
        count * 3 * plane
      } (count ${count}, size ${size})`,
    );
  }
  const { x, y, width, height } = pixelBox(box, size);
  // padToSquare(centered): the shorter axis gets round(diff/2) zeros after and the rest before.
  const side = Math.max(width, height);
  const diff = side - Math.min(width, height);
  const before = diff - Math.round(diff * 0.5);
  const padTop = height < width ? before : 0;
  const padLeft = width < height ? before : 0;
  const square = new Float32Array(3 * side * side);
  const out = new Float32Array(count * 3 * outSize * outSize);
  for (let n = 0; n < count; n++) {
    square.fill(0);
    for (let c = 0; c < 3; c++) {
      const src = (n * 3 + c) * plane;
      const dst = c * side * side;
      for (let r = 0; r < height; r++) {
        const srcRow = src + (y + r) * size + x;
        const dstRow = dst + (padTop + r) * side + padLeft;
        for (let q = 0; q < width; q++) square[dstRow + q] = unitToByte(images[srcRow + q]);
      }
    }
    const target = out.subarray(n * 3 * outSize * outSize, (n + 1) * 3 * outSize * outSize);
    if (side === outSize) target.set(square);
    else resizeBilinearChw(square, 3, side, side, outSize, outSize, target);
  }
  return out;
}

/**
 * tfjs-backend-cpu's `resizeBilinear` with `alignCorners = false, halfPixelCenters = false`
 * on a CHW image, written to `out` (C × outHeight × outWidth).
 */
export function resizeBilinearChw(
  image: Float32Array,
  channels: number,
  inHeight: number,
  inWidth: number,
  outHeight: number,
  outWidth: number,
  out: Float32Array,
): void {
  const heightScale = inHeight / outHeight;
  const widthScale = inWidth / outWidth;
  const colFloor = new Int32Array(outWidth);
  const colCeil = new Int32Array(outWidth);
  const colFrac = new Float64Array(outWidth);
  for (let q = 0; q < outWidth; q++) {
    const source = widthScale * q;
    colFloor[q] = Math.max(0, Math.floor(source));
    colFrac[q] = source - colFloor[q];
    colCeil[q] = Math.min(inWidth - 1, Math.ceil(source));
  }
  for (let c = 0; c < channels; c++) {
    const plane = c * inHeight * inWidth;
    for (let r = 0; r < outHeight; r++) {
      const source = heightScale * r;
      const rowFloor = Math.max(0, Math.floor(source));
      const rowFrac = source - rowFloor;
      const rowCeil = Math.min(inHeight - 1, Math.ceil(source));
      const top = plane + rowFloor * inWidth;
      const bottom = plane + rowCeil * inWidth;
      const dst = (c * outHeight + r) * outWidth;
      for (let q = 0; q < outWidth; q++) {
        const topLeft = image[top + colFloor[q]];
        const topRight = image[top + colCeil[q]];
        const bottomLeft = image[bottom + colFloor[q]];
        const bottomRight = image[bottom + colCeil[q]];
        const upper = topLeft + (topRight - topLeft) * colFrac[q];
        const lower = bottomLeft + (bottomRight - bottomLeft) * colFrac[q];
        out[dst + q] = upper + (lower - upper) * rowFrac;
      }
    }
  }
}
