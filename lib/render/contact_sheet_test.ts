import assert from "node:assert/strict";
import {
  type ContactFrame,
  contactSheet,
  contactSheetLayout,
  fitTitlePx,
  renderContactSheet,
  sheetTitlePx,
  TITLE_MIN_PX,
} from "./contact_sheet.ts";
import { defaultFont } from "./font.ts";
import { colorToBytes, decodePng } from "./png.ts";
import { resizeRgba } from "./resample.ts";

/** Colourful gradient frames, each distinct, with a colour of its own. */
function gradientFrames(count: number, width: number, height: number): ContactFrame[] {
  return Array.from({ length: count }, (_, k) => {
    const rgba = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        rgba.set(
          [(x * 255) / (width - 1), (y * 255) / (height - 1), (k * 53) % 256, 255],
          4 * (y * width + x),
        );
      }
    }
    const t = k / Math.max(1, count - 1);
    return { rgba, width, height, color: [t, 1 - t, (k % 3) / 2] as const };
  });
}

function pixelAt(img: { width: number; rgba: Uint8Array }, x: number, y: number): number[] {
  const i = 4 * (y * img.width + x);
  return [...img.rgba.subarray(i, i + 4)];
}

Deno.test("contact sheet size follows the layout arithmetic", async () => {
  const font = await defaultFont();
  const texts = Array.from({ length: 7 }, (_, i) => ({ label: String(i), hex: "#000000" }));
  for (const [columns, tileSize] of [[3, 64], [7, 128], [2, 100]]) {
    const l = contactSheetLayout(7, 64, 48, { columns, tileSize }, font, texts);
    const rows = Math.ceil(7 / columns);
    assert.equal(l.rows, rows);
    assert.equal(l.tileWidth, tileSize);
    assert.equal(l.tileHeight, Math.round(tileSize * 48 / 64));
    assert.equal(l.width, columns * tileSize + (columns + 1) * l.gap);
    // Cells stack at a constant pitch; the last row ends one gap above the bottom edge.
    const pitch = rows > 1 ? l.cells[columns].tile.y - l.cells[0].tile.y : 0;
    const cellHeight = l.height - l.titleHeight - (rows + 1) * l.gap;
    assert.equal(cellHeight % rows, 0);
    if (rows > 1) assert.equal(pitch, cellHeight / rows + l.gap);
    for (const [i, cell] of l.cells.entries()) {
      assert.equal(cell.tile.x, l.gap + (i % columns) * (tileSize + l.gap));
      assert.ok(cell.swatch!.y > cell.tile.y + cell.tile.height, "swatch below its tile");
      assert.ok(cell.captionY! > cell.swatch!.y + cell.swatch!.height, "caption below swatch");
      assert.ok(cell.captionY! + l.captionLines * 10 < l.height);
    }
  }
  const bare = contactSheetLayout(
    4,
    64,
    64,
    { swatch: false, labels: false, columns: 4 },
    font,
    [],
  );
  assert.equal(bare.height, 64 + 2 * bare.gap);
  assert.equal(bare.cells[0].swatch, null);
  assert.equal(bare.cells[0].captionY, null);
});

Deno.test("each tile holds its frame's exact pixels and each swatch its exact colour", async () => {
  const frames = gradientFrames(5, 64, 48);
  const png = await contactSheet(frames, { columns: 3, title: "test sheet" });
  const sheet = await decodePng(png, "sheet.png");
  const { layout } = await renderContactSheet(frames, { columns: 3, title: "test sheet" });
  assert.equal(sheet.width, layout.width);
  assert.equal(sheet.height, layout.height);
  assert.ok(layout.titleHeight > 0);
  frames.forEach((frame, i) => {
    const { tile, swatch } = layout.cells[i];
    for (let y = 0; y < frame.height; y++) {
      for (let x = 0; x < frame.width; x++) {
        const j = 4 * (y * frame.width + x);
        assert.deepEqual(
          pixelAt(sheet, tile.x + x, tile.y + y),
          [...frame.rgba.subarray(j, j + 4)],
          `frame ${i} (${x}, ${y})`,
        );
      }
    }
    const color = [...colorToBytes(frame.color), 255];
    for (let y = swatch!.y; y < swatch!.y + swatch!.height; y++) {
      for (let x = swatch!.x; x < swatch!.x + swatch!.width; x++) {
        assert.deepEqual(pixelAt(sheet, x, y), color, `swatch ${i} (${x}, ${y})`);
      }
    }
    assert.equal(swatch!.width, tile.width - 2);
  });
});

Deno.test("tiles are resized to tileSize: replicated when enlarged, averaged when reduced", async () => {
  const frames = gradientFrames(3, 32, 32);
  for (const tileSize of [64, 20]) {
    const sheet = await renderContactSheet(frames, { tileSize, labels: false });
    const expected = resizeRgba(frames[1].rgba, 32, 32, tileSize, tileSize);
    const { tile } = sheet.layout.cells[1];
    assert.equal(tile.width, tileSize);
    for (let y = 0; y < tileSize; y++) {
      for (let x = 0; x < tileSize; x++) {
        const j = 4 * (y * tileSize + x);
        assert.deepEqual(pixelAt(sheet, tile.x + x, tile.y + y), [...expected.subarray(j, j + 4)]);
      }
    }
  }
  // Replication really is pixel doubling: the 2×2 block at (2, 2) repeats source pixel (1, 1).
  const big = await renderContactSheet(frames, { tileSize: 64, labels: false });
  const { tile } = big.layout.cells[0];
  const src = [...frames[0].rgba.subarray(4 * 33, 4 * 33 + 4)];
  for (const [dx, dy] of [[2, 2], [3, 2], [2, 3], [3, 3]]) {
    assert.deepEqual(pixelAt(big, tile.x + dx, tile.y + dy), src);
  }
});

Deno.test("captions put ink under tiles; without labels the caption band is empty", async () => {
  const frames = gradientFrames(2, 64, 64).map((f, i) => ({ ...f, label: `frame ${i}` }));
  const withText = await renderContactSheet(frames, { labels: true });
  const bg = pixelAt(withText, 0, 0);
  const { captionY, tile } = withText.layout.cells[0];
  let inked = 0;
  for (let y = captionY!; y < withText.height - withText.layout.gap; y++) {
    for (let x = tile.x; x < tile.x + tile.width; x++) {
      if (pixelAt(withText, x, y)[0] < bg[0] - 60) inked++;
    }
  }
  assert.ok(inked > 20, `caption ink pixels: ${inked}`);
  const without = await renderContactSheet(frames, { labels: false });
  assert.ok(without.height < withText.height);
  const last = without.layout.cells[0].swatch!;
  for (let x = 0; x < without.width; x++) {
    for (let y = last.y + last.height + 2; y < without.height; y++) {
      assert.deepEqual(pixelAt(without, x, y), bg);
    }
  }
});

Deno.test("contact sheet PNG bytes are deterministic; dark theme has a dark background", async () => {
  const frames = gradientFrames(4, 16, 16);
  assert.deepEqual(await contactSheet(frames, {}), await contactSheet(frames, {}));
  const dark = await renderContactSheet(frames, { theme: "dark" });
  const [r, g, b] = pixelAt(dark, 0, 0);
  assert.ok(r + g + b < 120);
});

Deno.test("contact sheet rejects empty input and mismatched frames by index", async () => {
  await assert.rejects(() => renderContactSheet([]), /at least one frame/);
  const frames = gradientFrames(3, 16, 16);
  frames[2] = gradientFrames(1, 16, 12)[0];
  await assert.rejects(() => renderContactSheet(frames), /frame 2 is 16×12, frame 0 is 16×16/);
  const bad = gradientFrames(2, 16, 16);
  bad[1] = { ...bad[1], rgba: new Uint8Array(10) };
  await assert.rejects(() => renderContactSheet(bad), /frame 1: rgba has 10 bytes/);
  await assert.rejects(
    () => renderContactSheet(gradientFrames(2, 8, 8), { columns: 0 }),
    /columns must be a positive integer/,
  );
});

Deno.test("fitTitlePx: a long title is set smaller until it fits, down to the smallest size; a short one as asked", async () => {
  const font = await defaultFont();
  const long = "innate_external  8 seeds × 12 colours  50 steps  PREVIEW (not the paper's 1000): " +
    "face-descriptor distance";
  assert.ok(font.measure(long, 17).width > 968);
  const px = fitTitlePx(font, long, 17, 968);
  assert.ok(px < 17 && font.measure(long, px).width <= 968, `${px} px`);
  assert.equal(fitTitlePx(font, "path1  seed 42  20 steps: face-descriptor distance", 17, 968), 17);
  assert.equal(fitTitlePx(font, long, 17, 100), TITLE_MIN_PX, "no smaller than readable");
});

Deno.test("contact sheet: a long title is set smaller or widens the sheet, never cut off", async () => {
  const font = await defaultFont();
  const frames = gradientFrames(3, 32, 32);
  const title = "innate_external  2 seeds × 3 colours  12 steps  PREVIEW (not the paper's 1000)";
  const sheet = await renderContactSheet(frames, { title });
  const { gap, titlePx, titleHeight } = sheet.layout;
  assert.ok(titlePx < sheetTitlePx(32), `${titlePx} px`);
  assert.ok(gap + font.measure(title, titlePx).width + gap <= sheet.width);
  let right = -1;
  for (let y = 0; y < titleHeight; y++) {
    for (let x = 0; x < sheet.width; x++) {
      if (pixelAt(sheet, x, y)[0] < 160) right = Math.max(right, x);
    }
  }
  assert.ok(
    right > sheet.width / 2 && right < sheet.width - gap / 2,
    `title ink up to x = ${right}`,
  );
});
