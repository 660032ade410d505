/**
 * An opaque RGBA drawing surface with the few antialiased primitives our figures need: filled
 * rectangles, disks, squares, thick line segments, colour-graded polylines and text.
 *
 * Shapes get antialiasing from their exact distance field: a pixel whose centre lies more than
 * half a pixel inside a shape is painted with exactly the shape's colour (so tests can check
 * pixel values), and the one-pixel fringe is blended by coverage.
 *
 * @module
 */

import type { TextMask, TrueTypeFont } from "./font.ts";

/** An 8-bit [r, g, b] colour. */
export type Rgb8 = readonly [number, number, number];

/** An integer rectangle. */
export interface Rect {
  /** Left column. */
  x: number;
  /** Top row. */
  y: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** Horizontal anchoring of text relative to its x coordinate. */
export type TextAlign = "left" | "center" | "right";

/** Vertical anchoring of text relative to its y coordinate. */
export type TextBaseline = "top" | "middle" | "baseline";

/** An opaque RGBA raster to draw on. */
export class Canvas {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `width × height × 4` bytes, alpha always 255. */
  readonly rgba: Uint8Array;

  /** Creates a canvas filled with `background`. */
  constructor(width: number, height: number, background: Rgb8) {
    if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
      throw new RangeError(`canvas size must be positive integers, got ${width}×${height}`);
    }
    this.width = width;
    this.height = height;
    this.rgba = new Uint8Array(width * height * 4);
    this.fillRect(0, 0, width, height, background);
  }

  /** Paints integer rectangle [x, x+w) × [y, y+h) with `color`, clipped to the canvas. */
  fillRect(x: number, y: number, w: number, h: number, color: Rgb8): void {
    const x0 = Math.max(0, Math.round(x)), x1 = Math.min(this.width, Math.round(x + w));
    const y0 = Math.max(0, Math.round(y)), y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) {
        const i = 4 * (yy * this.width + xx);
        this.rgba[i] = color[0];
        this.rgba[i + 1] = color[1];
        this.rgba[i + 2] = color[2];
        this.rgba[i + 3] = 255;
      }
    }
  }

  /** Draws a `thickness`-pixel frame just inside integer rectangle [x, x+w) × [y, y+h). */
  strokeRect(x: number, y: number, w: number, h: number, color: Rgb8, thickness = 1): void {
    this.fillRect(x, y, w, thickness, color);
    this.fillRect(x, y + h - thickness, w, thickness, color);
    this.fillRect(x, y, thickness, h, color);
    this.fillRect(x + w - thickness, y, thickness, h, color);
  }

  /** Copies an RGBA raster to integer position (x, y), ignoring its alpha, clipped. */
  blit(rgba: Uint8Array, w: number, h: number, x: number, y: number): void {
    if (rgba.length !== w * h * 4) {
      throw new RangeError(`blit: rgba has ${rgba.length} bytes, expected ${w}×${h}×4`);
    }
    for (let row = 0; row < h; row++) {
      const yy = y + row;
      if (yy < 0 || yy >= this.height) continue;
      const from = Math.max(0, -x), to = Math.min(w, this.width - x);
      if (to <= from) continue;
      const src = rgba.subarray(4 * (row * w + from), 4 * (row * w + to));
      this.rgba.set(src, 4 * (yy * this.width + x + from));
    }
    // Frames may carry alpha < 255; the canvas is opaque by definition.
    for (let row = Math.max(0, y); row < Math.min(this.height, y + h); row++) {
      for (let xx = Math.max(0, x); xx < Math.min(this.width, x + w); xx++) {
        this.rgba[4 * (row * this.width + xx) + 3] = 255;
      }
    }
  }

  /** Blends `color` over pixel (x, y) with opacity `alpha` in [0, 1]; alpha 1 writes it exactly. */
  blend(x: number, y: number, color: Rgb8, alpha: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || !(alpha > 0)) return;
    const i = 4 * (y * this.width + x);
    if (alpha >= 1) {
      this.rgba[i] = color[0];
      this.rgba[i + 1] = color[1];
      this.rgba[i + 2] = color[2];
      return;
    }
    const keep = 1 - alpha;
    this.rgba[i] = Math.round(this.rgba[i] * keep + color[0] * alpha);
    this.rgba[i + 1] = Math.round(this.rgba[i + 1] * keep + color[1] * alpha);
    this.rgba[i + 2] = Math.round(this.rgba[i + 2] * keep + color[2] * alpha);
  }

  /** The colour at pixel (x, y). */
  pixel(x: number, y: number): [number, number, number] {
    const i = 4 * (y * this.width + x);
    return [this.rgba[i], this.rgba[i + 1], this.rgba[i + 2]];
  }

  /** Antialiased filled disk centred at (cx, cy) in pixel coordinates (pixel centres at +0.5). */
  fillDisk(cx: number, cy: number, radius: number, color: Rgb8): void {
    this.#fillShape(cx, cy, radius, color, (dx, dy) => Math.hypot(dx, dy) - radius);
  }

  /** Antialiased axis-aligned filled square of half side `half` centred at (cx, cy). */
  fillSquare(cx: number, cy: number, half: number, color: Rgb8): void {
    this.#fillShape(cx, cy, half, color, (dx, dy) => Math.max(Math.abs(dx), Math.abs(dy)) - half);
  }

  /** Antialiased diamond (square rotated 45°) with centre-to-vertex distance `radius`. */
  fillDiamond(cx: number, cy: number, radius: number, color: Rgb8): void {
    this.#fillShape(
      cx,
      cy,
      radius,
      color,
      (dx, dy) => (Math.abs(dx) + Math.abs(dy) - radius) / Math.SQRT2,
    );
  }

  /** Shared loop: `signedDistance` < 0 inside; coverage = clamp(0.5 − distance). */
  #fillShape(
    cx: number,
    cy: number,
    extent: number,
    color: Rgb8,
    signedDistance: (dx: number, dy: number) => number,
  ): void {
    const x0 = Math.floor(cx - extent - 1), x1 = Math.ceil(cx + extent + 1);
    const y0 = Math.floor(cy - extent - 1), y1 = Math.ceil(cy + extent + 1);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const cover = 0.5 - signedDistance(x + 0.5 - cx, y + 0.5 - cy);
        this.blend(x, y, color, Math.min(1, cover));
      }
    }
  }

  /**
   * Antialiased thick segment with round caps, its colour graded linearly from `color0` at
   * (x0, y0) to `color1` at (x1, y1).
   */
  strokeSegment(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    width: number,
    color0: Rgb8,
    color1: Rgb8 = color0,
  ): void {
    const layer = new StrokeLayer(this.width, this.height);
    layer.segment(x0, y0, x1, y1, width / 2, color0, color1);
    layer.compositeOnto(this);
  }

  /** A dashed segment: `dash` pixels drawn, `gap` pixels skipped, along its length. */
  strokeDashed(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    width: number,
    color: Rgb8,
    dash = 5,
    gap = 4,
  ): void {
    const length = Math.hypot(x1 - x0, y1 - y0);
    const layer = new StrokeLayer(this.width, this.height);
    for (let s = 0; s < length; s += dash + gap) {
      const a = s / length, b = Math.min(1, (s + dash) / length);
      layer.segment(
        x0 + (x1 - x0) * a,
        y0 + (y1 - y0) * a,
        x0 + (x1 - x0) * b,
        y0 + (y1 - y0) * b,
        width / 2,
        color,
        color,
      );
    }
    layer.compositeOnto(this);
  }

  /**
   * A polyline whose colour follows `colors` (one per vertex, interpolated along each segment),
   * drawn as one stroke so joints show no seams or double-blended fringes.
   */
  strokePolyline(
    points: readonly (readonly [number, number])[],
    width: number,
    colors: readonly Rgb8[],
  ): void {
    if (colors.length !== points.length) {
      throw new RangeError(`strokePolyline: ${points.length} points but ${colors.length} colours`);
    }
    const layer = new StrokeLayer(this.width, this.height);
    if (points.length === 1) {
      layer.segment(
        points[0][0],
        points[0][1],
        points[0][0],
        points[0][1],
        width / 2,
        colors[0],
        colors[0],
      );
    }
    for (let i = 1; i < points.length; i++) {
      const [a, b] = [points[i - 1], points[i]];
      layer.segment(a[0], a[1], b[0], b[1], width / 2, colors[i - 1], colors[i]);
    }
    layer.compositeOnto(this);
  }

  /** Blends a text coverage mask in `color` with its top-left corner at integer (x, y). */
  drawMask(mask: TextMask, x: number, y: number, color: Rgb8): void {
    for (let row = 0; row < mask.height; row++) {
      for (let col = 0; col < mask.width; col++) {
        this.blend(x + col, y + row, color, mask.coverage[row * mask.width + col]);
      }
    }
  }

  /**
   * Draws one line of text at `px` pixels per em, anchored at (x, y) as `align`/`baseline` say.
   * Positions are rounded to whole pixels so glyph stems stay sharp.
   * @returns the drawn box, for layout
   */
  drawText(
    font: TrueTypeFont,
    text: string,
    x: number,
    y: number,
    px: number,
    color: Rgb8,
    align: TextAlign = "left",
    baseline: TextBaseline = "top",
  ): { x: number; y: number; width: number; height: number } {
    const mask = font.rasterize(text, px);
    const advance = mask.width - 2 * mask.inset;
    const left = Math.round(
      align === "left" ? x : align === "center" ? x - advance / 2 : x - advance,
    );
    const top = Math.round(
      baseline === "top" ? y : baseline === "middle" ? y - mask.height / 2 : y - mask.baseline,
    );
    this.drawMask(mask, left - mask.inset, top, color);
    return { x: left, y: top, width: advance, height: mask.height };
  }
}

/**
 * Coverage-and-colour buffer for strokes: each pixel keeps the highest coverage any segment gave
 * it, with that segment's colour, and the whole stroke is blended once at the end.
 */
class StrokeLayer {
  readonly #width: number;
  readonly #height: number;
  readonly #cover: Float32Array;
  readonly #color: Uint8Array;
  #minX = Infinity;
  #minY = Infinity;
  #maxX = -Infinity;
  #maxY = -Infinity;

  constructor(width: number, height: number) {
    this.#width = width;
    this.#height = height;
    this.#cover = new Float32Array(width * height);
    this.#color = new Uint8Array(width * height * 3);
  }

  segment(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    halfWidth: number,
    c0: Rgb8,
    c1: Rgb8,
  ): void {
    const dx = x1 - x0, dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    const reach = halfWidth + 1;
    const bx0 = Math.max(0, Math.floor(Math.min(x0, x1) - reach));
    const bx1 = Math.min(this.#width - 1, Math.ceil(Math.max(x0, x1) + reach));
    const by0 = Math.max(0, Math.floor(Math.min(y0, y1) - reach));
    const by1 = Math.min(this.#height - 1, Math.ceil(Math.max(y0, y1) + reach));
    for (let y = by0; y <= by1; y++) {
      for (let x = bx0; x <= bx1; x++) {
        const px = x + 0.5 - x0, py = y + 0.5 - y0;
        const t = len2 > 0 ? Math.min(1, Math.max(0, (px * dx + py * dy) / len2)) : 0;
        const dist = Math.hypot(px - t * dx, py - t * dy);
        const cover = Math.min(1, halfWidth + 0.5 - dist);
        const i = y * this.#width + x;
        if (cover <= 0 || cover <= this.#cover[i]) continue;
        this.#cover[i] = cover;
        this.#color[3 * i] = Math.round(c0[0] + (c1[0] - c0[0]) * t);
        this.#color[3 * i + 1] = Math.round(c0[1] + (c1[1] - c0[1]) * t);
        this.#color[3 * i + 2] = Math.round(c0[2] + (c1[2] - c0[2]) * t);
        this.#minX = Math.min(this.#minX, x);
        this.#maxX = Math.max(this.#maxX, x);
        this.#minY = Math.min(this.#minY, y);
        this.#maxY = Math.max(this.#maxY, y);
      }
    }
  }

  compositeOnto(canvas: Canvas): void {
    for (let y = this.#minY; y <= this.#maxY; y++) {
      for (let x = this.#minX; x <= this.#maxX; x++) {
        const i = y * this.#width + x;
        const cover = this.#cover[i];
        if (cover <= 0) continue;
        canvas.blend(
          x,
          y,
          [this.#color[3 * i], this.#color[3 * i + 1], this.#color[3 * i + 2]],
          cover,
        );
      }
    }
  }
}
