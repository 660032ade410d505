// The report page's script: draws a run from the JSON embedded in the page (see lib/report/data.ts)
// with uPlot (inlined before this script). Plain browser JavaScript, no build step, so the page
// works from the file system. When the viewer serves the page it passes a live URL: the page
// polls it while the run is not complete and redraws as frames arrive.
//
// Hooks for tests and tools: document.body.dataset.ready = "1" once drawn (and data-frames,
// data-status, data-current), window.fluidityReport = { show(position), current(), data() },
// and the stable element ids listed in lib/report/page.ts.
//
// Every piece of run data reaches the page as text (textContent, attribute values), never as
// markup: a label or a path in a manifest cannot inject anything.
(() => {
  "use strict";
  const data0 = JSON.parse(document.getElementById("report-data").textContent);
  const options = JSON.parse(document.getElementById("report-options").textContent);
  let data = data0;
  let current = 0;
  let charts = [];
  let positions = new Map();

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  };
  const hex = (c) =>
    "#" + c.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255).toString(16).padStart(2, "0"))
      .join("");
  const fixed = (v, digits = 3) => (v === null || v === undefined ? "–" : v.toFixed(digits));
  const swatch = (c, title) =>
    el("span", { class: "swatch", style: `background:${hex(c)}`, title });
  const frameName = (f) =>
    `#${f.index}` + (f.seed !== undefined ? ` (seed ${f.seed}, colour ${f.colorIndex})` : "") +
    (f.label ? ` “${f.label}”` : "");

  // ---- header, summary, identity, spec ------------------------------------------------------
  function renderHeader() {
    $("title").textContent = data.name;
    document.title = `${data.name} · ${data.runId} · fluidity`;
    const status = $("status");
    status.textContent = data.status;
    status.className = `badge ${data.status}`;
    $("progress").textContent = `${data.frames.length} of ${data.planned} frame(s)` +
      (options.live && data.status !== "complete" ? " · live" : "");
    $("run-id").textContent = data.runId;
    $("updated").textContent = data.updatedAt;
  }

  function row(name, value) {
    return el("tr", {}, el("th", { text: name }), el("td", { text: value }));
  }

  function renderSummary() {
    const body = $("summary-table");
    body.replaceChildren();
    const s = data.summary;
    if (!s) {
      body.append(row("summary", "written when the run completes"));
      return;
    }
    const c = s.correlation;
    body.append(
      row("frames", `${s.frames} (${s.computed} computed, ${s.reused} reused)`),
      row("sampling", `${(s.samplingMs / 1000).toFixed(1)} s`),
      row(
        "mean colour vs injected (r, g, b)",
        `${fixed(c.r, 2)}, ${fixed(c.g, 2)}, ${fixed(c.b, 2)}`,
      ),
      row("mean distance to previous", fixed(s.meanDistanceToPrevious, 4)),
      row(
        "largest jump",
        s.largestJump ? `${fixed(s.largestJump.value, 4)} at #${s.largestJump.index}` : "–",
      ),
    );
    for (const w of data.warnings) body.append(row("warning", w));
  }

  function frameLink(index) {
    return el("a", {
      href: `#frame-${index}`,
      text: `#${index}`,
      "data-frame": String(index),
      onclick: (e) => {
        e.preventDefault();
        show(positionOf(index));
      },
    });
  }

  function renderIdentity() {
    const card = $("identity");
    const id = data.summary && data.summary.identity;
    card.hidden = !id && !data.embedder;
    const body = $("identity-table");
    body.replaceChildren();
    if (!id) {
      if (data.embedder) body.append(row("identity", "written when the run completes"));
      return;
    }
    const linked = (label, point) => {
      const td = el("td");
      if (point) td.append(`${fixed(point.value)} at `, frameLink(point.index));
      else td.append("–");
      return el("tr", {}, el("th", { text: label }), td);
    };
    // The manifest schema leaves the summary's identity numbers to their writer: a foreign or
    // older manifest may lack a field, which then shows as "–" rather than stopping the page.
    const e = data.embedder;
    const c = id.colorCorrelation || {};
    body.append(
      row("embedder", e ? `${e.name}; same person below ${e.threshold}` : "–"),
      linked("farthest from reference", id.farthestFromReference),
      row("mean distance to reference", fixed(id.meanToReference)),
      row("identity path length", fixed(id.pathLength)),
      row("mean step", fixed(id.meanStep)),
      linked("largest step", id.largestJump),
      row(
        "frames at or above the threshold",
        `${id.framesAboveThreshold ?? "–"} of ${id.frames ?? "–"}`,
      ),
      row(
        "colour distance vs identity distance",
        `r ${fixed(c.pearson, 2)}, ρ ${fixed(c.spearman, 2)} over ${c.n ?? "–"} ${c.pairs ?? ""}`,
      ),
    );
    const d = id.decomposition;
    if (d && d.share) {
      const pct = (v) => `${(v * 100).toFixed(1)} %`;
      body.append(row(
        "seeds × colours",
        `seed ${pct(d.share.seed)}, colour ${pct(d.share.color)}, interaction ` +
          `${pct(d.share.interaction)} (${d.seeds} × ${d.colors})`,
      ));
    } else if (d && d.reason) body.append(row("seeds × colours", d.reason));
  }

  function renderSpec() {
    $("spec").textContent = JSON.stringify(data.spec, null, 2);
    const body = $("model-table");
    body.replaceChildren(row("model", data.model.spec), row("spec hash", data.specHash));
    for (const [file, sha] of Object.entries(data.model.sha256)) body.append(row(file, sha));
    const r = data.runtime;
    body.append(
      row(
        "runtime",
        `Deno ${r.deno}, onnxruntime ${r.onnxruntime}, ${r.device}, ${r.threads} thread(s)`,
      ),
      row("machine", `${r.cpu.model} (${r.cpu.cores} cores), ${r.os} ${r.arch}`),
    );
  }

  // ---- pictures ------------------------------------------------------------------------------
  // The pictures as last drawn: a live page redraws them only when they change, so a playing
  // video is not restarted by each poll.
  let picturesDrawn = "";
  function renderPictures() {
    const o = data.outputs;
    // The embedded data and the viewer's report.json both come with sorted keys.
    const key = JSON.stringify(o);
    if (key === picturesDrawn) return;
    picturesDrawn = key;
    const box = $("pictures");
    box.replaceChildren();
    const figure = (caption, media) => el("figure", {}, media, el("figcaption", { text: caption }));
    if (o.video) {
      box.append(figure(
        "video",
        o.video.type === "video/mp4"
          ? el("video", {
            id: "video",
            src: o.video.src,
            controls: "",
            loop: "",
            muted: "",
            preload: "auto",
          })
          : el("img", { id: "video", src: o.video.src, alt: "video (GIF)" }),
      ));
    }
    const pictures = [
      ["path plot", o.pathPlot, "path-plot"],
      ["identity along the path", o.identityPlot, "identity-plot"],
      ["seeds × colours", o.grid, "grid"],
      ["contact sheet", o.contactSheet, "contact-sheet"],
    ];
    for (const [caption, src, id] of pictures) {
      if (src) box.append(figure(caption, el("img", { id, src, alt: caption })));
    }
    if (!box.childElementCount) box.append(el("p", { text: "made when the run completes" }));
  }

  // ---- the path in the RGB cube --------------------------------------------------------------
  // As path_plot.png draws it: the cube in an oblique view (black at the bottom corner, white at
  // the top), and beside it the path's projections on the R–G, R–B and G–B planes. Every panel
  // marks the current frame, so the scrubber moves through the path as through the frames.
  const CUBE_PANEL = { x: 0, y: 0, size: 240 };
  const PROJECTIONS = [
    { name: "R–G", axes: [0, 1], x: 250 },
    { name: "R–B", axes: [0, 2], x: 420 },
    { name: "G–B", axes: [1, 2], x: 590 },
  ];
  const PROJECTION_SIZE = 150;
  const PROJECTION_TOP = 50;

  // The oblique view of lib/render/path_plot.ts (same angles), so the page and path_plot.png
  // show the cube alike: R to the right, G away, B up.
  const AZIMUTH = (28 * Math.PI) / 180;
  const ELEVATION = (22 * Math.PI) / 180;
  function oblique(c) {
    const [x, y, z] = [c[0] - 0.5, c[1] - 0.5, c[2] - 0.5];
    const across = x * Math.cos(AZIMUTH) - y * Math.sin(AZIMUTH);
    const away = x * Math.sin(AZIMUTH) + y * Math.cos(AZIMUTH);
    return [across, -(z * Math.cos(ELEVATION) + away * Math.sin(ELEVATION))];
  }
  const CUBE_CORNERS = [];
  for (let i = 0; i < 8; i++) CUBE_CORNERS.push([i & 1, (i >> 1) & 1, (i >> 2) & 1]);
  const CUBE_BOUNDS = (() => {
    const projected = CUBE_CORNERS.map(oblique);
    const xs = projected.map((p) => p[0]), ys = projected.map((p) => p[1]);
    return {
      minX: Math.min(...xs),
      maxX: Math.max(...xs),
      minY: Math.min(...ys),
      maxY: Math.max(...ys),
    };
  })();

  function cubePoint(c) {
    const margin = 16;
    const { minX, maxX, minY, maxY } = CUBE_BOUNDS;
    const scale = (CUBE_PANEL.size - 2 * margin) / Math.max(maxX - minX, maxY - minY);
    const [x, y] = oblique(c);
    return [
      CUBE_PANEL.x + CUBE_PANEL.size / 2 + (x - (minX + maxX) / 2) * scale,
      CUBE_PANEL.y + CUBE_PANEL.size / 2 + (y - (minY + maxY) / 2) * scale,
    ];
  }

  function projectionPoint(panel, c) {
    return [
      panel.x + c[panel.axes[0]] * PROJECTION_SIZE,
      PROJECTION_TOP + (1 - c[panel.axes[1]]) * PROJECTION_SIZE,
    ];
  }

  // Every seed walks the same colours: the path is the first seed's frames.
  function pathFrames() {
    if (!data.frames.length) return [];
    const seed = data.frames[0].seed;
    return data.frames.filter((f) => f.seed === seed);
  }

  function polyline(ctx, points, toXY) {
    ctx.beginPath();
    points.forEach((c, i) => {
      const [x, y] = toXY(c);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }

  function drawPanel(ctx, toXY, frames, frame) {
    ctx.strokeStyle = "#999";
    ctx.lineWidth = 1;
    // The fine path when there is one; explicit colours are joined in frame order.
    polyline(ctx, data.pathLine || frames.map((f) => f.color), toXY);
    for (const f of frames) {
      const [x, y] = toXY(f.color);
      ctx.fillStyle = hex(f.color);
      ctx.beginPath();
      ctx.arc(x, y, 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    if (!frame) return null;
    const [x, y] = toXY(frame.color);
    ctx.fillStyle = hex(frame.color);
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(x, y, 7, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    return [x, y];
  }

  function drawPath() {
    const canvas = $("path-canvas");
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#ccc";
    ctx.lineWidth = 1;
    for (const a of CUBE_CORNERS) {
      for (const b of CUBE_CORNERS) {
        const diff = a.reduce((n, v, k) => n + Math.abs(v - b[k]), 0);
        if (diff !== 1 || a.join() > b.join()) continue;
        polyline(ctx, [a, b], cubePoint);
      }
    }
    ctx.fillStyle = "#555";
    ctx.font = "12px sans-serif";
    for (const panel of PROJECTIONS) {
      ctx.strokeStyle = "#ccc";
      ctx.strokeRect(panel.x, PROJECTION_TOP, PROJECTION_SIZE, PROJECTION_SIZE);
      ctx.fillStyle = "#555";
      ctx.fillText(panel.name, panel.x, PROJECTION_TOP - 6);
    }
    const frames = pathFrames();
    const frame = data.frames[current];
    const marker = drawPanel(ctx, cubePoint, frames, frame);
    for (const panel of PROJECTIONS) {
      drawPanel(ctx, (c) => projectionPoint(panel, c), frames, frame);
    }
    if (marker) {
      canvas.dataset.x = marker[0].toFixed(1);
      canvas.dataset.y = marker[1].toFixed(1);
      canvas.dataset.index = String(frame.index);
    }
  }

  // ---- charts (uPlot) --------------------------------------------------------------------------
  const FRAME_TICKS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000];

  /** Puts a chart's cursor (and legend) on the frame shown. */
  function syncCursor(plot) {
    const f = data.frames[current];
    if (!f) return;
    const left = plot.valToPos(f.index, "x");
    if (Number.isFinite(left)) plot.setCursor({ left, top: plot.over.clientHeight / 2 }, false);
  }

  function chart(target, title, series, values, yRange) {
    const width = Math.max(300, target.clientWidth || 600);
    const plot = new uPlot(
      {
        title,
        width,
        height: 200,
        scales: { x: { time: false }, ...(yRange ? { y: { range: yRange } } : {}) },
        // Frame numbers are whole: no ticks between them.
        axes: [{ label: "frame", incrs: FRAME_TICKS }, {}],
        // A vertical line at the frame shown; no horizontal line (it would look like a value).
        cursor: { y: false, drag: { x: false, y: false } },
        series: [
          { label: "frame" },
          ...series.map((
            one,
          ) => (data.frames.some((f) => f.seed !== undefined) ? { gaps: seedGaps, ...one } : one)),
        ],
        // uPlot lays a chart out after it is made: only then can its cursor be put on a frame.
        hooks: { ready: [syncCursor] },
      },
      [data.frames.map((f) => f.index), ...values],
      target,
    );
    // A click on a chart jumps to that frame (the cursor's data position is the frame position).
    plot.over.addEventListener("click", () => {
      if (plot.cursor.idx !== null && plot.cursor.idx !== undefined) show(plot.cursor.idx);
    });
    return plot;
  }

  // A multi-seed run's frames go seed after seed along one axis: a line must not join one seed's
  // last colour to the next seed's first, so every series breaks where the seed changes.
  function seedGaps(u, _series, first, last, nullGaps) {
    const x = u.data[0];
    const gaps = nullGaps.map((g) => [...g]);
    for (let i = Math.max(first, 1); i <= last; i++) {
      if (data.frames[i].seed !== data.frames[i - 1].seed) {
        gaps.push([
          Math.round(u.valToPos(x[i - 1], "x", true)),
          Math.round(u.valToPos(x[i], "x", true)),
        ]);
      }
    }
    // uPlot clips with the gaps in order and apart: sort, and merge those that touch.
    gaps.sort((a, b) => a[0] - b[0]);
    const merged = [];
    for (const gap of gaps) {
      const previous = merged[merged.length - 1];
      if (previous && gap[0] <= previous[1]) previous[1] = Math.max(previous[1], gap[1]);
      else merged.push(gap);
    }
    return merged;
  }

  function renderCharts() {
    for (const c of charts) c.destroy();
    charts = [];
    const f = data.frames;
    const channels = [["R", "#d62728"], ["G", "#2ca02c"], ["B", "#1f77b4"]];
    const colorSeries = [], colorValues = [];
    channels.forEach(([name, stroke], k) => {
      colorSeries.push({ label: `injected ${name}`, stroke, dash: [6, 4], width: 1.5 });
      colorValues.push(f.map((x) => x.color[k]));
      colorSeries.push({ label: `mean ${name}`, stroke, width: 2 });
      colorValues.push(f.map((x) => x.meanColor[k]));
    });
    charts.push(
      chart($("chart-color"), "mean colour against injected colour", colorSeries, colorValues, [
        0,
        1,
      ]),
    );
    charts.push(chart(
      $("chart-distance"),
      "distance to the previous frame (RMS RGB)",
      [{ label: "Δ previous", stroke: "#444", width: 2 }],
      [f.map((x) => x.distanceToPrevious)],
    ));
    const identity = f.some((x) => x.identity);
    $("chart-identity").hidden = !identity;
    if (identity) {
      const series = [
        { label: "to reference", stroke: "#9467bd", width: 2 },
        { label: "to previous", stroke: "#ff7f0e", width: 2 },
      ];
      const values = [
        f.map((x) => (x.identity ? x.identity.toReference : null)),
        f.map((x) => (x.identity ? x.identity.toPrevious : null)),
      ];
      if (data.embedder) {
        series.push({ label: "same-person threshold", stroke: "#aaa", dash: [2, 3], width: 1 });
        values.push(f.map(() => data.embedder.threshold));
      }
      charts.push(
        chart($("chart-identity"), "identity distance (face descriptor)", series, values),
      );
    }
  }

  function resizeCharts() {
    for (const c of charts) {
      const width = Math.max(300, c.root.parentElement.clientWidth || 600);
      if (width !== c.width) c.setSize({ width, height: c.height });
    }
  }

  // ---- frames table ----------------------------------------------------------------------------
  function renderTable() {
    const body = $("frames-table");
    body.replaceChildren();
    data.frames.forEach((f, position) => {
      const tr = el(
        "tr",
        { id: `frame-${f.index}`, "data-index": String(f.index), onclick: () => show(position) },
        el("td", { text: String(f.index) }),
        el(
          "td",
          {},
          el("img", {
            class: "thumb",
            src: f.src,
            alt: `frame ${f.index}`,
            width: "64",
            height: "64",
            // Only the rows scrolled to are fetched: a long run's page opens at once.
            loading: "lazy",
          }),
        ),
        el("td", {}, swatch(f.color, "injected"), " ", hex(f.color)),
        el("td", {}, swatch(f.meanColor, "mean"), " ", hex(f.meanColor)),
        el("td", { text: f.t === null ? "–" : f.t.toFixed(4) }),
        el("td", { text: fixed(f.distanceToPrevious, 4) }),
        el("td", { text: f.identity ? fixed(f.identity.toReference) : "–" }),
        el("td", { text: f.identity ? fixed(f.identity.toPrevious) : "–" }),
        el("td", { class: "hash", title: f.sha256, text: f.sha256.slice(0, 12) }),
      );
      if (f.seed !== undefined) tr.title = `seed ${f.seed}, colour ${f.colorIndex}`;
      body.append(tr);
    });
  }

  // ---- the scrubber: one position for the frame, the path and the charts ----------------------
  // Positions count the frames listed (0 … n-1); a shard's frame indices have gaps.
  function positionOf(index) {
    return positions.has(index) ? positions.get(index) : current;
  }

  function show(position) {
    if (!data.frames.length) return;
    const wanted = Number(position);
    current = Math.max(0, Math.min(data.frames.length - 1, Number.isFinite(wanted) ? wanted : 0));
    const f = data.frames[current];
    const img = $("frame-image");
    img.src = f.src;
    img.alt = `frame ${f.index}`;
    img.dataset.index = String(f.index);
    $("scrubber").value = String(current);
    const caption = $("caption");
    caption.replaceChildren(
      el("strong", { text: frameName(f) }),
      ` t ${f.t === null ? "–" : f.t.toFixed(4)} · injected `,
      swatch(f.color, "injected"),
      ` ${hex(f.color)} · mean `,
      swatch(f.meanColor, "mean"),
      ` ${hex(f.meanColor)} · Δ previous ${fixed(f.distanceToPrevious, 4)}` +
        (f.identity ? ` · identity to reference ${fixed(f.identity.toReference)}` : "") +
        ` · ${f.sha256.slice(0, 12)}`,
    );
    for (const tr of document.querySelectorAll("#frames-table tr.current")) {
      tr.classList.remove("current");
    }
    const tr = $(`frame-${f.index}`);
    if (tr) tr.classList.add("current");
    for (const c of charts) syncCursor(c);
    drawPath();
    document.body.dataset.current = String(current);
  }

  /**
   * Draws `data`, then shows frame `showIndex` wherever it now stands (a live run's frames do not
   * all arrive in order: a frame reused or filled early sits before others), the same position
   * when it is not listed, or the last frame when `showLast`.
   */
  function render(showIndex, showLast) {
    positions = new Map(data.frames.map((f, position) => [f.index, position]));
    // A manifest is data from wherever the run came from: a section that cannot draw it says so
    // in the console, and the others are drawn all the same.
    for (
      const section of [renderHeader, renderSummary, renderIdentity, renderSpec, renderPictures]
    ) {
      try {
        section();
      } catch (error) {
        console.error(`report: ${section.name}: ${error}`);
      }
    }
    renderTable();
    const scrubber = $("scrubber");
    scrubber.max = String(Math.max(0, data.frames.length - 1));
    scrubber.disabled = data.frames.length === 0;
    $("viewer").hidden = data.frames.length === 0;
    $("empty").hidden = data.frames.length > 0;
    renderCharts();
    show(showLast ? data.frames.length - 1 : positionOf(showIndex));
    document.body.dataset.frames = String(data.frames.length);
    document.body.dataset.status = data.status;
  }

  $("scrubber").addEventListener("input", (e) => show(Number(e.target.value)));
  $("prev").addEventListener("click", () => show(current - 1));
  $("next").addEventListener("click", () => show(current + 1));
  document.addEventListener("keydown", (e) => {
    // The focused scrubber moves itself (its input event shows the frame); typing elsewhere in a
    // form field, or a shortcut with a modifier, is not ours either.
    const target = e.target;
    if (target === $("scrubber")) return;
    if (target instanceof HTMLElement && target.closest("input, textarea, select")) return;
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "ArrowLeft") show(current - 1);
    else if (e.key === "ArrowRight") show(current + 1);
    else if (e.key === "Home") show(0);
    else if (e.key === "End") show(data.frames.length - 1);
    else return;
    e.preventDefault();
  });
  let resizeTimer = 0;
  addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(resizeCharts, 100);
  });

  globalThis.fluidityReport = {
    /** Shows the frame at `position` (0-based in the list; clamped). */
    show,
    /** The position shown. */
    current: () => current,
    /** The data drawn (the latest poll's when live). */
    data: () => data,
    /** The uPlot charts drawn, in page order (for tests and the console). */
    charts: () => [...charts],
  };

  render();
  document.body.dataset.ready = "1";

  // ---- live updates (served by the viewer only) --------------------------------------------------
  if (options.live) {
    const pollMs = options.pollMs || 1000;
    const poll = async () => {
      if (data.status === "complete") return;
      try {
        const response = await fetch(options.live, { cache: "no-store" });
        if (response.ok) {
          const next = await response.json();
          if (next.updatedAt !== data.updatedAt || next.frames.length !== data.frames.length) {
            const shown = data.frames[current];
            const following = current === data.frames.length - 1;
            data = next;
            render(shown && shown.index, following);
          }
        }
      } catch {
        // The viewer was stopped or restarted: keep the page, try again.
      }
      setTimeout(poll, pollMs);
    };
    setTimeout(poll, pollMs);
  }
})();
