/**
 * Grid pictures of multi-seed runs (`grid.png`): one row per seed (the innate factor, labelled
 * with the seed), one column per injected colour (the external factor, headed by a swatch of the
 * colour and its hex code), each cell the frame of that seed and colour. Reading a row shows what
 * the colours do to one face; reading a column, what one colour does to different faces.
 *
 * It shares the contact sheet's canvas, font, swatch and caption conventions.
 * {@link gridSheetLayout} is pure arithmetic, exported so callers and tests can find where each
 * cell, swatch and label landed.
 *
 * @module
 */

import { Canvas, type Rect } from "./canvas.ts";
import {
  drawSheetTitle,
  drawSwatch,
  SHEET_THEMES,
  type SheetTheme,
  sheetTitlePx,
} from "./contact_sheet.ts";
import { defaultFont, type TrueTypeFont } from "./font.ts";
import { colorToHex, encodePng, type RgbaImage } from "./png.ts";
import { resizeRgba } from "./resample.ts";

/** A frame of the grid: opaque RGBA pixels, `width × height × 4` bytes. */
export interface GridCell {
  /** RGBA pixels. */
  rgba: Uint8Array;
  /** Width in pixels (all cells share one size). */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** What a grid shows. */
export interface GridSheetInput {
  /** The rows (seeds), top to bottom: a label and one cell per column. */
  rows: readonly { label: string; cells: readonly GridCell[] }[];
  /** The columns (colours), left to right, components in [0, 1]. */
  colors: readonly (readonly [number, number, number])[];
}

/** Grid appearance. */
export interface GridSheetOptions {
  /** Cell width in pixels; default: the frame width (pixels shown 1:1). */
  tileSize?: number;
  /** Heading above the grid. */
  title?: string;
  /** Word above the row labels; default `seed`. */
  rowHeading?: string;
  /** Light (paper) or dark (screen) background; default light. */
  theme?: SheetTheme;
}

/** Geometry of a grid picture. */
export interface GridSheetLayout {
  /** Picture width in pixels. */
  width: number;
  /** Picture height in pixels. */
  height: number;
  /** Gap between cells and around the grid. */
  gap: number;
  /** Cell width. */
  tileWidth: number;
  /** Cell height (frame aspect ratio kept). */
  tileHeight: number;
  /** Label and hex font size in pixels per em. */
  captionPx: number;
  /** Height of the heading band (0 without a title). */
  titleHeight: number;
  /** Left edge of the row labels (text is left-aligned there). */
  labelX: number;
  /** Per column: its swatch's solid colour area (inside the hairline) and the hex's top row. */
  columns: { swatch: Rect; hexY: number }[];
  /** Per row: the vertical centre of its label, and its cells left to right. */
  rows: { labelY: number; cells: Rect[] }[];
}

/**
 * Computes where everything goes.
 * @param rowLabels the row labels (their widths set the label column)
 * @param columns number of columns
 * @param frameWidth width of every frame
 * @param frameHeight height of every frame
 */
export function gridSheetLayout(
  rowLabels: readonly string[],
  columns: number,
  frameWidth: number,
  frameHeight: number,
  options: GridSheetOptions,
  font: TrueTypeFont,
): GridSheetLayout {
  if (rowLabels.length === 0 || !Number.isInteger(columns) || columns <= 0) {
    throw new RangeError(
      `a grid needs at least one row and one column, got ${rowLabels.length}×${columns}`,
    );
  }
  const tileWidth = options.tileSize ?? frameWidth;
  if (!Number.isInteger(tileWidth) || tileWidth <= 0) {
    throw new RangeError(`grid tileSize must be a positive integer, got ${options.tileSize}`);
  }
  const tileHeight = Math.max(1, Math.round(tileWidth * frameHeight / frameWidth));
  const gap = Math.max(8, Math.round(tileWidth * 0.08));
  const captionPx = Math.min(14, Math.max(9, Math.round(tileWidth * 0.1)));
  const lineHeight = font.measure("0", captionPx).height;
  const captionGap = Math.max(2, Math.round(captionPx * 0.3));
  const swatchHeight = Math.max(10, Math.round(tileWidth * 0.12));
  const heading = options.rowHeading ?? "seed";
  const labelWidth = Math.max(
    ...[heading, ...rowLabels].map((label) => font.measure(label, captionPx).width),
  );
  const titleHeight = options.title
    ? font.measure(options.title, sheetTitlePx(tileWidth)).height + gap
    : 0;

  const labelX = gap;
  const gridX = labelX + labelWidth + gap;
  const headerY = titleHeight + gap;
  const rowsY = headerY + swatchHeight + captionGap + lineHeight + gap;
  const columnX = (c: number) => gridX + c * (tileWidth + gap);
  const cols = Array.from({ length: columns }, (_, c) => ({
    // The swatch's 1-pixel hairline lies outside its colour area, within the swatch band.
    swatch: { x: columnX(c) + 1, y: headerY + 1, width: tileWidth - 2, height: swatchHeight - 2 },
    hexY: headerY + swatchHeight + captionGap,
  }));
  const rows = rowLabels.map((_, r) => {
    const y = rowsY + r * (tileHeight + gap);
    return {
      labelY: y + Math.floor(tileHeight / 2),
      cells: Array.from({ length: columns }, (_, c) => ({
        x: columnX(c),
        y,
        width: tileWidth,
        height: tileHeight,
      })),
    };
  });
  return {
    width: columnX(columns),
    height: rowsY + rowLabels.length * (tileHeight + gap),
    gap,
    tileWidth,
    tileHeight,
    captionPx,
    titleHeight,
    labelX,
    columns: cols,
    rows,
  };
}

/**
 * Draws a grid picture.
 * @throws {RangeError} when a row has another number of cells than there are colours, cells
 *   differ in size, or a pixel buffer has the wrong length
 */
export async function renderGridSheet(
  input: GridSheetInput,
  options: GridSheetOptions = {},
): Promise<RgbaImage & { layout: GridSheetLayout }> {
  const { rows, colors } = input;
  const first = rows[0]?.cells[0];
  if (!first) throw new RangeError("a grid needs at least one row and one column, got none");
  rows.forEach((row, r) => {
    if (row.cells.length !== colors.length) {
      throw new RangeError(
        `grid row ${r} (${row.label}) has ${row.cells.length} cells for ${colors.length} colours`,
      );
    }
    row.cells.forEach((cell, c) => {
      if (cell.width !== first.width || cell.height !== first.height) {
        throw new RangeError(
          `grid cell ${r},${c} is ${cell.width}×${cell.height}, cell 0,0 is ` +
            `${first.width}×${first.height}`,
        );
      }
      if (cell.rgba.length !== cell.width * cell.height * 4) {
        throw new RangeError(
          `grid cell ${r},${c}: rgba has ${cell.rgba.length} bytes, expected ` +
            `${cell.width}×${cell.height}×4`,
        );
      }
    });
  });
  const font = await defaultFont();
  const layout = gridSheetLayout(
    rows.map((row) => row.label),
    colors.length,
    first.width,
    first.height,
    options,
    font,
  );
  const themeName = options.theme ?? "light";
  const theme = SHEET_THEMES[themeName];
  const canvas = new Canvas(layout.width, layout.height, theme.background);
  const px = layout.captionPx;
  if (options.title) drawSheetTitle(canvas, font, options.title, layout, themeName);
  canvas.drawText(
    font,
    options.rowHeading ?? "seed",
    layout.labelX,
    layout.columns[0].hexY,
    px,
    theme.secondary,
  );
  colors.forEach((color, c) => {
    const { swatch, hexY } = layout.columns[c];
    drawSwatch(canvas, swatch, color, themeName);
    canvas.drawText(font, colorToHex(color), swatch.x - 1, hexY, px, theme.secondary);
  });
  rows.forEach((row, r) => {
    const { labelY, cells } = layout.rows[r];
    canvas.drawText(font, row.label, layout.labelX, labelY, px, theme.text, "left", "middle");
    row.cells.forEach((cell, c) => {
      const tile = cells[c];
      canvas.blit(
        resizeRgba(cell.rgba, cell.width, cell.height, tile.width, tile.height),
        tile.width,
        tile.height,
        tile.x,
        tile.y,
      );
    });
  });
  return { width: canvas.width, height: canvas.height, rgba: canvas.rgba, layout };
}

/** A grid picture as PNG bytes (deterministic: same input and options give the same bytes). */
export async function gridSheet(
  input: GridSheetInput,
  options: GridSheetOptions = {},
): Promise<Uint8Array> {
  const sheet = await renderGridSheet(input, options);
  return encodePng(sheet.rgba, sheet.width, sheet.height);
}
