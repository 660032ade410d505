import assert from "node:assert/strict";
import { defaultFont } from "./font.ts";
import {
  GRID_THRESHOLD_COLOR,
  type GridCell,
  gridSheet,
  type GridSheetLayout,
  gridSheetLayout,
  renderGridSheet,
} from "./grid_sheet.ts";
import { sheetTitlePx, TITLE_MIN_PX } from "./contact_sheet.ts";
import { colorToBytes, decodePng } from "./png.ts";
import { resizeRgba } from "./resample.ts";

/** A distinct gradient per (row, column), so a cell in the wrong place is caught. */
function cell(row: number, column: number, width: number, height: number): GridCell {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rgba.set(
        [(x * 255) / (width - 1), (row * 71 + y * 3) % 256, (column * 43 + 17) % 256, 255],
        4 * (y * width + x),
      );
    }
  }
  return { rgba, width, height };
}

const COLORS = [[1, 0, 0], [0, 0.5, 1], [0.2, 0.8, 0.4], [0, 0, 0]] as const;
const SEEDS = ["0", "42", "18446744073709551615"];

function input(width: number, height: number) {
  return {
    rows: SEEDS.map((label, r) => ({
      label,
      cells: COLORS.map((_, c) => cell(r, c, width, height)),
    })),
    colors: COLORS,
  };
}

function pixel(img: { width: number; rgba: Uint8Array }, x: number, y: number): number[] {
  const i = 4 * (y * img.width + x);
  return [...img.rgba.subarray(i, i + 3)];
}

Deno.test("grid.png: every cell holds its frame's pixels, every swatch its column's colour", async () => {
  const grid = input(32, 24);
  const png = await gridSheet(grid, { title: "innate × external" });
  const image = await decodePng(png, "grid.png");
  const { layout } = await renderGridSheet(grid, { title: "innate × external" });
  assert.deepEqual([image.width, image.height], [layout.width, layout.height]);
  assert.ok(layout.titleHeight > 0);
  for (const [r, row] of grid.rows.entries()) {
    for (const [c, frame] of row.cells.entries()) {
      const tile = layout.rows[r].cells[c];
      assert.deepEqual([tile.width, tile.height], [32, 24], "frames are shown 1:1");
      for (let y = 0; y < frame.height; y++) {
        for (let x = 0; x < frame.width; x++) {
          const i = 4 * (y * frame.width + x);
          assert.deepEqual(
            pixel(image, tile.x + x, tile.y + y),
            [...frame.rgba.subarray(i, i + 3)],
            `row ${r} column ${c} pixel ${x},${y}`,
          );
        }
      }
    }
  }
  for (const [c, color] of COLORS.entries()) {
    const { swatch } = layout.columns[c];
    const want = colorToBytes(color);
    for (let y = swatch.y; y < swatch.y + swatch.height; y++) {
      for (let x = swatch.x; x < swatch.x + swatch.width; x++) {
        assert.deepEqual(pixel(image, x, y), want, `swatch ${c} at ${x},${y}`);
      }
    }
    // The swatch heads its column and sits above the first row.
    assert.equal(swatch.x, layout.rows[0].cells[c].x + 1);
    assert.ok(swatch.y + swatch.height < layout.rows[0].cells[c].y);
  }
});

Deno.test("grid.png: row labels and hex codes are drawn where the layout puts them", async () => {
  const grid = input(64, 64);
  const { layout, rgba, width } = await renderGridSheet(grid);
  const image = { rgba, width };
  const inkIn = (x0: number, y0: number, w: number, h: number) => {
    let ink = 0;
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0; x < x0 + w; x++) if (pixel(image, x, y)[0] < 160) ink++;
    }
    return ink;
  };
  const labelWidth = layout.rows[0].cells[0].x - layout.gap - layout.labelX;
  for (const [r, row] of layout.rows.entries()) {
    const band = inkIn(layout.labelX, row.labelY - 5, labelWidth, 10);
    assert.ok(band > 10, `row ${r}: the seed label is drawn (${band} dark pixels)`);
  }
  // The longest seed sets the label column: 20 digits are wider than 1.
  const font = await defaultFont();
  const short = gridSheetLayout(["1"], 4, 64, 64, {}, font);
  assert.ok(layout.rows[0].cells[0].x > short.rows[0].cells[0].x);
  for (const [c, column] of layout.columns.entries()) {
    const ink = inkIn(column.swatch.x, column.hexY, layout.tileWidth - 2, layout.captionPx);
    assert.ok(ink > 10, `column ${c}: its hex code is drawn under the swatch`);
  }
  // Nothing but background between the cells.
  const [a, b] = layout.rows[0].cells;
  assert.equal(inkIn(a.x + a.width, a.y, b.x - a.x - a.width, a.height), 0);
});

Deno.test("grid.png: resized cells, sizes from the layout, and bad input refused", async () => {
  const grid = input(64, 64);
  const { layout, rgba, width } = await renderGridSheet(grid, { tileSize: 32 });
  assert.equal(layout.tileWidth, 32);
  const tile = layout.rows[2].cells[3];
  const small = resizeRgba(grid.rows[2].cells[3].rgba, 64, 64, 32, 32);
  assert.deepEqual(
    pixel({ rgba, width }, tile.x + 5, tile.y + 7),
    [...small.subarray(4 * (7 * 32 + 5), 4 * (7 * 32 + 5) + 3)],
  );
  const last = layout.rows.at(-1)!.cells.at(-1)!;
  assert.equal(layout.width, last.x + last.width + layout.gap);
  assert.equal(layout.height, last.y + last.height + layout.gap);

  await assert.rejects(
    renderGridSheet({ rows: [{ label: "1", cells: [cell(0, 0, 4, 4)] }], colors: COLORS }),
    /row 0 \(1\) has 1 cells for 4 colours/,
  );
  await assert.rejects(
    renderGridSheet({
      rows: [{ label: "1", cells: [cell(0, 0, 4, 4), cell(0, 1, 5, 4)] }],
      colors: COLORS.slice(0, 2),
    }),
    /cell 0,1 is 5×4/,
  );
  await assert.rejects(renderGridSheet({ rows: [], colors: [] }), /at least one row/);
  // Deterministic bytes.
  assert.deepEqual(await gridSheet(grid), await gridSheet(grid));
});

/** Rightmost column with ink in the band above the swatches (only the title is drawn there). */
function titleInkRight(img: { width: number; rgba: Uint8Array }, layout: GridSheetLayout) {
  let right = -1;
  for (let y = 0; y < layout.titleHeight + layout.gap; y++) {
    for (let x = 0; x < img.width; x++) if (pixel(img, x, y)[0] < 160) right = Math.max(right, x);
  }
  return right;
}

Deno.test("grid.png: a long title is set smaller to fit; one too long even so widens the picture", async () => {
  const font = await defaultFont();
  const grid = (seeds: number, colors: number, size: number) => ({
    rows: Array.from({ length: seeds }, (_, r) => ({
      label: String(r + 1),
      cells: COLORS.slice(0, colors).map((_, c) => cell(r, c, size, size)),
    })),
    colors: COLORS.slice(0, colors),
  });
  // The demo's grid (3 × 4 frames of 64 px, 324 px wide): 320 px of title at 13 px do not fit
  // between its margins, at 12 px they do.
  const demo = grid(3, 4, 64);
  const demoTitle = "demo_grid  3 seeds × 4 colours  20 steps";
  const shrunk = await renderGridSheet(demo, { title: demoTitle });
  const untitled = (await renderGridSheet(demo)).layout;
  assert.ok(font.measure(demoTitle, sheetTitlePx(64)).width > untitled.width - 2 * untitled.gap);
  assert.ok(shrunk.layout.titlePx < sheetTitlePx(64), `${shrunk.layout.titlePx} px`);
  assert.equal(shrunk.width, untitled.width, "the grid is not widened for a title that fits");
  // A 2 × 3 preview of 32 px frames (156 px wide) with the preview's long heading: too long even
  // at the smallest size, so the picture widens to hold it.
  const preview = grid(2, 3, 32);
  const previewTitle =
    "innate_external  2 seeds × 3 colours  12 steps  PREVIEW (not the paper's 1000)";
  const widened = await renderGridSheet(preview, { title: previewTitle });
  const { gap } = widened.layout;
  assert.equal(widened.layout.titlePx, TITLE_MIN_PX);
  assert.equal(widened.width, gap + font.measure(previewTitle, TITLE_MIN_PX).width + gap);
  assert.ok(widened.width > (await renderGridSheet(preview)).width);
  // In both, the title's ink ends inside the picture, clear of the right margin (cut off, it
  // would run to the last column).
  for (const sheet of [shrunk, widened]) {
    const right = titleInkRight(sheet, sheet.layout);
    assert.ok(right > sheet.width / 2 && right < sheet.width - sheet.layout.gap / 2, `${right}`);
  }
});

Deno.test("grid.png with identity: a number under every cell, a red frame exactly at or over the threshold, the footer", async () => {
  const plain = input(48, 48);
  // Row 1 column 2 is exactly at the threshold (it counts as over), row 2 column 0 is over.
  const toReference = [[0.12, 0.31, 0.45, 0.59], [0.2, 0.4, 0.6, 0.05], [0.93, 0.1, 0.2, null]];
  const footer = ["identity variation: seed 50.0 %, colour 30.0 %, interaction 20.0 %"];
  const grid = { ...plain, identity: { toReference, threshold: 0.6, footer } };
  const withIds = await renderGridSheet(grid, { title: "t" });
  const without = await renderGridSheet(plain, { title: "t" });
  const { layout } = withIds;
  const isRed = (p: number[]) => p.every((v, i) => v === GRID_THRESHOLD_COLOR[i]);
  const count = (
    img: typeof withIds,
    x0: number,
    y0: number,
    w: number,
    h: number,
    f: (p: number[]) => boolean,
  ) => {
    let n = 0;
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0; x < x0 + w; x++) if (f(pixel(img, x, y))) n++;
    }
    return n;
  };
  const dark = (p: number[]) => p[0] < 200 || p[1] < 200 || p[2] < 200;
  for (const [r, row] of layout.rows.entries()) {
    assert.notEqual(row.noteY, null);
    for (const [c, tile] of row.cells.entries()) {
      const value = toReference[r][c];
      // The number's band under the cell: ink where there is a number, none where there is none.
      const ink = count(withIds, tile.x, row.noteY!, tile.width, layout.captionPx, dark);
      if (value === null) assert.equal(ink, 0, `cell ${r},${c} has no number`);
      else assert.ok(ink > 10, `cell ${r},${c}: its number is drawn (${ink} pixels)`);
      // The frame one pixel outside the cell: red all round when over the threshold, else none.
      const ring = count(withIds, tile.x - 1, tile.y - 1, tile.width + 2, 1, isRed) +
        count(withIds, tile.x - 1, tile.y + tile.height, tile.width + 2, 1, isRed);
      const over = value !== null && value >= 0.6;
      assert.equal(ring, over ? 2 * (tile.width + 2) : 0, `cell ${r},${c} frame (${value})`);
      // The number of a cell over the threshold is red too.
      const redInk = count(
        withIds,
        tile.x,
        row.noteY!,
        tile.width,
        layout.captionPx,
        (p) => p[0] > 150 && p[1] < 120 && p[2] < 120,
      );
      assert.equal(redInk > 0, over, `cell ${r},${c} number colour`);
      // The frame's pixels themselves are untouched.
      const plainTile = without.layout.rows[r].cells[c];
      assert.deepEqual(
        pixel(withIds, tile.x + 20, tile.y + 20),
        pixel(without, plainTile.x + 20, plainTile.y + 20),
      );
    }
  }
  assert.equal(without.layout.rows[0].noteY, null);
  assert.deepEqual(without.layout.footerY, []);
  // The footer line is drawn, and widens the picture so that it fits.
  assert.equal(layout.footerY.length, 1);
  assert.ok(count(withIds, layout.labelX, layout.footerY[0], 200, layout.captionPx, dark) > 50);
  assert.ok(layout.width > without.layout.width, "a long footer widens the picture");
  assert.ok(layout.height > without.layout.height);
  // The plain grid has no red anywhere: the frame says "threshold", nothing else.
  assert.equal(count(without, 0, 0, without.width, without.height, isRed), 0);
  await assert.rejects(
    renderGridSheet({ ...grid, identity: { toReference: [[0.1]], threshold: 0.6 } }),
    /row 0 \(0\) has 1 identity numbers for 4 colours/,
  );
});
