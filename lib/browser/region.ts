/**
 * Inspecting screenshots: decode the PNG and summarise a rectangle of it, so tests can assert
 * "this canvas is not blank" or "this frame shows the colour it recorded" without pixel-exact
 * golden images (fonts and anti-aliasing differ between Chromium builds).
 *
 * @module
 */

import { decodePng, type RgbaImage } from "../render/png.ts";
import type { Rect } from "./page.ts";

/** Decodes a screenshot PNG (the project's imagescript-based decoder). */
export function decodeScreenshot(png: Uint8Array): Promise<RgbaImage> {
  return decodePng(png, "screenshot");
}

/** Options of {@link regionStats}. */
export interface RegionStatsOptions {
  /** The background colour; default the most frequent colour of the region. */
  background?: readonly [number, number, number];
  /** Largest per-channel difference still counted as background; default 8. */
  tolerance?: number;
}

/** Summary of a rectangle of an image. */
export interface RegionStats {
  /** Pixels in the rectangle. */
  pixels: number;
  /** Mean R, G, B (0–255, not rounded). */
  mean: [number, number, number];
  /** Number of distinct RGB colours. */
  distinctColors: number;
  /** The background used: the given one or the most frequent colour. */
  background: [number, number, number];
  /** Fraction (0–1) of pixels differing from the background by more than the tolerance. */
  nonBackgroundFraction: number;
}

/** The whole pixels a rectangle covers: columns `x0` to `x1 - 1`, rows `y0` to `y1 - 1`. */
export interface PixelBounds {
  /** First column. */
  x0: number;
  /** First row. */
  y0: number;
  /** Column after the last. */
  x1: number;
  /** Row after the last. */
  y1: number;
}

/**
 * The pixels of `image` that `rect` (image pixels, edges rounded to the nearest pixel) covers.
 * @throws {RangeError} when the rectangle is empty or not inside the image, so a layout change
 *   that moved an element off-screen fails loudly instead of measuring nothing (reads outside
 *   the pixel array give `undefined`, and comparisons with NaN are all false)
 */
export function regionBounds(image: { width: number; height: number }, rect: Rect): PixelBounds {
  const x0 = Math.round(rect.x), y0 = Math.round(rect.y);
  const x1 = Math.round(rect.x + rect.width), y1 = Math.round(rect.y + rect.height);
  if (!(x0 >= 0 && y0 >= 0 && x1 <= image.width && y1 <= image.height && x1 > x0 && y1 > y0)) {
    throw new RangeError(
      `region ${JSON.stringify(rect)} is empty or outside the ${image.width}×${image.height} image`,
    );
  }
  return { x0, y0, x1, y1 };
}

/**
 * Mean colour, distinct colours and non-background fraction of `rect` (image pixels) of `image`.
 * Alpha is ignored: screenshots are opaque.
 * @throws {RangeError} when the rectangle is empty or not inside the image ({@link regionBounds})
 */
export function regionStats(
  image: RgbaImage,
  rect: Rect,
  options: RegionStatsOptions = {},
): RegionStats {
  const { x0, y0, x1, y1 } = regionBounds(image, rect);
  const counts = new Map<number, number>();
  const sum = [0, 0, 0];
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * image.width + x) * 4;
      const r = image.rgba[i], g = image.rgba[i + 1], b = image.rgba[i + 2];
      sum[0] += r;
      sum[1] += g;
      sum[2] += b;
      const key = (r << 16) | (g << 8) | b;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const pixels = (x1 - x0) * (y1 - y0);
  let background: [number, number, number];
  if (options.background) {
    background = [...options.background];
  } else {
    let best = 0, bestCount = -1;
    for (const [key, count] of counts) {
      if (count > bestCount) [best, bestCount] = [key, count];
    }
    background = [(best >> 16) & 255, (best >> 8) & 255, best & 255];
  }
  const tolerance = options.tolerance ?? 8;
  let foreground = 0;
  for (const [key, count] of counts) {
    const far = Math.abs(((key >> 16) & 255) - background[0]) > tolerance ||
      Math.abs(((key >> 8) & 255) - background[1]) > tolerance ||
      Math.abs((key & 255) - background[2]) > tolerance;
    if (far) foreground += count;
  }
  return {
    pixels,
    mean: [sum[0] / pixels, sum[1] / pixels, sum[2] / pixels],
    distinctColors: counts.size,
    background,
    nonBackgroundFraction: foreground / pixels,
  };
}

/** The largest per-channel difference between two RGB colours (e.g. a mean and an expected). */
export function colorDistance(
  a: readonly [number, number, number],
  b: readonly [number, number, number],
): number {
  return Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
}
