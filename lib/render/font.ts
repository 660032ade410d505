/**
 * A minimal TrueType reader and antialiased text rasteriser, enough to label figures with a
 * shipped font. imagescript's own `renderText` cannot be used: its wasm glue calls
 * `Deno.core.encode`, which Deno 2 no longer has.
 *
 * Supports `cmap` formats 4 and 12, simple and composite `glyf` outlines, horizontal metrics.
 * No hinting and no kerning: labels use a monospaced font, whose advances we round to whole
 * pixels so every glyph lands on the same sub-pixel phase and looks identical each time.
 *
 * The rasteriser accumulates exact signed area per pixel (the font-rs method), so edges get true
 * coverage rather than supersampled approximations.
 *
 * @module
 */

/** Raised when font bytes cannot be parsed; the message names the font and the problem. */
export class FontError extends Error {
  /** @param source font file name or label */
  constructor(source: string, problem: string) {
    super(`${source}: not a usable TrueType font: ${problem}`);
    this.name = "FontError";
  }
}

/** A line of text rendered to a coverage mask (0 = background, 1 = ink). */
export interface TextMask {
  /** Mask width in pixels: the rounded advances plus `inset` spare columns at each side. */
  width: number;
  /** Columns left of the pen's starting position (room for glyphs that overhang it). */
  inset: number;
  /** Mask height in pixels (ascender to descender). */
  height: number;
  /** Row of the baseline, counted from the top of the mask. */
  baseline: number;
  /** `width × height` coverage values in [0, 1], row-major. */
  coverage: Float32Array;
}

/** An outline point in design units; off-curve points are quadratic control points. */
export interface Point {
  /** Horizontal position. */
  x: number;
  /** Vertical position (up). */
  y: number;
  /** On the curve (true) or a control point (false). */
  on: boolean;
}

/** One parsed TrueType font (`glyf` outlines). */
export class TrueTypeFont {
  /** Design units per em. */
  readonly unitsPerEm: number;
  /** Ascender in design units (positive, above the baseline). */
  readonly ascender: number;
  /** Descender in design units (negative, below the baseline). */
  readonly descender: number;
  readonly #view: DataView;
  readonly #source: string;
  readonly #tables: Map<string, { offset: number; length: number }>;
  readonly #numGlyphs: number;
  readonly #numHMetrics: number;
  readonly #longLoca: boolean;
  readonly #cmap: (codePoint: number) => number;
  readonly #outlines = new Map<number, Point[][]>();

  /**
   * Parses font bytes.
   * @param bytes a whole .ttf file
   * @param source a name for error messages
   * @throws {FontError} when a required table is missing or out of range
   */
  constructor(bytes: Uint8Array, source = "<font>") {
    this.#source = source;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 12) throw new FontError(source, "file shorter than the offset table");
    const numTables = this.#view.getUint16(4);
    this.#tables = new Map();
    for (let i = 0; i < numTables; i++) {
      const rec = 12 + 16 * i;
      if (rec + 16 > bytes.length) throw new FontError(source, "table directory truncated");
      const tag = String.fromCharCode(...bytes.subarray(rec, rec + 4));
      const offset = this.#view.getUint32(rec + 8);
      const length = this.#view.getUint32(rec + 12);
      if (offset + length > bytes.length) {
        throw new FontError(source, `table '${tag}' runs past the end of the file`);
      }
      this.#tables.set(tag, { offset, length });
    }
    const head = this.#table("head");
    this.unitsPerEm = this.#view.getUint16(head + 18);
    this.#longLoca = this.#view.getInt16(head + 50) === 1;
    const hhea = this.#table("hhea");
    this.ascender = this.#view.getInt16(hhea + 4);
    this.descender = this.#view.getInt16(hhea + 6);
    this.#numHMetrics = this.#view.getUint16(hhea + 34);
    this.#numGlyphs = this.#view.getUint16(this.#table("maxp") + 4);
    this.#table("loca");
    this.#table("glyf");
    this.#table("hmtx");
    this.#cmap = this.#parseCmap();
  }

  /** Glyph index for a Unicode code point (0, the .notdef box, when the font lacks it). */
  glyphIndex(codePoint: number): number {
    return this.#cmap(codePoint);
  }

  /** Advance width of a glyph in design units. */
  advance(glyph: number): number {
    const i = Math.min(glyph, this.#numHMetrics - 1);
    return this.#view.getUint16(this.#table("hmtx") + 4 * i);
  }

  /**
   * A glyph's outline in design units (y up): closed contours of on- and off-curve points,
   * quadratic B-splines as TrueType defines them, composites resolved.
   */
  glyphOutline(glyph: number): readonly (readonly Point[])[] {
    return this.#outline(glyph);
  }

  /** Whole-pixel advance of one character at `px` pixels per em (see module note on rounding). */
  #pixelAdvance(glyph: number, px: number): number {
    return Math.max(1, Math.round(this.advance(glyph) * px / this.unitsPerEm));
  }

  /** Size in pixels that {@link rasterize} will produce for `text` at `px` pixels per em. */
  measure(text: string, px: number): { width: number; height: number; baseline: number } {
    let width = 0;
    for (const ch of text) width += this.#pixelAdvance(this.glyphIndex(ch.codePointAt(0)!), px);
    const scale = px / this.unitsPerEm;
    const baseline = Math.ceil(this.ascender * scale);
    const height = baseline + Math.ceil(-this.descender * scale);
    return { width, height, baseline };
  }

  /**
   * Renders one line of text to a coverage mask.
   * @param text the characters to draw (no line breaks)
   * @param px font size in pixels per em
   */
  rasterize(text: string, px: number): TextMask {
    if (!(px > 0)) throw new RangeError(`font size must be positive, got ${px}`);
    const { width: advance, height, baseline } = this.measure(text, px);
    const scale = px / this.unitsPerEm;
    // Spare columns at each side keep glyphs that overhang their advance box (a '#' or a 'j').
    const inset = 2;
    const width = advance + 2 * inset;
    const acc = new Float32Array(width * height + 2);
    let penX = inset;
    for (const ch of text) {
      const glyph = this.glyphIndex(ch.codePointAt(0)!);
      for (const contour of this.#outline(glyph)) {
        accumulateContour(acc, width, height, contour, penX, baseline, scale);
      }
      penX += this.#pixelAdvance(glyph, px);
    }
    const coverage = new Float32Array(width * height);
    // One running sum over the whole buffer (not per row): an edge's area may spill into the
    // first cell of the next row, and each row's contributions sum to zero anyway.
    let sum = 0;
    for (let i = 0; i < coverage.length; i++) {
      sum += acc[i];
      coverage[i] = Math.min(1, Math.abs(sum));
    }
    return { width, inset, height, baseline, coverage };
  }

  #table(tag: string): number {
    const t = this.#tables.get(tag);
    if (!t) throw new FontError(this.#source, `missing '${tag}' table`);
    return t.offset;
  }

  #parseCmap(): (codePoint: number) => number {
    const v = this.#view;
    const cmap = this.#table("cmap");
    const count = v.getUint16(cmap + 2);
    let best: { offset: number; format: number } | null = null;
    for (let i = 0; i < count; i++) {
      const platform = v.getUint16(cmap + 4 + 8 * i);
      const encoding = v.getUint16(cmap + 6 + 8 * i);
      const offset = cmap + v.getUint32(cmap + 8 + 8 * i);
      const format = v.getUint16(offset);
      const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
      if (!unicode || (format !== 4 && format !== 12)) continue;
      if (!best || format === 12) best = { offset, format };
    }
    if (!best) throw new FontError(this.#source, "no Unicode cmap subtable of format 4 or 12");
    const at = best.offset;
    if (best.format === 12) {
      const groups = v.getUint32(at + 12);
      return (c) => {
        for (let g = 0; g < groups; g++) {
          const rec = at + 16 + 12 * g;
          const start = v.getUint32(rec);
          if (c >= start && c <= v.getUint32(rec + 4)) return v.getUint32(rec + 8) + (c - start);
        }
        return 0;
      };
    }
    const segCount = v.getUint16(at + 6) / 2;
    const ends = at + 14;
    const starts = ends + 2 * segCount + 2;
    const deltas = starts + 2 * segCount;
    const rangeOffsets = deltas + 2 * segCount;
    return (c) => {
      if (c > 0xffff) return 0;
      for (let s = 0; s < segCount; s++) {
        if (v.getUint16(ends + 2 * s) < c) continue;
        const start = v.getUint16(starts + 2 * s);
        if (start > c) return 0;
        const delta = v.getUint16(deltas + 2 * s);
        const rangeOffset = v.getUint16(rangeOffsets + 2 * s);
        if (rangeOffset === 0) return (c + delta) & 0xffff;
        const g = v.getUint16(rangeOffsets + 2 * s + rangeOffset + 2 * (c - start));
        return g === 0 ? 0 : (g + delta) & 0xffff;
      }
      return 0;
    };
  }

  #glyphRange(glyph: number): { start: number; end: number } {
    if (glyph >= this.#numGlyphs) return { start: 0, end: 0 };
    const loca = this.#table("loca");
    const v = this.#view;
    const [start, end] = this.#longLoca
      ? [v.getUint32(loca + 4 * glyph), v.getUint32(loca + 4 * glyph + 4)]
      : [2 * v.getUint16(loca + 2 * glyph), 2 * v.getUint16(loca + 2 * glyph + 2)];
    const glyf = this.#table("glyf");
    return { start: glyf + start, end: glyf + end };
  }

  /** Contours of a glyph in design units (y up), composites flattened. */
  #outline(glyph: number, depth = 0): Point[][] {
    const cached = this.#outlines.get(glyph);
    if (cached) return cached;
    const { start, end } = this.#glyphRange(glyph);
    let contours: Point[][] = [];
    if (end > start && depth < 8) {
      const n = this.#view.getInt16(start);
      contours = n >= 0 ? this.#simpleOutline(start, n) : this.#compositeOutline(start, depth);
    }
    this.#outlines.set(glyph, contours);
    return contours;
  }

  #simpleOutline(at: number, numContours: number): Point[][] {
    const v = this.#view;
    const endPts: number[] = [];
    for (let i = 0; i < numContours; i++) endPts.push(v.getUint16(at + 10 + 2 * i));
    const numPoints = numContours === 0 ? 0 : endPts[numContours - 1] + 1;
    let p = at + 10 + 2 * numContours;
    p += 2 + v.getUint16(p); // skip instructions
    const flags = new Uint8Array(numPoints);
    for (let i = 0; i < numPoints;) {
      const f = v.getUint8(p++);
      flags[i++] = f;
      if (f & 8) {
        for (let r = v.getUint8(p++); r > 0 && i < numPoints; r--) flags[i++] = f;
      }
    }
    const xs = new Int32Array(numPoints);
    const ys = new Int32Array(numPoints);
    for (const [coords, shortBit, sameBit] of [[xs, 2, 16], [ys, 4, 32]] as const) {
      let value = 0;
      for (let i = 0; i < numPoints; i++) {
        const f = flags[i];
        if (f & shortBit) {
          const d = v.getUint8(p++);
          value += f & sameBit ? d : -d;
        } else if (!(f & sameBit)) {
          value += v.getInt16(p);
          p += 2;
        }
        coords[i] = value;
      }
    }
    const contours: Point[][] = [];
    let first = 0;
    for (const last of endPts) {
      const contour: Point[] = [];
      for (let i = first; i <= last; i++) {
        contour.push({ x: xs[i], y: ys[i], on: !!(flags[i] & 1) });
      }
      contours.push(contour);
      first = last + 1;
    }
    return contours;
  }

  #compositeOutline(at: number, depth: number): Point[][] {
    const v = this.#view;
    const contours: Point[][] = [];
    let p = at + 10;
    for (let more = true; more;) {
      const flags = v.getUint16(p);
      const component = v.getUint16(p + 2);
      p += 4;
      let dx: number, dy: number;
      if (flags & 1) {
        dx = v.getInt16(p);
        dy = v.getInt16(p + 2);
        p += 4;
      } else {
        dx = v.getInt8(p);
        dy = v.getInt8(p + 1);
        p += 2;
      }
      // Point-matching anchors (ARGS_ARE_XY_VALUES unset) are rare in Latin fonts; ignore them.
      if (!(flags & 2)) dx = dy = 0;
      let [a, b, c, d] = [1, 0, 0, 1];
      const f2dot14 = (o: number) => v.getInt16(o) / 16384;
      if (flags & 8) {
        a = d = f2dot14(p);
        p += 2;
      } else if (flags & 0x40) {
        a = f2dot14(p);
        d = f2dot14(p + 2);
        p += 4;
      } else if (flags & 0x80) {
        [a, b, c, d] = [f2dot14(p), f2dot14(p + 2), f2dot14(p + 4), f2dot14(p + 6)];
        p += 8;
      }
      for (const contour of this.#outline(component, depth + 1)) {
        contours.push(contour.map((q) => ({
          x: a * q.x + c * q.y + dx,
          y: b * q.x + d * q.y + dy,
          on: q.on,
        })));
      }
      more = (flags & 0x20) !== 0;
    }
    return contours;
  }
}

/** Adds one closed quadratic-B-spline contour to the accumulation buffer, in pixel space. */
function accumulateContour(
  acc: Float32Array,
  width: number,
  height: number,
  contour: Point[],
  originX: number,
  baseline: number,
  scale: number,
): void {
  const n = contour.length;
  if (n < 2) return;
  const px = (q: { x: number; y: number }) => originX + q.x * scale;
  const py = (q: { x: number; y: number }) => baseline - q.y * scale;
  const mid = (a: Point, b: Point): Point => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, on: true });
  // Start from an on-curve point; an all-off-curve contour starts at an implied midpoint.
  const s = contour.findIndex((q) => q.on);
  const start = s >= 0 ? contour[s] : mid(contour[0], contour[1]);
  const first = s >= 0 ? s : 0;
  let cur = start;
  let control: Point | null = null;
  const emit = (to: Point) => {
    if (control) {
      quadTo(acc, width, height, px(cur), py(cur), px(control), py(control), px(to), py(to));
    } else {
      lineTo(acc, width, height, px(cur), py(cur), px(to), py(to));
    }
    cur = to;
    control = null;
  };
  for (let k = 1; k <= n; k++) {
    const q = contour[(first + k) % n];
    if (q.on) emit(q);
    else if (control) emit(mid(control, q)), control = q;
    else control = q;
  }
  emit(start);
}

function quadTo(
  acc: Float32Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
): void {
  const ddx = x0 - 2 * x1 + x2;
  const ddy = y0 - 2 * y1 + y2;
  // Segment count from the curve's deviation, so flattening error stays well under a pixel.
  const n = 1 + Math.floor(Math.sqrt(Math.sqrt(100 * (ddx * ddx + ddy * ddy))));
  let px = x0, py = y0;
  for (let i = 1; i <= n; i++) {
    const t = i / n, u = 1 - t;
    const x = u * u * x0 + 2 * u * t * x1 + t * t * x2;
    const y = u * u * y0 + 2 * u * t * y1 + t * t * y2;
    lineTo(acc, width, height, px, py, x, y);
    px = x;
    py = y;
  }
}

/** Signed-area accumulation of one edge (font-rs); a running sum per row then gives coverage. */
function lineTo(
  acc: Float32Array,
  width: number,
  height: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
): void {
  if (ay === by) return;
  const dir = ay < by ? 1 : -1;
  let [x0, y0, x1, y1] = dir > 0 ? [ax, ay, bx, by] : [bx, by, ax, ay];
  const clampX = (x: number) => Math.min(Math.max(x, 0), width - 1e-3);
  x0 = clampX(x0);
  x1 = clampX(x1);
  const dxdy = (x1 - x0) / (y1 - y0);
  let x = x0;
  if (y0 < 0) {
    x -= y0 * dxdy;
    y0 = 0;
  }
  y1 = Math.min(y1, height);
  for (let y = Math.floor(y0); y < y1; y++) {
    const row = y * width;
    const dy = Math.min(y + 1, y1) - Math.max(y, y0);
    const xNext = x + dxdy * dy;
    const d = dy * dir;
    const [xa, xb] = x < xNext ? [x, xNext] : [xNext, x];
    const xaFloor = Math.floor(xa);
    const xaI = xaFloor;
    const xbCeil = Math.ceil(xb);
    const xbI = xbCeil;
    if (xbI <= xaI + 1) {
      const xmf = 0.5 * (x + xNext) - xaFloor;
      acc[row + xaI] += d - d * xmf;
      acc[row + xaI + 1] += d * xmf;
    } else {
      const s = 1 / (xb - xa);
      const xaf = xa - xaFloor;
      const a0 = 0.5 * s * (1 - xaf) * (1 - xaf);
      const xbf = xb - xbCeil + 1;
      const am = 0.5 * s * xbf * xbf;
      acc[row + xaI] += d * a0;
      if (xbI === xaI + 2) {
        acc[row + xaI + 1] += d * (1 - a0 - am);
      } else {
        const a1 = s * (1.5 - xaf);
        acc[row + xaI + 1] += d * (a1 - a0);
        for (let xi = xaI + 2; xi < xbI - 1; xi++) acc[row + xi] += d * s;
        const a2 = a1 + (xbI - xaI - 3) * s;
        acc[row + xbI - 1] += d * (1 - a2 - am);
      }
      acc[row + xbI] += d * am;
    }
    x = xNext;
  }
}

let defaultFontPromise: Promise<TrueTypeFont> | null = null;

/** The shipped label font, DejaVu Sans Mono (see fonts/LICENSE), loaded once. */
export function defaultFont(): Promise<TrueTypeFont> {
  defaultFontPromise ??= (async () => {
    const url = new URL("./fonts/DejaVuSansMono.ttf", import.meta.url);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(url);
    } catch (e) {
      throw new FontError(url.pathname, `cannot read the shipped font (${e})`);
    }
    return new TrueTypeFont(bytes, url.pathname);
  })();
  return defaultFontPromise;
}
