/**
 * The picture written for a failing snapshot frame: reference | new | diff, side by side on a
 * grey background, enlarged (nearest neighbour) so that tiny-model frames are visible.
 *
 * @module
 */

import type { RgbaImage } from "../render/png.ts";
import type { RgbaLike } from "./images.ts";

const GAP = 4;
const BACKGROUND = 128;

/** Panels are enlarged by a whole factor until they are at least this tall. */
export const MIN_PANEL_HEIGHT = 128;

function blit(
  target: Uint8Array,
  targetWidth: number,
  image: RgbaLike,
  left: number,
  scale: number,
): void {
  for (let y = 0; y < image.height * scale; y++) {
    const sy = Math.floor(y / scale);
    for (let x = 0; x < image.width * scale; x++) {
      const s = (sy * image.width + Math.floor(x / scale)) * 4;
      const t = (y * targetWidth + left + x) * 4;
      target[t] = image.rgba[s];
      target[t + 1] = image.rgba[s + 1];
      target[t + 2] = image.rgba[s + 2];
      target[t + 3] = image.rgba[s + 3];
    }
  }
}

/**
 * Lays out `reference | new | diff` left to right. A missing diff (images of different sizes)
 * leaves its panel grey.
 */
export function sideBySide(
  reference: RgbaLike,
  actual: RgbaLike,
  diff: RgbaLike | null,
): RgbaImage {
  const panels = [reference, actual, diff ?? { ...reference, rgba: new Uint8Array(0) }];
  const tallest = Math.max(reference.height, actual.height);
  const scale = Math.max(1, Math.ceil(MIN_PANEL_HEIGHT / tallest));
  const width = panels.reduce((w, p) => w + p.width * scale, 0) + GAP * 2;
  const height = tallest * scale;
  const rgba = new Uint8Array(width * height * 4).fill(BACKGROUND);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  let left = 0;
  for (const panel of panels) {
    if (panel.rgba.length > 0) blit(rgba, width, panel, left, scale);
    left += panel.width * scale + GAP;
  }
  return { width, height, rgba };
}
