/**
 * Contact sheets: rendered frames in a grid, each with a swatch of the colour that was injected
 * to make it (as in the paper's figures of faces with their colours), and a caption with the
 * frame's label and the colour's hex code.
 *
 * {@link contactSheetLayout} is pure arithmetic, exported so callers and tests can find where
 * each tile and swatch landed.
 *
 * @module
 */

import { Canvas, type Rect, type Rgb8 } from "./canvas.ts";
import { defaultFont, type TrueTypeFont } from "./font.ts";
import { colorToBytes, colorToHex, encodePng, type RgbaImage } from "./png.ts";
import { resizeRgba } from "./resample.ts";

/** One frame of a contact sheet. */
export interface ContactFrame {
  /** Opaque RGBA pixels, `width × height × 4` bytes. */
  rgba: Uint8Array;
  /** Frame width in pixels (all frames of a sheet share one size). */
  width: number;
  /** Frame height in pixels. */
  height: number;
  /** The injected colour, components in [0, 1]. */
  color: readonly [number, number, number];
  /** Caption; defaults to the frame's index. */
  label?: string;
}

/** Contact sheet appearance. */
export interface ContactSheetOptions {
  /** Tiles per row; default: all in one row up to 8 frames, else a roughly 3:2 grid. */
  columns?: number;
  /** Tile width in pixels; default: the frame width (pixels shown 1:1). */
  tileSize?: number;
  /** Draw each frame's colour swatch beneath it; default true. */
  swatch?: boolean;
  /** Caption each tile with its label and hex colour; default true. */
  labels?: boolean;
  /** Heading above the grid. */
  title?: string;
  /** Light (paper) or dark (screen) background; default light. */
  theme?: SheetTheme;
}

/** Where one frame's parts sit on the sheet. */
export interface CellLayout {
  /** The frame's pixels. */
  tile: Rect;
  /** The swatch's solid colour area (inside its hairline frame), or null without swatches. */
  swatch: Rect | null;
  /** Top row of the caption, or null without labels. */
  captionY: number | null;
}

/** Geometry of a whole sheet. */
export interface ContactSheetLayout {
  /** Sheet width in pixels. */
  width: number;
  /** Sheet height in pixels. */
  height: number;
  /** Tiles per row. */
  columns: number;
  /** Number of rows. */
  rows: number;
  /** Gap between cells and around the grid. */
  gap: number;
  /** Tile width. */
  tileWidth: number;
  /** Tile height (frame aspect ratio kept). */
  tileHeight: number;
  /** Caption font size in pixels per em (0 without labels). */
  captionPx: number;
  /** Caption lines per tile: 1 (label and hex side by side) or 2 (stacked), 0 without labels. */
  captionLines: number;
  /** Height of the heading band (0 without a title). */
  titleHeight: number;
  /** Font size of the title (0 without one): see {@link sheetTitleLayout}. */
  titlePx: number;
  /** Per frame, in input order. */
  cells: CellLayout[];
}

/** Light (paper) or dark (screen) colours of the sheets. */
export type SheetTheme = "light" | "dark";

/** Background, text and hairline colours of each theme (shared with the grid picture). */
export const SHEET_THEMES = {
  light: {
    background: [255, 255, 255],
    text: [34, 34, 34],
    secondary: [110, 110, 110],
    hairline: [200, 200, 200],
  },
  dark: {
    background: [22, 22, 24],
    text: [232, 232, 232],
    secondary: [150, 150, 150],
    hairline: [70, 70, 74],
  },
} as const satisfies Record<SheetTheme, Record<string, Rgb8>>;

/** Default column count: one row for a handful of frames, otherwise a landscape grid. */
function defaultColumns(count: number): number {
  return count <= 8 ? Math.max(1, count) : Math.ceil(Math.sqrt(count * 1.5));
}

/**
 * Computes where everything goes. Caption size depends on the font's metrics, so the font is a
 * parameter (the shipped one by default in {@link renderContactSheet}).
 * @param count number of frames
 * @param frameWidth width of every frame
 * @param frameHeight height of every frame
 * @param texts per frame, the caption's label and hex strings (only their lengths matter)
 */
export function contactSheetLayout(
  count: number,
  frameWidth: number,
  frameHeight: number,
  options: ContactSheetOptions,
  font: TrueTypeFont,
  texts: readonly { label: string; hex: string }[],
): ContactSheetLayout {
  if (!Number.isInteger(count) || count <= 0) {
    throw new RangeError(`contact sheet needs at least one frame, got ${count}`);
  }
  const columns = Math.min(count, options.columns ?? defaultColumns(count));
  if (!Number.isInteger(columns) || columns <= 0) {
    throw new RangeError(
      `contact sheet columns must be a positive integer, got ${options.columns}`,
    );
  }
  const tileWidth = options.tileSize ?? frameWidth;
  if (!Number.isInteger(tileWidth) || tileWidth <= 0) {
    throw new RangeError(
      `contact sheet tileSize must be a positive integer, got ${options.tileSize}`,
    );
  }
  const tileHeight = Math.max(1, Math.round(tileWidth * frameHeight / frameWidth));
  const rows = Math.ceil(count / columns);
  const gap = Math.max(8, Math.round(tileWidth * 0.08));
  const swatchOn = options.swatch ?? true;
  const labelsOn = options.labels ?? true;
  const swatchGap = swatchOn ? Math.max(3, Math.round(tileWidth * 0.03)) : 0;
  const swatchHeight = swatchOn ? Math.max(10, Math.round(tileWidth * 0.12)) : 0;

  let captionPx = 0, captionLines = 0, lineHeight = 0, captionGap = 0;
  if (labelsOn) {
    captionPx = Math.min(14, Math.max(9, Math.round(tileWidth * 0.1)));
    lineHeight = font.measure("0", captionPx).height;
    captionGap = Math.max(2, Math.round(captionPx * 0.3));
    const fits = texts.every(({ label, hex }) =>
      font.measure(`${label}  ${hex}`, captionPx).width <= tileWidth
    );
    captionLines = fits ? 1 : 2;
  }
  const cellHeight = tileHeight + swatchGap + swatchHeight + captionGap + captionLines * lineHeight;

  const gridWidth = columns * tileWidth + (columns + 1) * gap;
  const title = options.title
    ? sheetTitleLayout(font, options.title, tileWidth, gap, gridWidth)
    : { px: 0, height: 0, width: gridWidth };
  const titleHeight = title.height;
  const width = title.width;
  const height = titleHeight + rows * cellHeight + (rows + 1) * gap;
  const cells: CellLayout[] = [];
  for (let i = 0; i < count; i++) {
    const x = gap + (i % columns) * (tileWidth + gap);
    const y = titleHeight + gap + Math.floor(i / columns) * (cellHeight + gap);
    const tile = { x, y, width: tileWidth, height: tileHeight };
    // The swatch's 1-pixel hairline lies outside its colour area, within the swatch band.
    const swatch = swatchOn
      ? {
        x: x + 1,
        y: y + tileHeight + swatchGap + 1,
        width: tileWidth - 2,
        height: swatchHeight - 2,
      }
      : null;
    const captionY = labelsOn ? y + tileHeight + swatchGap + swatchHeight + captionGap : null;
    cells.push({ tile, swatch, captionY });
  }
  return {
    width,
    height,
    columns,
    rows,
    gap,
    tileWidth,
    tileHeight,
    captionPx,
    captionLines,
    titleHeight,
    titlePx: title.px,
    cells,
  };
}

/**
 * Draws a sheet's title at the top left, one gap in, at the size its layout fitted (shared with
 * the grid picture).
 */
export function drawSheetTitle(
  canvas: Canvas,
  font: TrueTypeFont,
  title: string,
  layout: { gap: number; titlePx: number },
  theme: SheetTheme,
): void {
  const { gap, titlePx } = layout;
  canvas.drawText(font, title, gap, gap, titlePx, SHEET_THEMES[theme].text);
}

/** Draws a colour swatch: the solid colour area `swatch` inside a 1-pixel hairline frame. */
export function drawSwatch(
  canvas: Canvas,
  swatch: Rect,
  color: readonly [number, number, number],
  theme: SheetTheme,
): void {
  const { x, y, width, height } = swatch;
  canvas.strokeRect(x - 1, y - 1, width + 2, height + 2, SHEET_THEMES[theme].hairline);
  canvas.fillRect(x, y, width, height, colorToBytes(color));
}

/**
 * Font size of a sheet's title for tiles `tileWidth` pixels wide when it fits (shared with the
 * grid); {@link sheetTitleLayout} sets a long one smaller.
 */
export function sheetTitlePx(tileWidth: number): number {
  return Math.min(20, Math.max(13, Math.round(tileWidth * 0.14)));
}

/**
 * Smallest size a picture's title is set in to make it fit: smaller is hard to read, so a sheet
 * or grid widens for its title instead, and a fixed-width plot lets it run on.
 */
export const TITLE_MIN_PX = 11;

/**
 * Font size of a picture's title: `px`, or smaller for a title wider than `maxWidth` (a multi-seed
 * preview's heading names every part of the run), down to {@link TITLE_MIN_PX}. Shared by the
 * sheets, the grid and the plots, which all carry the run's heading.
 */
export function fitTitlePx(
  font: TrueTypeFont,
  title: string,
  px: number,
  maxWidth: number,
): number {
  while (px > TITLE_MIN_PX && font.measure(title, px).width > maxWidth) px--;
  return px;
}

/** A sheet's title as laid out (see {@link sheetTitleLayout}). */
export interface SheetTitleLayout {
  /** Font size in pixels per em. */
  px: number;
  /** Height of the heading band, the gap under it included. */
  height: number;
  /** Width of the picture: `contentWidth`, or wider for a title that does not fit even small. */
  width: number;
}

/**
 * Lays out a sheet's or grid's title, drawn one gap in from the top left of a picture
 * `contentWidth` pixels wide: {@link sheetTitlePx}, set smaller until it fits inside one gap from
 * each side ({@link fitTitlePx}); a title too long even at {@link TITLE_MIN_PX} widens the
 * picture rather than being cut off.
 */
export function sheetTitleLayout(
  font: TrueTypeFont,
  title: string,
  tileWidth: number,
  gap: number,
  contentWidth: number,
): SheetTitleLayout {
  const px = fitTitlePx(font, title, sheetTitlePx(tileWidth), contentWidth - 2 * gap);
  const size = font.measure(title, px);
  return { px, height: size.height + gap, width: Math.max(contentWidth, size.width + 2 * gap) };
}

/** `text`, shortened with an ellipsis if needed to fit `maxWidth` pixels. */
function fitText(font: TrueTypeFont, text: string, px: number, maxWidth: number): string {
  if (font.measure(text, px).width <= maxWidth) return text;
  const chars = [...text];
  while (chars.length > 0 && font.measure(chars.join("") + "…", px).width > maxWidth) chars.pop();
  return chars.join("") + "…";
}

/**
 * Draws a contact sheet.
 * @throws {RangeError} when frames are missing, differ in size, or have bad pixel buffers
 */
export async function renderContactSheet(
  frames: readonly ContactFrame[],
  options: ContactSheetOptions = {},
): Promise<RgbaImage & { layout: ContactSheetLayout }> {
  if (frames.length === 0) throw new RangeError("contact sheet needs at least one frame, got 0");
  const { width: fw, height: fh } = frames[0];
  frames.forEach((f, i) => {
    if (f.width !== fw || f.height !== fh) {
      throw new RangeError(
        `contact sheet frame ${i} is ${f.width}×${f.height}, frame 0 is ${fw}×${fh}`,
      );
    }
    if (f.rgba.length !== f.width * f.height * 4) {
      throw new RangeError(
        `contact sheet frame ${i}: rgba has ${f.rgba.length} bytes, expected ${f.width}×${f.height}×4`,
      );
    }
  });
  const font = await defaultFont();
  const texts = frames.map((f, i) => ({ label: f.label ?? String(i), hex: colorToHex(f.color) }));
  const layout = contactSheetLayout(frames.length, fw, fh, options, font, texts);
  const themeName = options.theme ?? "light";
  const theme = SHEET_THEMES[themeName];
  const canvas = new Canvas(layout.width, layout.height, theme.background);

  if (options.title) drawSheetTitle(canvas, font, options.title, layout, themeName);
  frames.forEach((frame, i) => {
    const { tile, swatch, captionY } = layout.cells[i];
    canvas.blit(
      resizeRgba(frame.rgba, fw, fh, tile.width, tile.height),
      tile.width,
      tile.height,
      tile.x,
      tile.y,
    );
    if (swatch) drawSwatch(canvas, swatch, frame.color, themeName);
    if (captionY !== null) {
      const { hex } = texts[i];
      const labelRoom = layout.captionLines === 1
        ? tile.width - font.measure(`  ${hex}`, layout.captionPx).width
        : tile.width;
      const label = fitText(font, texts[i].label, layout.captionPx, labelRoom);
      canvas.drawText(font, label, tile.x, captionY, layout.captionPx, theme.text);
      if (layout.captionLines === 1) {
        canvas.drawText(
          font,
          hex,
          tile.x + tile.width,
          captionY,
          layout.captionPx,
          theme.secondary,
          "right",
        );
      } else {
        const below = captionY + font.measure("0", layout.captionPx).height;
        canvas.drawText(font, hex, tile.x, below, layout.captionPx, theme.secondary);
      }
    }
  });
  return { width: canvas.width, height: canvas.height, rgba: canvas.rgba, layout };
}

/**
 * A contact sheet as PNG bytes (deterministic: same frames and options give the same bytes).
 * @param frames the frames, all the same size, each with its injected colour
 */
export async function contactSheet(
  frames: readonly ContactFrame[],
  options: ContactSheetOptions = {},
): Promise<Uint8Array> {
  const sheet = await renderContactSheet(frames, options);
  return encodePng(sheet.rgba, sheet.width, sheet.height);
}
