/**
 * Plots identity along a run (`identity_plot.png`): per seed, the face-descriptor distance of each
 * frame to the reference face (no injection) and to the previous frame, against the frame's
 * position on the path, with the "same person" threshold as a dashed line and the injected colour
 * of every frame as a strip under the plot. Several seeds (an innate × external grid) give one
 * panel per seed, stacked, on a shared distance axis.
 *
 * The returned geometry maps frames and distances to pixels, so tests can find what was drawn.
 *
 * @module
 */

import { Canvas, type Rect, type Rgb8 } from "./canvas.ts";
import { fitTitlePx } from "./contact_sheet.ts";
import { defaultFont } from "./font.ts";
import { colorToBytes, encodePng, type RgbaImage } from "./png.ts";

/** One frame of a series. */
export interface IdentityPlotPoint {
  /** Injected colour [r, g, b] in [0, 1]. */
  color: readonly [number, number, number];
  /** Distance to the reference face. */
  toReference: number;
  /** Distance to the previous frame (null for the first). */
  toPrevious: number | null;
}

/** What to plot. */
export interface IdentityPlotInput {
  /** One series per seed, frames in path order. */
  series: readonly { seed: string; points: readonly IdentityPlotPoint[] }[];
  /** The "same person" distance (dashed line). */
  threshold: number;
  /** Heading. */
  title?: string;
}

/** Where one panel is. */
export interface IdentityPanelGeometry {
  /** Seed of the panel. */
  seed: string;
  /** The plotting area. */
  frame: Rect;
  /** The colour strip under it. */
  strip: Rect;
  /** x pixel of the i-th frame's centre. */
  x(i: number): number;
  /** y pixel of a distance. */
  y(distance: number): number;
}

/** Colours, exported for tests. */
export const IDENTITY_PLOT_STYLE = {
  toReference: [30, 70, 180] as Rgb8,
  toPrevious: [230, 120, 20] as Rgb8,
  threshold: [200, 30, 30] as Rgb8,
} as const;

const INK: Rgb8 = [40, 40, 40];
const BACKGROUND: Rgb8 = [255, 255, 255];
const PANEL_BACKGROUND: Rgb8 = [248, 248, 248];
const GRID: Rgb8 = [225, 225, 225];
const WIDTH = 1000;
const LEFT = 48;
const RIGHT = 24;
const STRIP = 16;
const LEGEND = 34;

function niceStep(span: number): number {
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/**
 * Draws the plot.
 * @throws {RangeError} when there is nothing to plot or a distance is not finite
 */
export async function renderIdentityPlot(
  input: IdentityPlotInput,
): Promise<RgbaImage & { panels: IdentityPanelGeometry[] }> {
  const series = input.series.filter((s) => s.points.length > 0);
  if (series.length === 0) throw new RangeError("identity plot: no frames to plot");
  for (const s of series) {
    for (const p of s.points) {
      if (
        !Number.isFinite(p.toReference) || (p.toPrevious !== null && !Number.isFinite(p.toPrevious))
      ) {
        throw new RangeError(`identity plot: seed ${s.seed} has a distance that is not finite`);
      }
    }
  }
  const font = await defaultFont();
  const panelHeight = series.length === 1 ? 300 : series.length <= 4 ? 160 : 110;
  const titleHeight = input.title ? 40 : 8;
  const panelGap = 34;
  const height = titleHeight + series.length * (panelHeight + STRIP + panelGap) + LEGEND;
  const canvas = new Canvas(WIDTH, height, BACKGROUND);
  if (input.title) {
    // 17 px, smaller for a long title (the sheets' rule), so that it fits one margin from each side.
    canvas.drawText(font, input.title, 16, 12, fitTitlePx(font, input.title, 17, WIDTH - 32), INK);
  }

  const largest = Math.max(
    input.threshold,
    ...series.flatMap((s) => s.points.flatMap((p) => [p.toReference, p.toPrevious ?? 0])),
  );
  const step = niceStep(largest * 1.08);
  const top = Math.ceil((largest * 1.08) / step) * step;
  const panels: IdentityPanelGeometry[] = [];
  series.forEach((s, k) => {
    const frame = {
      x: LEFT,
      y: titleHeight + k * (panelHeight + STRIP + panelGap) + 8,
      width: WIDTH - LEFT - RIGHT,
      height: panelHeight,
    };
    const n = s.points.length;
    const x = (i: number) => frame.x + ((i + 0.5) * frame.width) / n;
    const y = (d: number) => frame.y + frame.height * (1 - d / top);
    const strip = { x: frame.x, y: frame.y + frame.height + 4, width: frame.width, height: STRIP };
    canvas.fillRect(frame.x, frame.y, frame.width, frame.height, PANEL_BACKGROUND);
    for (let v = 0; v <= top + 1e-9; v += step) {
      const gy = Math.round(y(v));
      canvas.fillRect(frame.x, gy, frame.width, 1, GRID);
      canvas.drawText(
        font,
        v.toFixed(step < 0.1 ? 2 : 1),
        frame.x - 6,
        gy,
        12,
        INK,
        "right",
        "middle",
      );
    }
    canvas.strokeRect(frame.x - 1, frame.y - 1, frame.width + 2, frame.height + 2, [150, 150, 150]);
    if (series.length > 1) {
      canvas.drawText(font, `seed ${s.seed}`, frame.x + 8, frame.y + 6, 13, INK, "left", "top");
    }
    // The threshold first, so the data lines stay on top of it.
    const ty = Math.floor(y(input.threshold)) + 0.5; // a pixel centre: a crisp line
    canvas.strokeDashed(
      frame.x,
      ty,
      frame.x + frame.width,
      ty,
      1.6,
      IDENTITY_PLOT_STYLE.threshold,
      7,
      5,
    );
    const previous = s.points
      .map((p, i) => [i, p.toPrevious] as const)
      .filter((e): e is readonly [number, number] => e[1] !== null)
      .map(([i, d]) => [x(i), y(d)] as const);
    if (previous.length > 0) {
      canvas.strokePolyline(previous, 1.8, previous.map(() => IDENTITY_PLOT_STYLE.toPrevious));
      for (const [px, py] of previous) canvas.fillDisk(px, py, 2.6, IDENTITY_PLOT_STYLE.toPrevious);
    }
    const reference = s.points.map((p, i) => [x(i), y(p.toReference)] as const);
    canvas.strokePolyline(reference, 2.6, reference.map(() => IDENTITY_PLOT_STYLE.toReference));
    for (const [px, py] of reference) canvas.fillDisk(px, py, 3.2, IDENTITY_PLOT_STYLE.toReference);
    // The colour strip: each frame's injected colour over its share of the axis.
    s.points.forEach((p, i) => {
      const x0 = Math.round(frame.x + (i * frame.width) / n);
      const x1 = Math.round(frame.x + ((i + 1) * frame.width) / n);
      canvas.fillRect(x0, strip.y, Math.max(1, x1 - x0), STRIP, colorToBytes(p.color));
    });
    canvas.strokeRect(strip.x - 1, strip.y - 1, strip.width + 2, STRIP + 2, [150, 150, 150]);
    canvas.drawText(font, "frame 0", frame.x, strip.y + STRIP + 3, 11, INK, "left", "top");
    canvas.drawText(
      font,
      String(n - 1),
      frame.x + frame.width,
      strip.y + STRIP + 3,
      11,
      INK,
      "right",
      "top",
    );
    panels.push({ seed: s.seed, frame, strip, x, y });
  });

  const ly = height - LEGEND / 2;
  let lx = LEFT;
  const item = (color: Rgb8, label: string, dashed = false) => {
    if (dashed) canvas.strokeDashed(lx, ly, lx + 26, ly, 1.6, color, 7, 5);
    else canvas.strokeSegment(lx, ly, lx + 26, ly, 2.6, color);
    lx += 34 + canvas.drawText(font, label, lx + 32, ly, 13, INK, "left", "middle").width + 16;
  };
  item(IDENTITY_PLOT_STYLE.toReference, "to the reference (no injection)");
  item(IDENTITY_PLOT_STYLE.toPrevious, "to the previous frame");
  item(IDENTITY_PLOT_STYLE.threshold, `same person < ${input.threshold}`, true);
  canvas.drawText(font, "strip: injected colour", lx, ly, 13, INK, "left", "middle");
  return { width: WIDTH, height, rgba: canvas.rgba, panels };
}

/** The identity plot as PNG bytes (deterministic). */
export async function identityPlot(input: IdentityPlotInput): Promise<Uint8Array> {
  const plot = await renderIdentityPlot(input);
  return encodePng(plot.rgba, plot.width, plot.height);
}
