/**
 * Grid pictures of multi-seed runs (`grid.png`): one row per seed (the innate factor, labelled
 * with the seed), one column per injected colour (the external factor, headed by a swatch of the
 * colour and its hex code), each cell the frame of that seed and colour. Reading a row shows what
 * the colours do to one face; reading a column, what one colour does to different faces.
 *
 * With identity numbers (a run whose face descriptors are known), every cell gets the distance of
 * its face to its seed's reference face (the same noise without injection) printed under it, cells
 * at or over the "same person" threshold get a red frame and a red number, and footer lines under
 * the grid carry the run-wide numbers (the seed / colour / interaction shares).
 *
 * It shares the contact sheet's canvas, font, swatch and caption conventions.
 * {@link gridSheetLayout} is pure arithmetic, exported so callers and tests can find where each
 * cell, swatch and label landed.
 *
 * @module
 */

import { Canvas, type Rect, type Rgb8 } from "./canvas.ts";
import {
  drawSheetTitle,
  drawSwatch,
  SHEET_THEMES,
  type SheetTheme,
  sheetTitleLayout,
} from "./contact_sheet.ts";
import { defaultFont, type TrueTypeFont } from "./font.ts";
import { IDENTITY_PLOT_STYLE } from "./identity_plot.ts";
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
  /** Identity numbers to print on the grid; none: the grid of pixels only. */
  identity?: GridIdentity;
}

/** The identity numbers of a grid. */
export interface GridIdentity {
  /**
   * `toReference[row][column]`: the cell's distance to its row's reference face (printed under
   * the cell with two decimals); null prints nothing (a frame without a descriptor).
   */
  toReference: readonly (readonly (number | null)[])[];
  /** The "same person" distance: cells at or over it are framed in {@link GRID_THRESHOLD_COLOR}. */
  threshold: number;
  /** Lines printed under the grid (the run-wide numbers), top to bottom. */
  footer?: readonly string[];
}

/**
 * Frame and number colour of a cell at or over the threshold: the identity plot's threshold red
 * (taken from {@link IDENTITY_PLOT_STYLE}), so both pictures say "another person" the same way.
 */
export const GRID_THRESHOLD_COLOR: Rgb8 = IDENTITY_PLOT_STYLE.threshold;

/** Width of the threshold frame drawn around a cell, inside the gap. */
export const GRID_THRESHOLD_BORDER = 2;

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
  /** Font size of the title (0 without one): see `sheetTitleLayout` (contact_sheet.ts). */
  titlePx: number;
  /** Left edge of the row labels (text is left-aligned there). */
  labelX: number;
  /** Per column: its swatch's solid colour area (inside the hairline) and the hex's top row. */
  columns: { swatch: Rect; hexY: number }[];
  /**
   * Per row: the vertical centre of its label, its cells left to right, and the top of the
   * identity numbers under the cells (null without identity numbers).
   */
  rows: { labelY: number; cells: Rect[]; noteY: number | null }[];
  /** Top of each footer line (empty without footer). */
  footerY: number[];
}

/** What goes on a grid besides the cells (it changes the layout). */
export interface GridSheetExtras {
  /** A line of numbers under every row of cells. */
  notes?: boolean;
  /** Footer lines under the grid. */
  footer?: readonly string[];
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
  extras: GridSheetExtras = {},
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
  const labelX = gap;
  const gridX = labelX + labelWidth + gap;
  const columnX = (c: number) => gridX + c * (tileWidth + gap);
  const footer = extras.footer ?? [];
  // A footer wider than the grid widens the picture rather than being cut off.
  const footerWidth = Math.max(0, ...footer.map((line) => font.measure(line, captionPx).width));
  const contentWidth = Math.max(columnX(columns), labelX + footerWidth + gap);
  // The title is set smaller to fit the grid (a multi-seed preview's heading is long), and
  // widens the picture only when it does not fit even so.
  const title = options.title
    ? sheetTitleLayout(font, options.title, tileWidth, gap, contentWidth)
    : { px: 0, height: 0, width: contentWidth };
  const titleHeight = title.height;
  const headerY = titleHeight + gap;
  const rowsY = headerY + swatchHeight + captionGap + lineHeight + gap;
  // The numbers sit in a band of their own under each row, so they never cover the face.
  const noteHeight = extras.notes ? captionGap + lineHeight : 0;
  const rowHeight = tileHeight + noteHeight + gap;
  const cols = Array.from({ length: columns }, (_, c) => ({
    // The swatch's 1-pixel hairline lies outside its colour area, within the swatch band.
    swatch: { x: columnX(c) + 1, y: headerY + 1, width: tileWidth - 2, height: swatchHeight - 2 },
    hexY: headerY + swatchHeight + captionGap,
  }));
  const rows = rowLabels.map((_, r) => {
    const y = rowsY + r * rowHeight;
    return {
      labelY: y + Math.floor(tileHeight / 2),
      noteY: extras.notes ? y + tileHeight + captionGap : null,
      cells: Array.from({ length: columns }, (_, c) => ({
        x: columnX(c),
        y,
        width: tileWidth,
        height: tileHeight,
      })),
    };
  });
  const footerTop = rowsY + rowLabels.length * rowHeight;
  const footerY = footer.map((_, i) => footerTop + i * (lineHeight + captionGap));
  return {
    width: title.width,
    height: footerTop + (footer.length ? footer.length * (lineHeight + captionGap) + gap : 0),
    gap,
    tileWidth,
    tileHeight,
    captionPx,
    titleHeight,
    titlePx: title.px,
    labelX,
    columns: cols,
    rows,
    footerY,
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
  const { rows, colors, identity } = input;
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
    const notes = identity?.toReference[r];
    if (identity && notes?.length !== colors.length) {
      throw new RangeError(
        `grid row ${r} (${row.label}) has ${notes?.length ?? 0} identity numbers for ` +
          `${colors.length} colours`,
      );
    }
  });
  const font = await defaultFont();
  const layout = gridSheetLayout(
    rows.map((row) => row.label),
    colors.length,
    first.width,
    first.height,
    options,
    font,
    { notes: identity !== undefined, footer: identity?.footer },
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
      const value = identity?.toReference[r][c];
      if (value === null || value === undefined) return;
      const over = value >= identity!.threshold;
      if (over) {
        const b = GRID_THRESHOLD_BORDER;
        canvas.strokeRect(
          tile.x - b,
          tile.y - b,
          tile.width + 2 * b,
          tile.height + 2 * b,
          GRID_THRESHOLD_COLOR,
          b,
        );
      }
      canvas.drawText(
        font,
        value.toFixed(2),
        tile.x + tile.width / 2,
        layout.rows[r].noteY!,
        px,
        over ? GRID_THRESHOLD_COLOR : theme.secondary,
        "center",
        "top",
      );
    });
  });
  identity?.footer?.forEach((line, i) => {
    canvas.drawText(font, line, layout.labelX, layout.footerY[i], px, theme.text);
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
