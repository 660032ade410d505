/**
 * Helpers shared by the browser tests of the report and the viewer: how a screenshot of a shown
 * frame compares with the frame's PNG, and which images of a page do not load.
 *
 * @module
 */

import type { Page, Rect } from "../browser/page.ts";
import { regionBounds } from "../browser/region.ts";
import type { RgbaImage } from "../render/png.ts";

/** How a frame as shown on screen differs from its PNG, channel values 0–255. */
export interface ShownFrameDiff {
  /** Largest per-channel difference over all frame pixels. */
  max: number;
  /** Mean absolute per-channel difference. */
  mean: number;
}

/**
 * Compares `frame` with the screenshot region `rect` that shows it scaled up: each frame pixel
 * is read at the centre of the screen cell it covers, so nearest-neighbour scaling
 * (`image-rendering: pixelated`) gives the frame's pixels back exactly and smoothing only
 * changes the cells' edges, which are not read. Every cell centre of a `rect` inside the shot
 * that is at least the frame's size is a pixel of the shot.
 * @throws {RangeError} when `rect` is empty or not inside the shot ({@link regionBounds}): the
 *   pixels read outside it would be `undefined`, every difference NaN, and `max` would stay 0
 */
export function shownFrameDiff(shot: RgbaImage, rect: Rect, frame: RgbaImage): ShownFrameDiff {
  regionBounds(shot, rect);
  let max = 0, sum = 0;
  for (let y = 0; y < frame.height; y++) {
    const sy = Math.floor(rect.y + (y + 0.5) * rect.height / frame.height);
    for (let x = 0; x < frame.width; x++) {
      const sx = Math.floor(rect.x + (x + 0.5) * rect.width / frame.width);
      const i = (sy * shot.width + sx) * 4, j = (y * frame.width + x) * 4;
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(shot.rgba[i + c] - frame.rgba[j + c]);
        sum += d;
        if (d > max) max = d;
      }
    }
  }
  return { max, mean: sum / (frame.width * frame.height * 3) };
}

/**
 * Loads every `<img>` matching `selector` (scrolling each into view, since the report's table
 * thumbnails are `loading="lazy"`) and returns the `src` of those that did not decode.
 */
export function brokenImages(page: Page, selector: string, timeoutMs = 10_000): Promise<string[]> {
  return page.evaluate<string[]>(`(async () => {
    const broken = [];
    for (const img of document.querySelectorAll(${JSON.stringify(selector)})) {
      img.scrollIntoView({ block: "center" });
      const loaded = await Promise.race([
        img.decode().then(() => true, () => false),
        new Promise((resolve) => setTimeout(() => resolve(false), ${timeoutMs})),
      ]);
      if (!loaded || img.naturalWidth === 0) broken.push(img.getAttribute("src"));
    }
    return broken;
  })()`);
}
