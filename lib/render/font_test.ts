import assert from "node:assert/strict";
import { defaultFont, FontError, type Point, TrueTypeFont } from "./font.ts";

Deno.test("the shipped font maps ASCII and is monospaced", async () => {
  const font = await defaultFont();
  assert.ok(font.unitsPerEm > 0);
  const advances = new Set<number>();
  for (let c = 0x21; c < 0x7f; c++) {
    const g = font.glyphIndex(c);
    assert.notEqual(g, 0, `no glyph for ${String.fromCharCode(c)}`);
    advances.add(font.advance(g));
  }
  assert.equal(advances.size, 1);
  assert.equal(font.glyphIndex(0x10ffff), 0);
  const one = font.measure("#", 12).width;
  assert.equal(font.measure("#FF8000", 12).width, 7 * one);
});

/** Exact area enclosed by TrueType contours: polygon of on-curve points plus parabolic segments. */
function outlineArea(contours: readonly (readonly Point[])[]): number {
  let area = 0;
  for (const c of contours) {
    // Expand implied on-curve midpoints so the contour alternates on/off cleanly.
    const pts: Point[] = [];
    for (let i = 0; i < c.length; i++) {
      const [a, b] = [c[i], c[(i + 1) % c.length]];
      pts.push(a);
      if (!a.on && !b.on) pts.push({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, on: true });
    }
    const start = pts.findIndex((p) => p.on);
    const seq = [...pts.slice(start), ...pts.slice(0, start), pts[start]];
    let prev = seq[0];
    for (let i = 1; i < seq.length; i++) {
      const p = seq[i];
      if (p.on) {
        area += (prev.x * p.y - p.x * prev.y) / 2;
        prev = p;
      } else {
        const q = seq[++i];
        area += (prev.x * q.y - q.x * prev.y) / 2;
        // A quadratic Bézier bulges by 2/3 of its control triangle's signed area.
        area += (2 / 3) * ((p.x - prev.x) * (q.y - prev.y) - (q.x - prev.x) * (p.y - prev.y)) / 2;
        prev = q;
      }
    }
  }
  return Math.abs(area);
}

Deno.test("rasterised ink equals each glyph's exact outline area", async () => {
  const font = await defaultFont();
  const px = 24;
  const scale = px / font.unitsPerEm;
  for (const ch of ["O", "8", "#", "@", "e", "B"]) {
    const glyph = font.glyphIndex(ch.codePointAt(0)!);
    assert.notEqual(glyph, 0, ch);
    const mask = font.rasterize(ch, px);
    assert.ok(mask.coverage.every((c) => c >= 0 && c <= 1));
    const ink = mask.coverage.reduce((s, c) => s + c, 0);
    const expected = outlineArea(font.glyphOutline(glyph)) * scale * scale;
    // Flattening curves into lines loses a sliver; allow 0.5 % plus a quarter pixel.
    assert.ok(
      Math.abs(ink - expected) < 0.005 * expected + 0.25,
      `${ch}: ink ${ink}, area ${expected}`,
    );
  }
  const block = font.rasterize("\u2588", px);
  const middle =
    block.coverage[Math.floor(block.height / 2) * block.width + Math.floor(block.width / 2)];
  assert.equal(middle, 1);
});

Deno.test("text rasterises inside its mask with ink only where glyphs are", async () => {
  const font = await defaultFont();
  const mask = font.rasterize("R G B", 14);
  assert.equal(mask.coverage.length, mask.width * mask.height);
  const cell = (mask.width - 2 * mask.inset) / 5;
  assert.equal(cell, font.measure("R", 14).width);
  const columnInk = (from: number, to: number) => {
    let s = 0;
    for (let y = 0; y < mask.height; y++) {
      for (let x = mask.inset + from; x < mask.inset + to; x++) {
        s += mask.coverage[y * mask.width + x];
      }
    }
    return s;
  };
  assert.ok(columnInk(0, cell) > 10, "ink for R");
  assert.ok(columnInk(cell + 1, 2 * cell - 1) < 0.01, "no ink for the space");
  assert.ok(columnInk(2 * cell, 3 * cell) > 10, "ink for G");
  // Baseline sits between top and bottom; glyph bottoms rest on it.
  assert.ok(mask.baseline > 0 && mask.baseline < mask.height);
  let below = 0;
  for (let y = mask.baseline + 1; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) below += mask.coverage[y * mask.width + x];
  }
  assert.ok(below < 0.5, `capitals have no descenders, got ink ${below} below baseline`);
});

Deno.test("TrueTypeFont rejects non-font bytes with a named error", () => {
  assert.throws(() => new TrueTypeFont(new Uint8Array(4), "x.ttf"), (e) => {
    assert.ok(e instanceof FontError);
    assert.match(e.message, /^x\.ttf: not a usable TrueType font/);
    return true;
  });
  const bytes = new Uint8Array(12);
  assert.throws(() => new TrueTypeFont(bytes, "empty.ttf"), /missing 'head' table/);
});
