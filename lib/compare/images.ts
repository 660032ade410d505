/**
 * Pixel comparison of two RGBA images: exact equality, the largest channel difference, PSNR,
 * SSIM (ssim.js) and the pixels that differ visibly (pixelmatch, with its diff picture).
 *
 * @module
 */

import pixelmatch from "pixelmatch";
import ssimModule from "ssim.js";

/** An 8-bit RGBA raster, row-major, 4 bytes per pixel (what `decodePng` returns). */
export interface RgbaLike {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width × height × 4` bytes. */
  rgba: Uint8Array | Uint8ClampedArray;
}

/** Options of {@link compareImages}. */
export interface CompareImagesOptions {
  /**
   * pixelmatch's `threshold` (0–1): a pixel counts as differing when its YIQ colour distance
   * exceeds `35215 · threshold²`. Default {@link DEFAULT_PIXEL_THRESHOLD}.
   */
  pixelThreshold?: number;
  /** Draw pixelmatch's diff picture into `diffImage`; default true. */
  diffImage?: boolean;
}

/**
 * Default pixelmatch threshold, 0.01: the YIQ distance limit is then 3.52, that of a grey change
 * of 2.6 levels, so rounding noise of ±1–2 levels (what float32 pipelines on other thread counts
 * or batch sizes produce) is never counted while a 3-level grey change is. pixelmatch's own
 * default (0.1) is meant for screenshots and would let a 26-level change pass.
 */
export const DEFAULT_PIXEL_THRESHOLD = 0.01;

/** Comparison of two images of the same size. */
export interface SameSizeComparison {
  /** The images have equal width and height. */
  sameSize: true;
  /** Width of both images. */
  width: number;
  /** Height of both images. */
  height: number;
  /** Every byte (R, G, B and A) is equal. */
  identical: boolean;
  /** Largest absolute difference of any R, G, B or A value, 0–255. */
  maxAbsDiff: number;
  /** Peak signal-to-noise ratio over R, G, B in dB; `Infinity` for identical images. */
  psnr: number;
  /**
   * Mean SSIM of the luma (ssim.js defaults; the window shrinks to the image for images under
   * 11 pixels); 1 for identical images.
   */
  ssim: number;
  /** Pixels pixelmatch counts as differing at `pixelThreshold`. */
  differingPixels: number;
  /** `differingPixels` / pixel count, 0–1. */
  differingShare: number;
  /** pixelmatch's diff picture (RGBA, same size; differing pixels red), if requested. */
  diffImage: Uint8Array | null;
}

/** Result for images whose sizes differ: nothing else can be compared. */
export interface SizeMismatch {
  /** The images differ in width or height. */
  sameSize: false;
  /** Never identical. */
  identical: false;
  /** Width and height of the first image. */
  sizeA: { width: number; height: number };
  /** Width and height of the second image. */
  sizeB: { width: number; height: number };
  /** `size differs: 32×32 vs 64×64`. */
  message: string;
}

/** What {@link compareImages} returns. */
export type ImageComparison = SameSizeComparison | SizeMismatch;

function checkRaster(image: RgbaLike, name: string): void {
  const { width, height, rgba } = image;
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new RangeError(
      `${name}: width and height must be positive integers, got ${width}×${height}`,
    );
  }
  if (rgba.length !== width * height * 4) {
    throw new RangeError(
      `${name}: ${rgba.length} bytes of RGBA for ${width}×${height} (expected ${
        width * height * 4
      })`,
    );
  }
}

/** pixelmatch views the bytes as 32-bit words, which needs a 4-byte aligned offset. */
function aligned(rgba: Uint8Array | Uint8ClampedArray): Uint8Array {
  const bytes = new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
}

/**
 * Compares two RGBA images.
 *
 * Sizes that differ give a {@link SizeMismatch}, not an exception, so a caller comparing many
 * frames can report it like any other difference.
 *
 * @throws {RangeError} when an image's byte length does not match its width and height
 */
export function compareImages(
  a: RgbaLike,
  b: RgbaLike,
  options: CompareImagesOptions = {},
): ImageComparison {
  checkRaster(a, "image A");
  checkRaster(b, "image B");
  if (a.width !== b.width || a.height !== b.height) {
    return {
      sameSize: false,
      identical: false,
      sizeA: { width: a.width, height: a.height },
      sizeB: { width: b.width, height: b.height },
      message: `size differs: ${a.width}×${a.height} vs ${b.width}×${b.height}`,
    };
  }
  const threshold = options.pixelThreshold ?? DEFAULT_PIXEL_THRESHOLD;
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new RangeError(`pixelThreshold must be in [0, 1], got ${threshold}`);
  }
  const { width, height } = a;
  const pa = aligned(a.rgba);
  const pb = aligned(b.rgba);

  let maxAbsDiff = 0;
  let squares = 0;
  for (let i = 0; i < pa.length; i += 4) {
    for (let c = 0; c < 4; c++) {
      const d = pa[i + c] - pb[i + c];
      const abs = d < 0 ? -d : d;
      if (abs > maxAbsDiff) maxAbsDiff = abs;
      // Alpha is constant in our frames and would only dilute the error.
      if (c < 3) squares += d * d;
    }
  }
  const identical = maxAbsDiff === 0;
  const mse = squares / (width * height * 3);
  const psnr = identical ? Infinity : 10 * Math.log10((255 * 255) / mse);

  const diffImage = options.diffImage === false ? null : new Uint8Array(pa.length);
  // includeAA: anti-aliasing detection is for rendered vector graphics; in a face every
  // differing pixel is a real difference.
  const differingPixels = pixelmatch(pa, pb, diffImage ?? undefined, width, height, {
    threshold,
    includeAA: true,
  });

  // ssim.js silently returns 1 for images smaller than its 11×11 window, so shrink the window.
  const ssim = identical ? 1 : ssimModule.ssim(
    { data: new Uint8ClampedArray(pa.buffer, pa.byteOffset, pa.length), width, height },
    { data: new Uint8ClampedArray(pb.buffer, pb.byteOffset, pb.length), width, height },
    { windowSize: Math.min(11, width, height) },
  ).mssim;

  return {
    sameSize: true,
    width,
    height,
    identical,
    maxAbsDiff,
    psnr,
    ssim,
    differingPixels,
    differingShare: differingPixels / (width * height),
    diffImage,
  };
}
