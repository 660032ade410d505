/**
 * Plots a colour path through the RGB cube: the cube in an oblique view (black at the front
 * bottom, white at the back top, B pointing up), the path drawn in its own colours, start and end
 * marked (circle and square), and the sampled frame colours as dots; beside it, the path's
 * projections on the R–G, R–B and G–B planes.
 *
 * The returned geometry maps colours to pixel positions, so callers and tests can find what was
 * drawn where.
 *
 * @module
 */

import { Canvas, type Rect, type Rgb8 } from "./canvas.ts";
import { fitTitlePx } from "./contact_sheet.ts";
import { defaultFont, type TrueTypeFont } from "./font.ts";
import { colorToBytes, encodePng, type RgbaImage } from "./png.ts";

/** An [r, g, b] colour with components in [0, 1]. */
export type Rgb = readonly [number, number, number];

/** What to plot. */
export interface PathPlotInput {
  /** Dense samples along the path (drawn as a line); its first and last are start and end. */
  fine: readonly Rgb[];
  /** The colours at which frames were rendered (drawn as dots). */
  points: readonly { color: Rgb }[];
  /** Heading above the plot. */
  title?: string;
  /** Also draw the three 2-D projections; default true. */
  projections?: boolean;
}

/** Maps a colour to its pixel position (x right, y down; pixel centres at +0.5). */
export type Projector = (color: Rgb) => [number, number];

/** Where things are on a path plot. */
export interface PathPlotGeometry {
  /** The oblique view of the cube. */
  cube: Projector;
  /** The 2-D projections, in order R–G, R–B, G–B (empty when disabled). */
  panels: { axes: readonly [0 | 1 | 2, 0 | 1 | 2]; frame: Rect; project: Projector }[];
  /** The start marker's colour (path's first colour), as drawn. */
  startColor: Rgb8;
  /** The end marker's colour (path's last colour), as drawn. */
  endColor: Rgb8;
}

/** Rendering constants, exported for tests that probe marker shapes. */
export const PATH_PLOT_STYLE = {
  /** Start marker: disk radius (colour) and outline radius (ink). */
  startRadius: 6.5,
  startOutline: 8.5,
  /** End marker: half side of the colour square and of its ink outline. */
  endHalf: 5.5,
  endOutline: 7.5,
  /** Sampled points: colour radius and outline radius. */
  pointRadius: 4,
  pointOutline: 5.5,
  /** Marker sizes in the small 2-D panels, relative to the cube view. */
  panelScale: 0.7,
} as const;

const INK: Rgb8 = [40, 40, 40];
const BACKGROUND: Rgb8 = [255, 255, 255];
const EDGE: Rgb8 = [150, 150, 150];
const HIDDEN_EDGE: Rgb8 = [190, 190, 190];
const PANEL_BACKGROUND: Rgb8 = [248, 248, 248];
const GRID: Rgb8 = [228, 228, 228];
const SHADOW: Rgb8 = [215, 215, 215];
const AXIS_NAMES = ["R", "G", "B"] as const;
const AXIS_INK: readonly Rgb8[] = [[200, 30, 30], [20, 140, 50], [40, 70, 215]];

const CUBE_SIZE = 500;
const PANEL_SIZE = 120;
const PANEL_COLUMN = 190;
const LEGEND_HEIGHT = 30;
const AZIMUTH = (28 * Math.PI) / 180;
const ELEVATION = (22 * Math.PI) / 180;

/** Unscaled oblique projection: screen x, screen y (down) and depth (larger = farther). */
function oblique([r, g, b]: Rgb): [number, number, number] {
  const [x, y, z] = [r - 0.5, g - 0.5, b - 0.5];
  const across = x * Math.cos(AZIMUTH) - y * Math.sin(AZIMUTH);
  const away = x * Math.sin(AZIMUTH) + y * Math.cos(AZIMUTH);
  return [
    across,
    -(z * Math.cos(ELEVATION) + away * Math.sin(ELEVATION)),
    away * Math.cos(ELEVATION) - z * Math.sin(ELEVATION),
  ];
}

const CORNERS: Rgb[] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i & 1, (i >> 1) & 1, (i >> 2) & 1]);

/** Fits the projected cube into a square of side `size` at (left, top), leaving `margin`. */
function cubeProjector(left: number, top: number, size: number, margin: number): Projector {
  const projected = CORNERS.map(oblique);
  const xs = projected.map((p) => p[0]), ys = projected.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [
    Math.min(...xs),
    Math.max(...xs),
    Math.min(...ys),
    Math.max(...ys),
  ];
  const scale = Math.min((size - 2 * margin) / (maxX - minX), (size - 2 * margin) / (maxY - minY));
  const offX = left + size / 2 - scale * (minX + maxX) / 2;
  const offY = top + size / 2 - scale * (minY + maxY) / 2;
  return (color) => {
    const [x, y] = oblique(color);
    return [offX + scale * x, offY + scale * y];
  };
}

function checkColor(color: Rgb, what: string): void {
  if (color.length !== 3 || color.some((c) => !Number.isFinite(c))) {
    throw new RangeError(
      `path plot: ${what} must be three finite numbers, got [${color.join(", ")}]`,
    );
  }
}

/** Text with a thin halo in the background colour, so labels stay legible over lines. */
function drawLabel(
  canvas: Canvas,
  font: TrueTypeFont,
  text: string,
  x: number,
  y: number,
  px: number,
  color: Rgb8,
  align: "left" | "center" | "right" = "left",
  baseline: "top" | "middle" | "baseline" = "middle",
): void {
  for (const [dx, dy] of [[-1, 0], [1, 0], [0, -1], [0, 1], [-1, -1], [1, 1], [-1, 1], [1, -1]]) {
    canvas.drawText(font, text, x + dx, y + dy, px, BACKGROUND, align, baseline);
  }
  canvas.drawText(font, text, x, y, px, color, align, baseline);
}

/** Path line, dots and markers in one projection; `k` scales marker sizes. */
function drawPathLayers(
  canvas: Canvas,
  project: Projector,
  fine: readonly Rgb[],
  points: readonly { color: Rgb }[],
  k: number,
): void {
  const s = PATH_PLOT_STYLE;
  if (fine.length > 0) {
    const xy = fine.map(project);
    const colors = fine.map(colorToBytes);
    canvas.strokePolyline(xy, 5.5 * k, xy.map(() => INK));
    canvas.strokePolyline(xy, 3.2 * k, colors);
  }
  for (const { color } of points) {
    const [x, y] = project(color);
    canvas.fillDisk(x, y, s.pointOutline * k, INK);
    canvas.fillDisk(x, y, s.pointRadius * k, colorToBytes(color));
  }
  const path = fine.length > 0 ? fine : points.map((p) => p.color);
  const [sx, sy] = project(path[0]);
  const [ex, ey] = project(path[path.length - 1]);
  canvas.fillSquare(ex, ey, s.endOutline * k, INK);
  canvas.fillSquare(ex, ey, s.endHalf * k, colorToBytes(path[path.length - 1]));
  canvas.fillDisk(sx, sy, s.startOutline * k, INK);
  canvas.fillDisk(sx, sy, s.startRadius * k, colorToBytes(path[0]));
}

function drawCube(canvas: Canvas, font: TrueTypeFont, project: Projector): void {
  const depth = CORNERS.map((c) => oblique(c)[2]);
  const hidden = depth.indexOf(Math.max(...depth));
  const edges: [number, number][] = [];
  for (let a = 0; a < 8; a++) {
    for (const bit of [1, 2, 4]) if (!(a & bit)) edges.push([a, a | bit]);
  }
  for (const [a, b] of edges) {
    const [[x0, y0], [x1, y1]] = [project(CORNERS[a]), project(CORNERS[b])];
    const isAxis = a === 0;
    if (a === hidden || b === hidden) {
      canvas.strokeDashed(x0, y0, x1, y1, 1.3, HIDDEN_EDGE);
    } else if (isAxis) {
      // The axes from black are graded to their primary, so the cube reads as colour space.
      canvas.strokeSegment(x0, y0, x1, y1, 2.6, colorToBytes(CORNERS[a]), colorToBytes(CORNERS[b]));
    } else {
      canvas.strokeSegment(x0, y0, x1, y1, 1.3, EDGE);
    }
  }
  for (const corner of CORNERS) {
    const [x, y] = project(corner);
    canvas.fillDisk(x, y, 5, [120, 120, 120]);
    canvas.fillDisk(x, y, 4, colorToBytes(corner));
  }
  // Labels sit beyond each axis tip, pushed away from the cube's centre.
  const [ox, oy] = project([0.5, 0.5, 0.5]);
  for (let axis = 0; axis < 3; axis++) {
    const tip: [number, number, number] = [0, 0, 0];
    tip[axis] = 1;
    const [tx, ty] = project(tip);
    const len = Math.hypot(tx - ox, ty - oy);
    const [lx, ly] = [tx + 18 * (tx - ox) / len, ty + 18 * (ty - oy) / len];
    drawLabel(canvas, font, AXIS_NAMES[axis], lx, ly, 20, AXIS_INK[axis], "center", "middle");
  }
}

function drawPanel(
  canvas: Canvas,
  font: TrueTypeFont,
  frame: Rect,
  axes: readonly [0 | 1 | 2, 0 | 1 | 2],
): Projector {
  const { x, y, width, height } = frame;
  canvas.fillRect(x, y, width, height, PANEL_BACKGROUND);
  for (const f of [0.25, 0.5, 0.75]) {
    canvas.fillRect(x + Math.round(f * width), y, 1, height, GRID);
    canvas.fillRect(x, y + Math.round(f * height), width, 1, GRID);
  }
  canvas.strokeRect(x - 1, y - 1, width + 2, height + 2, EDGE);
  const [a, b] = axes;
  const tipA: [number, number, number] = [0, 0, 0];
  const tipB: [number, number, number] = [0, 0, 0];
  tipA[a] = 255;
  tipB[b] = 255;
  // Axis lines graded from black to the axis's primary, as in the cube view.
  canvas.strokeSegment(x - 1, y + height + 1, x + width + 1, y + height + 1, 2.4, [0, 0, 0], tipA);
  canvas.strokeSegment(x - 1, y + height + 1, x - 1, y - 1, 2.4, [0, 0, 0], tipB);
  const px = 12;
  canvas.drawText(font, "0", x - 4, y + height + 4, px, INK, "right", "top");
  canvas.drawText(font, "1", x + width, y + height + 4, px, INK, "center", "top");
  canvas.drawText(font, "1", x - 5, y, px, INK, "right", "middle");
  canvas.drawText(
    font,
    AXIS_NAMES[a],
    x + width / 2,
    y + height + 4,
    14,
    AXIS_INK[a],
    "center",
    "top",
  );
  canvas.drawText(font, AXIS_NAMES[b], x - 6, y + height / 2, 14, AXIS_INK[b], "right", "middle");
  return (color) => [x + color[a] * width, y + (1 - color[b]) * height];
}

/**
 * Draws a path plot.
 * @throws {RangeError} when there is nothing to plot or a colour is not three finite numbers
 */
export async function renderPathPlot(
  input: PathPlotInput,
): Promise<RgbaImage & { geometry: PathPlotGeometry }> {
  const { fine, points } = input;
  if (fine.length === 0 && points.length === 0) {
    throw new RangeError("path plot: both fine and points are empty; nothing to draw");
  }
  fine.forEach((c, i) => checkColor(c, `fine[${i}]`));
  points.forEach((p, i) => checkColor(p.color, `points[${i}].color`));
  const font = await defaultFont();
  const withPanels = input.projections ?? true;
  const titleHeight = input.title ? 40 : 0;
  const width = CUBE_SIZE + (withPanels ? PANEL_COLUMN : 0);
  const height = titleHeight + CUBE_SIZE + LEGEND_HEIGHT;
  const canvas = new Canvas(width, height, BACKGROUND);
  if (input.title) {
    // A long title (a multi-seed preview's heading) is set smaller to fit, as on the other pictures.
    canvas.drawText(font, input.title, 16, 12, fitTitlePx(font, input.title, 17, width - 32), INK);
  }

  const cube = cubeProjector(0, titleHeight, CUBE_SIZE, 56);
  drawCube(canvas, font, cube);
  if (fine.length > 1) {
    // The path's shadow on the B = 0 floor helps read depth in a single oblique view.
    const shadow = fine.map(([r, g]) => cube([r, g, 0]));
    canvas.strokePolyline(shadow, 2, shadow.map(() => SHADOW));
  }
  drawPathLayers(canvas, cube, fine, points, 1);
  const path = fine.length > 0 ? fine : points.map((p) => p.color);
  const [sx, sy] = cube(path[0]);
  const [ex, ey] = cube(path[path.length - 1]);
  drawLabel(canvas, font, "start", sx + 13, sy, 13, INK);
  drawLabel(canvas, font, "end", ex + 12, ey, 13, INK);

  const panels: PathPlotGeometry["panels"] = [];
  if (withPanels) {
    const pairs = [[0, 1], [0, 2], [1, 2]] as const;
    const block = CUBE_SIZE / 3;
    pairs.forEach((axes, i) => {
      const frame = {
        x: CUBE_SIZE + Math.round((PANEL_COLUMN - PANEL_SIZE) / 2) + 8,
        y: titleHeight + Math.round(i * block + (block - PANEL_SIZE) / 2) - 4,
        width: PANEL_SIZE,
        height: PANEL_SIZE,
      };
      const project = drawPanel(canvas, font, frame, axes);
      drawPathLayers(canvas, project, fine, points, PATH_PLOT_STYLE.panelScale);
      panels.push({ axes, frame, project });
    });
  }

  const legendY = titleHeight + CUBE_SIZE + LEGEND_HEIGHT / 2 - 6;
  let lx = 18;
  canvas.fillDisk(lx, legendY, 6.5, INK);
  canvas.fillDisk(lx, legendY, 4.8, BACKGROUND);
  lx += 12 + canvas.drawText(font, "start", lx + 12, legendY, 13, INK, "left", "middle").width + 18;
  canvas.fillSquare(lx, legendY, 5.5, INK);
  canvas.fillSquare(lx, legendY, 3.8, BACKGROUND);
  lx += 12 + canvas.drawText(font, "end", lx + 12, legendY, 13, INK, "left", "middle").width + 18;
  canvas.fillDisk(lx, legendY, 4.5, INK);
  canvas.fillDisk(lx, legendY, 3, [150, 150, 150]);
  canvas.drawText(
    font,
    `sampled frames (${points.length})`,
    lx + 10,
    legendY,
    13,
    INK,
    "left",
    "middle",
  );

  return {
    width,
    height,
    rgba: canvas.rgba,
    geometry: {
      cube,
      panels,
      startColor: colorToBytes(path[0]),
      endColor: colorToBytes(path[path.length - 1]),
    },
  };
}

/** A path plot as PNG bytes (deterministic). */
export async function pathPlot(input: PathPlotInput): Promise<Uint8Array> {
  const plot = await renderPathPlot(input);
  return encodePng(plot.rgba, plot.width, plot.height);
}
