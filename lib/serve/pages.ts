/**
 * The viewer's own pages: the run list and the comparison of two runs. Plain HTML with inline
 * script and style, no build step and nothing from the network; they draw from the JSON
 * endpoints, with DOM calls only (never `innerHTML` of data), since run names and manifest
 * fields are text written by whoever made the run.
 *
 * Stable hooks for browser tests: list page `#runs`, rows `tr.run[data-run]` with `.status`
 * and `.progress`; compare page `#compare-table`, rows `tr.frame[data-status]`, `img.diff`;
 * `document.body.dataset.ready = "1"` once drawn.
 *
 * @module
 */

/** How often the list page asks for the runs again, milliseconds. */
export const LIST_POLL_MS = 2000;

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.invalid td { color: #a00; }
.status-complete { color: #070; } .status-running { color: #06c; }
.status-failed, .status-interrupted { color: #a00; }
tr.frame[data-status="different"], tr.frame[data-status^="missing"],
tr.frame[data-status="unreadable"] { background: #fee; }
img.frame, img.diff { width: 96px; height: 96px; image-rendering: pixelated; background: #eee; }
#error { color: #a00; }
`;

function page(title: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
<script>
"use strict";
${script}
</script>
</body>
</html>
`;
}

/** Shared browser helpers: element creation, number formatting, run URLs. */
const HELPERS = `
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c === null || c === undefined ? "" : c);
  return node;
};
const fmt = (x, digits) => x === null || x === undefined ? "—" : Number(x).toFixed(digits);
const runUrl = (path, file) =>
  "/runs/" + [...path.split("/"), ...file.split("/")].map(encodeURIComponent).join("/");
`;

const LIST_SCRIPT = `${HELPERS}
const picked = new Set();
const button = document.getElementById("compare-button");
const updateButton = () => {
  button.disabled = picked.size !== 2;
  button.textContent = picked.size === 2 ? "Compare the two runs" : "Pick two runs to compare";
};
button.addEventListener("click", () => {
  const [a, b] = [...picked];
  location.href = "/compare?" + new URLSearchParams({ a, b });
});

function row(run) {
  const box = el("input", { type: "checkbox", class: "pick", "aria-label": "pick " + run.path });
  box.checked = picked.has(run.path);
  box.disabled = !run.valid;
  box.addEventListener("change", () => {
    if (box.checked) picked.add(run.path); else picked.delete(run.path);
    updateButton();
  });
  if (!run.valid) {
    return el("tr", { class: "run invalid", dataset: { run: run.path } },
      el("td", {}, box), el("td", {}, run.path), el("td"),
      el("td", { class: "status" }, "invalid: " + run.reason),
      el("td", { class: "progress" }), el("td"), el("td"), el("td"), el("td"));
  }
  const c = run.correlation;
  const id = run.identity;
  return el("tr", { class: "run", dataset: { run: run.path, status: run.status } },
    el("td", {}, box),
    el("td", {}, el("a", { href: runUrl(run.path, "report.html") }, run.name), el("br"),
      el("small", {}, run.path)),
    el("td", {}, run.runId),
    el("td", { class: "status status-" + run.status },
      run.status + (run.error ? ": " + run.error : "")),
    el("td", { class: "progress num" }, run.frames + " / " + run.planned),
    el("td", { class: "num" }, c ? [c.r, c.g, c.b].map((v) => fmt(v, 3)).join(" ") : "—"),
    el("td", { class: "num" },
      run.largestJump ? fmt(run.largestJump.value, 4) + " @" + run.largestJump.index : "—"),
    el("td", { class: "num" }, id
      ? "mean " + fmt(id.meanToReference, 3) + ", path " + fmt(id.pathLength, 3) + ", " +
        id.framesAboveThreshold + " ≥ " + id.threshold
      : "—"),
    el("td", {}, run.updatedAt));
}

async function refresh() {
  try {
    const response = await fetch("/api/runs", { cache: "no-store" });
    if (!response.ok) throw new Error(response.status + " " + response.statusText);
    const data = await response.json();
    const paths = new Set(data.runs.map((r) => r.path));
    for (const p of [...picked]) if (!paths.has(p)) picked.delete(p);
    document.querySelector("#runs tbody").replaceChildren(...data.runs.map(row));
    document.getElementById("empty").hidden = data.runs.length > 0;
    document.getElementById("error").textContent = "";
    updateButton();
  } catch (e) {
    document.getElementById("error").textContent = "cannot reach the viewer: " + e.message;
  }
  document.body.dataset.ready = "1";
  setTimeout(refresh, ${LIST_POLL_MS});
}
refresh();
`;

/** The run list page (`/`). */
export function listPage(): string {
  return page(
    "fluidity runs",
    `<h1>Runs</h1>
<p><button id="compare-button" type="button" disabled>Pick two runs to compare</button>
<span id="error"></span></p>
<table id="runs">
<thead><tr><th></th><th>name</th><th>run id</th><th>status</th><th>frames</th>
<th>colour correlation r g b</th><th>largest jump</th><th>identity</th><th>updated</th></tr></thead>
<tbody></tbody>
</table>
<p id="empty" hidden>No runs (no manifest.json) in this results folder yet.</p>`,
    LIST_SCRIPT,
  );
}

const COMPARE_SCRIPT = `${HELPERS}
const params = new URLSearchParams(location.search);
const [a, b] = [params.get("a") || "", params.get("b") || ""];
document.getElementById("run-a").textContent = a;
document.getElementById("run-b").textContent = b;
const done = () => { document.body.dataset.ready = "1"; };

function frameImage(path, side) {
  return side
    ? el("img", { class: "frame", src: runUrl(path, side.file), alt: side.file, loading: "lazy" })
    : "—";
}

function frameRow(f) {
  const images = [];
  // Identical frames (same hash) have a blank diff, unreadable ones none: not drawn for nothing.
  const drawn = f.a && f.b && f.status !== "identical" && f.status !== "unreadable";
  const diff = drawn
    ? el("img", {
      class: "diff",
      alt: "diff of frame " + f.index,
      loading: "lazy",
      src: "/api/compare/diff.png?" + new URLSearchParams({ a, b, frame: String(f.index) }),
    })
    : f.status === "identical" ? "same" : "—";
  if (drawn) images.push(diff);
  const row = el("tr", { class: "frame", dataset: { status: f.status, index: String(f.index) } },
    el("td", { class: "num" }, String(f.index)),
    el("td", { class: "status" }, f.status),
    el("td", { class: "num max-diff" }, f.maxAbsDiff === null ? "—" : String(f.maxAbsDiff)),
    el("td", { class: "num psnr" }, f.status === "identical" ? "∞" : fmt(f.psnr, 2)),
    el("td", { class: "num ssim" }, fmt(f.ssim, 5)),
    el("td", { class: "num" }, f.differingPixels === null ? "—"
      : f.differingPixels + " (" + fmt(f.differingShare * 100, 2) + " %)"),
    el("td", { class: "num identity" }, fmt(f.identityDistance, 4)),
    el("td", {}, frameImage(a, f.a)),
    el("td", {}, frameImage(b, f.b)),
    el("td", {}, diff),
    el("td", {}, [...f.reasons, ...f.warnings].join("; ")));
  return { row, images };
}

function diffList(title, lines) {
  return el("div", {}, el("h3", {}, title + ": " + (lines.length ? lines.length + " difference(s)" : "same")),
    el("ul", {}, ...lines.map((line) => el("li", {}, line))));
}

async function load() {
  try {
    const response = await fetch("/api/compare?" + new URLSearchParams({ a, b }), { cache: "no-store" });
    if (!response.ok) throw new Error((await response.text()).trim());
    const data = await response.json();
    const c = data.comparison;
    document.getElementById("verdict").textContent = (c.ok ? "OK" : "FAIL") + ": " +
      c.frames.length + " frame(s); " + Object.entries(c.counts).filter(([, n]) => n > 0)
        .map(([s, n]) => n + " " + s).join(", ");
    document.getElementById("identity-note").textContent = c.identity ? c.identity.note : "";
    const rows = c.frames.map(frameRow);
    document.querySelector("#compare-table tbody").replaceChildren(...rows.map((r) => r.row));
    document.getElementById("diffs").replaceChildren(
      diffList("spec", data.diffText.spec),
      diffList("model", data.diffText.model),
      diffList("runtime", data.diffText.runtime));
    // Ready once the diff pictures in view have loaded; the others load as they scroll in.
    const images = rows.flatMap((r) => r.images)
      .filter((img) => img.getBoundingClientRect().top < innerHeight);
    await Promise.all(images.map((img) => img.complete ? null : new Promise((resolve) => {
      img.addEventListener("load", resolve, { once: true });
      img.addEventListener("error", resolve, { once: true });
    })));
  } catch (e) {
    document.getElementById("error").textContent = "cannot compare: " + e.message;
  }
  done();
}
load();
`;

/** The comparison page (`/compare?a=<run path>&b=<run path>`). */
export function comparePage(): string {
  return page(
    "fluidity: compare runs",
    `<p><a href="/">← runs</a></p>
<h1>Compare</h1>
<p>A: <code id="run-a"></code><br>B: <code id="run-b"></code></p>
<p id="verdict"></p><p id="error"></p><p id="identity-note"></p>
<table id="compare-table">
<thead><tr><th>frame</th><th>status</th><th>max |Δ|</th><th>PSNR dB</th><th>SSIM</th>
<th>differing px</th><th>identity</th><th>A</th><th>B</th><th>diff</th><th>notes</th></tr></thead>
<tbody></tbody>
</table>
<h2>Manifest differences</h2>
<div id="diffs"></div>`,
    COMPARE_SCRIPT,
  );
}
