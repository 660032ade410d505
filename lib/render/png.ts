/**
 * Sampler images to pixels and PNG files.
 *
 * Conversion follows diffusers' `numpy_to_pil`: `(x * 255).round()` on float32 values, where
 * numpy rounds halves to even; we also clamp to 0..255 so slightly out-of-range decoder output
 * cannot wrap around. Encoding writes no timestamps or other metadata, so the same pixels always
 * give the same bytes and files can be named by their SHA-256.
 *
 * @module
 */

import { Image } from "imagescript";
import pngCodec from "imagescript/png/node.js";
import { crc32 } from "node:zlib";

/** An opaque 8-bit RGBA raster, row-major, 4 bytes per pixel. */
export interface RgbaImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width × height × 4` bytes. */
  rgba: Uint8Array;
}

/** Raised for a PNG that cannot be decoded; the message names the file and the problem. */
export class PngError extends Error {
  /** @param source file name or label used in the message */
  constructor(source: string, problem: string) {
    super(`${source}: not a valid PNG: ${problem}`);
    this.name = "PngError";
  }
}

/**
 * One float in [0, 1] to a byte exactly as numpy does `(np.float32(x) * 255).round()`, clamped.
 * The product is formed in float32 (a float32 × 255 is exact in float64, so `Math.fround` of it
 * is the correctly rounded float32 product) and halves go to the even neighbour.
 * @throws {RangeError} for NaN, which would otherwise silently become black
 */
export function unitToByte(x: number): number {
  const v = Math.fround(Math.fround(x) * 255);
  if (Number.isNaN(v)) throw new RangeError("cannot convert NaN to a pixel value");
  if (v <= 0) return 0;
  if (v >= 255) return 255;
  const floor = Math.floor(v);
  const frac = v - floor;
  if (frac > 0.5) return floor + 1;
  if (frac < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** An [r, g, b] colour with components in [0, 1] to bytes, via {@link unitToByte}. */
export function colorToBytes(color: readonly [number, number, number]): [number, number, number] {
  return [unitToByte(color[0]), unitToByte(color[1]), unitToByte(color[2])];
}

/** `#RRGGBB` (upper-case hex) of an [r, g, b] colour with components in [0, 1]. */
export function colorToHex(color: readonly [number, number, number]): string {
  return "#" + colorToBytes(color).map((b) => b.toString(16).padStart(2, "0").toUpperCase())
    .join("");
}

/**
 * Extracts image `index` of an NCHW float batch (3 channels, values in [0, 1]) as opaque RGBA.
 * @param images the batch, length N·3·height·width
 * @param index which image of the batch
 * @param width image width
 * @param height image height
 * @throws {RangeError} when the batch is not a whole number of 3×height×width images, the index is
 *   outside it, or a value is NaN (the message gives its position)
 */
export function imageToRgba(
  images: Float32Array,
  index: number,
  width: number,
  height: number,
): Uint8Array {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new RangeError(
      `imageToRgba: width and height must be positive integers, got ${width}×${height}`,
    );
  }
  const plane = width * height;
  const perImage = 3 * plane;
  if (images.length % perImage !== 0) {
    throw new RangeError(
      `imageToRgba: batch length ${images.length} is not a multiple of 3×${height}×${width}`,
    );
  }
  const count = images.length / perImage;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`imageToRgba: index ${index} outside batch of ${count} images`);
  }
  const base = index * perImage;
  const out = new Uint8Array(plane * 4);
  for (let c = 0; c < 3; c++) {
    const channel = base + c * plane;
    for (let i = 0; i < plane; i++) {
      const x = images[channel + i];
      if (Number.isNaN(x)) {
        throw new RangeError(
          `imageToRgba: image ${index} has NaN at channel ${c}, y ${Math.floor(i / width)}, x ${
            i % width
          }`,
        );
      }
      out[4 * i + c] = unitToByte(x);
    }
  }
  for (let i = 0; i < plane; i++) out[4 * i + 3] = 255;
  return out;
}

function checkRaster(rgba: Uint8Array, width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new RangeError(
      `${what}: width and height must be positive integers, got ${width}×${height}`,
    );
  }
  if (rgba.length !== width * height * 4) {
    throw new RangeError(
      `${what}: rgba has ${rgba.length} bytes, expected ${width}×${height}×4 = ${
        width * height * 4
      }`,
    );
  }
}

/**
 * Encodes RGBA pixels as an 8-bit RGBA PNG with no metadata chunks (deterministic bytes).
 * @throws {RangeError} when `rgba` is not `width × height × 4` bytes
 */
export function encodePng(rgba: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  checkRaster(rgba, width, height, "encodePng");
  // imagescript's Image.encode always adds a Creation Time chunk; its codec alone adds none.
  const bytes: Uint8Array = pngCodec.encode(rgba, { width, height, channels: 4, level: 6 });
  return Promise.resolve(bytes);
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/**
 * Largest image decoded (8192², 256 MiB of RGBA): far above any frame or picture of a run, far
 * below what a hostile file could make the decoder allocate.
 */
export const MAX_PNG_PIXELS = 8192 * 8192;

/**
 * Checks the PNG container (signature, chunk bounds, CRCs, IHDR first, IDAT present, IEND last)
 * so damage is reported in words instead of as a decoder's error code.
 */
function validatePng(bytes: Uint8Array, source: string): void {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new PngError(source, "missing PNG signature");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let sawIdat = false;
  let first = true;
  while (true) {
    if (at + 12 > bytes.length) {
      throw new PngError(source, `truncated at byte ${bytes.length} (no IEND chunk)`);
    }
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) {
      throw new PngError(
        source,
        `truncated: chunk ${type} at byte ${at} needs ${length} bytes, file has ${bytes.length}`,
      );
    }
    const crc = view.getUint32(at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) >>> 0 !== crc) {
      throw new PngError(source, `CRC mismatch in chunk ${type} at byte ${at} (corrupt data)`);
    }
    if (first && type !== "IHDR") throw new PngError(source, "first chunk is not IHDR");
    if (first) {
      // A few hundred bytes can claim a 65535² image: refuse before the decoder allocates it.
      const width = view.getUint32(at + 8);
      const height = view.getUint32(at + 12);
      if (width * height > MAX_PNG_PIXELS) {
        throw new PngError(
          source,
          `${width}×${height} pixels, more than the ${MAX_PNG_PIXELS} this project decodes`,
        );
      }
    }
    first = false;
    if (type === "IDAT") sawIdat = true;
    if (type === "IEND") break;
    at += 12 + length;
  }
  if (!sawIdat) throw new PngError(source, "no IDAT (image data) chunk");
}

/**
 * Decodes a PNG (any colour type imagescript supports) to 8-bit RGBA (alpha kept as stored).
 * @param bytes the whole file
 * @param source the file name, used in error messages
 * @throws {PngError} naming `source` for a corrupt or truncated file
 */
export async function decodePng(bytes: Uint8Array, source = "<memory>"): Promise<RgbaImage> {
  validatePng(bytes, source);
  let image: Image;
  try {
    image = await Image.decode(bytes);
  } catch (e) {
    throw new PngError(source, `decoder failed (${e instanceof Error ? e.message : e})`);
  }
  return { width: image.width, height: image.height, rgba: new Uint8Array(image.bitmap) };
}

/** Reads and decodes a PNG file; errors name the file. */
export async function readPng(path: string): Promise<RgbaImage> {
  return decodePng(await Deno.readFile(path), path);
}
