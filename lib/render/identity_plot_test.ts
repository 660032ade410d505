import assert from "node:assert/strict";
import { defaultFont } from "./font.ts";
import { IDENTITY_PLOT_STYLE, identityPlot, renderIdentityPlot } from "./identity_plot.ts";
import { decodePng } from "./png.ts";

function at(image: { width: number; rgba: Uint8Array }, x: number, y: number): number[] {
  const i = (Math.round(y) * image.width + Math.round(x)) * 4;
  return [...image.rgba.subarray(i, i + 3)];
}

const near = (a: number[], b: readonly number[], tol = 40) =>
  a.every((v, i) => Math.abs(v - b[i]) <= tol);

Deno.test("identity plot: reference line at its values, threshold line, colour strip per frame", async () => {
  const colors: [number, number, number][] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]];
  const points = colors.map((color, i) => ({
    color,
    toReference: [0.1, 0.4, 0.9, 0.5][i],
    toPrevious: i === 0 ? null : 0.3,
  }));
  const plot = await renderIdentityPlot({ series: [{ seed: "42", points }], threshold: 0.6 });
  assert.equal(plot.panels.length, 1);
  const p = plot.panels[0];
  for (let i = 0; i < points.length; i++) {
    // The reference distance's dot sits at (x(i), y(value)).
    assert.ok(near(at(plot, p.x(i), p.y(points[i].toReference)), IDENTITY_PLOT_STYLE.toReference));
    // The strip under the plot shows the frame's colour.
    assert.deepEqual(
      at(plot, p.x(i), p.strip.y + p.strip.height / 2),
      colors[i].map((c) => c * 255),
    );
  }
  // The dashed threshold: some pixels on its row near the left edge are red.
  const row = Array.from(
    { length: 40 },
    (_, k) => at(plot, p.frame.x + 2 + k, Math.floor(p.y(0.6))),
  );
  assert.ok(row.some((c) => near(c, IDENTITY_PLOT_STYLE.threshold, 30)), "no threshold line");
  // Higher distances are drawn higher.
  assert.ok(p.y(0.9) < p.y(0.1));
  const png = await identityPlot({ series: [{ seed: "42", points }], threshold: 0.6, title: "t" });
  const decoded = await decodePng(png);
  assert.equal(decoded.width, 1000);
});

Deno.test("identity plot: one panel per seed, and nothing to plot is an error", async () => {
  const series = ["1", "2", "3"].map((seed) => ({
    seed,
    points: [{ color: [0, 0, 0] as [number, number, number], toReference: 0.2, toPrevious: null }],
  }));
  const plot = await renderIdentityPlot({ series, threshold: 0.6 });
  assert.deepEqual(plot.panels.map((p) => p.seed), ["1", "2", "3"]);
  assert.ok(plot.panels[1].frame.y > plot.panels[0].strip.y);
  await assert.rejects(() => renderIdentityPlot({ series: [], threshold: 0.6 }), /no frames/);
  await assert.rejects(
    () =>
      renderIdentityPlot({
        series: [{ seed: "1", points: [{ color: [0, 0, 0], toReference: NaN, toPrevious: null }] }],
        threshold: 0.6,
      }),
    /not finite/,
  );
});

Deno.test("identity plot: the to-previous series is drawn at its values, and absent where no frame has a previous", async () => {
  const colors: [number, number, number][] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]];
  const toPrevious = [null, 0.25, 0.7, 0.15];
  const points = colors.map((color, i) => ({
    color,
    toReference: [0.1, 0.45, 0.95, 0.5][i],
    toPrevious: toPrevious[i],
  }));
  const plot = await renderIdentityPlot({ series: [{ seed: "42", points }], threshold: 0.6 });
  const p = plot.panels[0];
  const orange = (c: number[]) => near(c, IDENTITY_PLOT_STYLE.toPrevious, 30);
  for (let i = 1; i < points.length; i++) {
    assert.ok(orange(at(plot, p.x(i), p.y(toPrevious[i]!))), `frame ${i}: its dot`);
  }
  // Frame 0 has no previous: nothing orange in its column (left of the first segment's start).
  const column = (x0: number, x1: number) => {
    let n = 0;
    for (let y = p.frame.y; y < p.frame.y + p.frame.height; y++) {
      for (let x = Math.round(x0); x < Math.round(x1); x++) if (orange(at(plot, x, y))) n++;
    }
    return n;
  };
  assert.equal(column(p.frame.x, p.x(1) - 4), 0, "frame 0 has no to-previous point");
  assert.ok(column(p.x(1) - 4, p.frame.x + p.frame.width) > 20, "the series is drawn");

  // One frame per seed: no frame has a previous, so no orange inside any panel (the legend keeps
  // its key).
  const single = await renderIdentityPlot({
    series: ["1", "2"].map((seed) => ({ seed, points: [{ ...points[2], toPrevious: null }] })),
    threshold: 0.6,
  });
  for (const panel of single.panels) {
    let n = 0;
    for (let y = panel.frame.y; y < panel.frame.y + panel.frame.height; y++) {
      for (let x = panel.frame.x; x < panel.frame.x + panel.frame.width; x++) {
        if (orange(at(single, x, y))) n++;
      }
    }
    assert.equal(n, 0, `seed ${panel.seed}: no to-previous series`);
    // Its reference dot is there.
    assert.ok(near(at(single, panel.x(0), panel.y(0.95)), IDENTITY_PLOT_STYLE.toReference));
  }
});

Deno.test("identity plot: a long title is set smaller to fit inside the plot", async () => {
  const font = await defaultFont();
  const long = "innate_external  8 seeds × 12 colours  50 steps  PREVIEW (not the paper's 1000): " +
    "face-descriptor distance";
  assert.ok(font.measure(long, 17).width > 968, "the title of the case that was cut off");
  const points = [{ color: [1, 0, 0] as const, toReference: 0.2, toPrevious: null }];
  const plot = await renderIdentityPlot({
    series: [{ seed: "1", points }],
    threshold: 0.6,
    title: long,
  });
  // The title band (above the first panel): its ink ends one margin short of the right edge.
  let right = -1;
  for (let y = 0; y < 40; y++) {
    for (let x = 0; x < plot.width; x++) if (at(plot, x, y)[0] < 160) right = Math.max(right, x);
  }
  assert.ok(right > plot.width / 2 && right < plot.width - 8, `title ink up to x = ${right}`);
});
