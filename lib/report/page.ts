/**
 * The report page: one self-contained HTML document per run (`report.html`). Styles, uPlot and
 * the page script are inlined and the run's data is embedded as JSON, so the page opens from the
 * file system with no network; frames, pictures and the video are referenced by their paths
 * relative to the run folder, which is where the page lives.
 *
 * The markup is a fixed skeleton with stable element ids (for people and for browser tests):
 *
 * - `#frame-image` the current frame, `#scrubber` the range input (arrow keys, Home and End move
 *   it too), `#prev` / `#next`, `#caption` the current frame's numbers;
 * - `#path-canvas` the path in the RGB cube and its R–G, R–B, G–B projections, the current frame
 *   marked (its position in `data-x` / `data-y`, its index in `data-index`);
 * - `#charts` holding the uPlot charts, each a `.chart` (`#chart-color`, `#chart-distance`,
 *   `#chart-identity`, the last hidden until a frame has identity numbers);
 * - `#pictures` with `#video` (a `<video>` for mp4, an `<img>` for a GIF), `#path-plot`,
 *   `#identity-plot`, `#grid`, `#contact-sheet`;
 * - `#summary-table`, `#identity` (its section, hidden without identity) and `#identity-table`,
 *   `#model-table`, `#spec`, `#frames-table` (the table body, one `tr#frame-<index>` per frame);
 * - `#report-data` / `#report-options`, the embedded JSON.
 *
 * The script fills the skeleton (`document.body.dataset.ready = "1"` when drawn) and exposes
 * `window.fluidityReport = { show(position), current(), data() }`.
 *
 * The Content-Security-Policy allows no network at all except, for a page the viewer serves,
 * requests to its own origin: scripts and styles only inline, images and media from the page's
 * own origin or from `file:` URLs. `file:` is named explicitly because whether `'self'` covers
 * other files of a page opened from the file system differs between browsers; a scheme source
 * `file:` cannot reach the network.
 *
 * @module
 */

import { reportAssets } from "./assets.ts";
import type { ReportData } from "./data.ts";

/** How a served page stays up to date; a page written to a run folder has none. */
export interface ReportPageOptions {
  /** URL returning the run's current {@link ReportData} as JSON; the page polls it until complete. */
  live?: string;
  /** Milliseconds between polls; default 1000. */
  pollMs?: number;
}

/** The page's Content-Security-Policy (see the module comment for why each source is there). */
export const REPORT_CSP: string = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  "img-src 'self' file: data: blob:",
  "media-src 'self' file: data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/**
 * JSON for a `<script type="application/json">` element: object keys sorted, so the page's bytes
 * depend on the data and not on the order its objects were built in (a run's report made from
 * the manifest in memory equals one made from the file), and every `<` written `\u003c` (the
 * same value to JSON.parse), so no text in the data can close the element or open a comment.
 */
export function embedJson(value: unknown): string {
  return sortedJson(value).replace(/</g, "\\u003c");
}

/**
 * JSON with object keys sorted at every level: what a report page embeds and what the viewer's
 * `report.json` answers, so the page sees the same data in the same order from either. Unlike
 * `canonicalJson` (content keys) it never throws: a value without a JSON form is written as
 * `JSON.stringify` writes it.
 */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, sortKeys);
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/** Text for HTML element content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** The options as embedded: only those given, checked. */
function pageOptions(options: ReportPageOptions): ReportPageOptions {
  const out: ReportPageOptions = {};
  if (options.live !== undefined) {
    if (typeof options.live !== "string" || options.live === "") {
      throw new TypeError(`live must be a non-empty URL string, got ${String(options.live)}`);
    }
    out.live = options.live;
  }
  if (options.pollMs !== undefined) {
    if (!Number.isFinite(options.pollMs) || options.pollMs <= 0) {
      throw new RangeError(
        `pollMs must be a positive number of milliseconds, got ${options.pollMs}`,
      );
    }
    out.pollMs = options.pollMs;
  }
  return out;
}

/**
 * The complete HTML document of a run's report.
 * @throws {TypeError | RangeError} for a bad `live` or `pollMs`
 */
export function reportHtml(data: ReportData, options: ReportPageOptions = {}): string {
  const assets = reportAssets();
  const title = escapeHtml(`${data.name} · ${data.runId} · fluidity`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="generator" content="fluidity report">
<title>${title}</title>
<style>${assets.uplotCss}</style>
<style>${assets.reportCss}</style>
</head>
<body>
<header>
<h1 id="title">${escapeHtml(data.name)}</h1>
<span id="status" class="badge"></span>
<span id="progress" class="meta"></span>
<span class="meta">run <span id="run-id"></span>, updated <span id="updated"></span></span>
</header>
<noscript><p>This report draws itself with JavaScript; the frames are in the frames/ folder beside
it and the numbers in manifest.json.</p></noscript>
<section>
<h2>Frames along the path</h2>
<p id="empty" hidden>No frames yet.</p>
<div id="viewer">
<div class="controls">
<button id="prev" type="button" title="previous frame (←)">◀</button>
<input id="scrubber" type="range" min="0" max="0" step="1" value="0" aria-label="frame">
<button id="next" type="button" title="next frame (→)">▶</button>
</div>
<div class="columns">
<img id="frame-image" alt="" width="256" height="256">
<canvas id="path-canvas" width="750" height="240" aria-label="the path in the RGB cube"></canvas>
</div>
<p id="caption"></p>
</div>
</section>
<section>
<h2>Along the path</h2>
<div id="charts">
<div id="chart-color" class="chart"></div>
<div id="chart-distance" class="chart"></div>
<div id="chart-identity" class="chart" hidden></div>
</div>
</section>
<section>
<h2>Pictures</h2>
<div id="pictures"></div>
</section>
<section>
<h2>Summary</h2>
<table><tbody id="summary-table"></tbody></table>
</section>
<section id="identity" hidden>
<h2>Identity</h2>
<table><tbody id="identity-table"></tbody></table>
</section>
<section>
<h2>Spec and model</h2>
<table><tbody id="model-table"></tbody></table>
<details><summary>resolved spec</summary><pre id="spec"></pre></details>
</section>
<section>
<h2>Every frame</h2>
<div class="frames">
<table>
<thead><tr><th>#</th><th>frame</th><th>injected</th><th>mean</th><th>t</th><th>Δ previous</th><th>identity to reference</th><th>identity Δ previous</th><th>SHA-256</th></tr></thead>
<tbody id="frames-table"></tbody>
</table>
</div>
</section>
<script type="application/json" id="report-data">${embedJson(data)}</script>
<script type="application/json" id="report-options">${embedJson(pageOptions(options))}</script>
<script>
/* uPlot 1.6.32, inlined from the npm package uplot@1.6.32. Its license:

${assets.uplotLicense.trimEnd()}
*/
${assets.uplotJs}
</script>
<script>
${assets.reportJs}
</script>
</body>
</html>
`;
}
