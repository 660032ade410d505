import assert from "node:assert/strict";
import { colorToBytes, decodePng } from "./png.ts";
import { PATH_PLOT_STYLE, pathPlot, renderPathPlot, type Rgb } from "./path_plot.ts";

const INK = [40, 40, 40];

/** A helix from orange-ish low B to purple high B: start and end far apart in every view. */
function helix(t: number): Rgb {
  return [0.5 + 0.4 * Math.cos(6 * t), 0.5 + 0.4 * Math.sin(6 * t), 0.1 + 0.8 * t];
}

const fine = Array.from({ length: 300 }, (_, i) => helix(i / 299));
const points = Array.from({ length: 9 }, (_, i) => ({ color: helix(i / 8) }));

function pixel(img: { width: number; rgba: Uint8Array }, x: number, y: number): number[] {
  const i = 4 * (Math.floor(y) * img.width + Math.floor(x));
  return [...img.rgba.subarray(i, i + 3)];
}

Deno.test("path plot PNG decodes to the rendered size; panels and cube lie inside it", async () => {
  const png = await pathPlot({ fine, points, title: "helix" });
  const decoded = await decodePng(png, "path.png");
  const plot = await renderPathPlot({ fine, points, title: "helix" });
  assert.equal(decoded.width, plot.width);
  assert.equal(decoded.height, plot.height);
  assert.deepEqual(decoded.rgba, plot.rgba);
  assert.equal(plot.geometry.panels.length, 3);
  for (const corner of [[0, 0, 0], [1, 1, 1], [1, 0, 1], [0, 1, 0]] as Rgb[]) {
    const [x, y] = plot.geometry.cube(corner);
    assert.ok(x > 0 && x < plot.width && y > 0 && y < plot.height, `corner ${corner} at ${x},${y}`);
  }
  for (const { frame } of plot.geometry.panels) {
    assert.ok(frame.x + frame.width < plot.width && frame.y + frame.height < plot.height);
  }
  const narrow = await renderPathPlot({ fine, points, projections: false });
  assert.ok(narrow.width < plot.width);
  assert.ok(narrow.height < plot.height, "no title band");
  assert.equal(narrow.geometry.panels.length, 0);
});

Deno.test("the cube view is oriented: B up, R right of G, black at the bottom", async () => {
  const { geometry: { cube } } = await renderPathPlot({ fine, points });
  const [black, red, green, blue, white] =
    ([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]] as Rgb[]).map(cube);
  assert.ok(blue[1] < black[1], "blue above black");
  assert.ok(red[0] > green[0], "red right of green");
  assert.ok(white[1] < black[1] && black[1] >= Math.max(red[1], green[1]), "black lowest");
});

Deno.test("start (circle) and end (square) markers sit at the projected ends in their colours", async () => {
  const plot = await renderPathPlot({ fine, points });
  const { startColor, endColor } = plot.geometry;
  assert.deepEqual(startColor, colorToBytes(fine[0]));
  assert.deepEqual(endColor, colorToBytes(fine[fine.length - 1]));
  const s = PATH_PLOT_STYLE;
  const views = [
    { project: plot.geometry.cube, k: 1 },
    ...plot.geometry.panels.map((p) => ({ project: p.project, k: s.panelScale })),
  ];
  for (const { project, k } of views) {
    const [sx, sy] = project(fine[0]);
    const [ex, ey] = project(fine[fine.length - 1]);
    assert.deepEqual(pixel(plot, sx, sy), [...startColor], "start centre");
    assert.deepEqual(pixel(plot, ex, ey), [...endColor], "end centre");
    // Every pixel whose centre is clearly inside a marker's colour area has the colour, and
    // every pixel clearly within its outline band has ink: a disk for start, a square for end.
    const checkShape = (
      cx: number,
      cy: number,
      inner: number,
      outer: number,
      color: readonly number[],
      dist: (dx: number, dy: number) => number,
    ) => {
      let colored = 0, outlined = 0;
      for (let y = Math.floor(cy - outer - 1); y <= cy + outer + 1; y++) {
        for (let x = Math.floor(cx - outer - 1); x <= cx + outer + 1; x++) {
          const d = dist(x + 0.5 - cx, y + 0.5 - cy);
          if (d <= inner - 0.5) {
            assert.deepEqual(pixel(plot, x, y), [...color], `colour at ${x},${y}`), colored++;
          } else if (d >= inner + 0.5 && d <= outer - 0.5) {
            assert.deepEqual(pixel(plot, x, y), INK, `ink at ${x},${y}`), outlined++;
          }
        }
      }
      assert.ok(colored > 0 && outlined > 0);
    };
    checkShape(sx, sy, s.startRadius * k, s.startOutline * k, startColor, Math.hypot);
    checkShape(
      ex,
      ey,
      s.endHalf * k,
      s.endOutline * k,
      endColor,
      (dx, dy) => Math.max(Math.abs(dx), Math.abs(dy)),
    );
    // A square's corners are filled where a disk of the same half-width is not.
    const corner = s.endHalf * k - 1.2;
    if (corner > 0) assert.deepEqual(pixel(plot, ex + corner, ey + corner), [...endColor]);
  }
});

Deno.test("sampled points are dots of their own colour", async () => {
  const plot = await renderPathPlot({ fine, points });
  // Dots are drawn in order, so check those no later dot or end marker overlaps.
  const xy = points.map((p) => plot.geometry.cube(p.color));
  const clear = PATH_PLOT_STYLE.startOutline + PATH_PLOT_STYLE.pointRadius + 1;
  let checked = 0;
  xy.forEach(([x, y], i) => {
    const later = [...xy.slice(i + 1), xy[0], xy[xy.length - 1]];
    if (
      i === 0 || i === xy.length - 1 || later.some(([u, v]) => Math.hypot(u - x, v - y) < clear)
    ) return;
    assert.deepEqual(pixel(plot, x, y), [...colorToBytes(points[i].color)], `point ${i}`);
    checked++;
  });
  assert.ok(checked >= 4, `only ${checked} isolated points`);
  const rg = plot.geometry.panels[0];
  assert.deepEqual(rg.axes, [0, 1]);
  const [x, y] = rg.project([0.25, 0.75, 0.5]);
  assert.ok(Math.abs(x - (rg.frame.x + 0.25 * rg.frame.width)) < 1e-9);
  assert.ok(Math.abs(y - (rg.frame.y + 0.25 * rg.frame.height)) < 1e-9);
});

Deno.test("path plot works from points alone and rejects unusable input", async () => {
  const plot = await renderPathPlot({
    fine: [],
    points: [{ color: [1, 0, 0] }, { color: [0, 0, 1] }],
  });
  assert.deepEqual(pixel(plot, ...plot.geometry.cube([1, 0, 0])), [255, 0, 0]);
  assert.deepEqual(pixel(plot, ...plot.geometry.cube([0, 0, 1])), [0, 0, 255]);
  await assert.rejects(() => renderPathPlot({ fine: [], points: [] }), /nothing to draw/);
  await assert.rejects(
    () => renderPathPlot({ fine: [[0, NaN, 1]], points: [] }),
    /fine\[0\] must be three finite numbers/,
  );
  await assert.rejects(
    () => renderPathPlot({ fine: [], points: [{ color: [0, 1] as unknown as Rgb }] }),
    /points\[0\]\.color/,
  );
});

Deno.test("path plot: a long title is set smaller to fit inside the plot", async () => {
  // innate_external's preview heading: 790 px at 17 px, in a plot 690 px wide.
  const title = "innate_external  8 seeds × 12 colours  50 steps  PREVIEW (not the paper's 1000)";
  const plot = await renderPathPlot({ fine, points, title });
  // The title band, above the cube: its ink ends one margin short of the right edge.
  let right = -1;
  for (let y = 0; y < 36; y++) {
    for (let x = 0; x < plot.width; x++) if (pixel(plot, x, y)[0] < 160) right = Math.max(right, x);
  }
  assert.ok(right > plot.width / 2 && right < plot.width - 8, `title ink up to x = ${right}`);
});
