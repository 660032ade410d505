import assert from "node:assert/strict";
import { reportAssets } from "./assets.ts";
import type { ReportData } from "./data.ts";
import { embeddedJsonText } from "./_read_report.ts";
import { embedJson, escapeHtml, REPORT_CSP, reportHtml } from "./page.ts";

/** A small report: two frames, the second with a hostile label. */
function sampleData(label = "plain"): ReportData {
  const frame = (index: number) => ({
    index,
    t: index / 2,
    label: index === 1 ? label : undefined,
    color: [index / 2, 0, 1 - index / 2] as [number, number, number],
    meanColor: [0.2, 0.3, 0.4] as [number, number, number],
    src: `frames/${String(index).repeat(64)}.png`,
    sha256: String(index).repeat(64),
    width: 8,
    height: 8,
    distanceToPrevious: index === 0 ? null : 0.125,
  });
  const frames = [frame(0), frame(1)].map((f) => JSON.parse(JSON.stringify(f)));
  return {
    name: "sample",
    runId: "20260101T000000Z-abc",
    status: "complete",
    planned: 2,
    updatedAt: "2026-01-01T00:00:00.000Z",
    specHash: "a".repeat(64),
    spec: { name: "sample", frames: { count: 2 } },
    model: { spec: "tiny", sha256: { "unet.onnx": "b".repeat(64) } },
    runtime: {
      deno: "2.9.6",
      v8: "15",
      onnxruntime: "1.30.0",
      device: "cpu",
      threads: 2,
      os: "linux",
      arch: "x86_64",
      cpu: { model: "test cpu", cores: 2 },
    },
    summary: null,
    warnings: [],
    outputs: {
      contactSheet: "contact_sheet.png",
      pathPlot: "path_plot.png",
      grid: null,
      identityPlot: null,
      video: { src: "video.gif", type: "image/gif" },
    },
    embedder: null,
    pathLine: [[0, 0, 1], [1, 0, 0]],
    frames,
  };
}

/** The uPlot banner comment, the one web address the page holds (in a license comment). */
const UPLOT_BANNER = "/*! https://github.com/leeoniya/uPlot (v1.6.32) */";

Deno.test("reportHtml: the embedded data round-trips through JSON.parse", () => {
  const data = sampleData();
  const html = reportHtml(data);
  assert.deepEqual(JSON.parse(embeddedJsonText(html, "report-data")), data);
  assert.ok(html.startsWith("<!doctype html>\n"));
});

Deno.test("reportHtml: </script> and <!-- in a label cannot break out of the data element", () => {
  const hostile = '</script><script>alert("x")</script><!-- <img src=x onerror=alert(1)>';
  const data = sampleData(hostile);
  data.name = "<b>bold</b>";
  const html = reportHtml(data);
  assert.ok(!html.includes('alert("x")</script>'), "the label's </script> is escaped");
  assert.ok(!html.includes("<img src=x"));
  const text = embeddedJsonText(html, "report-data");
  assert.ok(text.includes("\\u003c/script>"));
  assert.equal(JSON.parse(text).frames[1].label, hostile);
  // Four script elements: data, options, uPlot, the page script; nothing else closes one.
  assert.equal(html.match(/<\/script>/g)!.length, 4);
  assert.equal(html.match(/<script[\s>]/g)!.length, 4);
  // The name is text in the title and heading, never markup.
  assert.ok(html.includes("<title>&lt;b&gt;bold&lt;/b&gt; · 20260101T000000Z-abc · fluidity"));
  assert.ok(html.includes('<h1 id="title">&lt;b&gt;bold&lt;/b&gt;</h1>'));
  assert.ok(!html.includes("<b>bold</b>"));
});

Deno.test("reportHtml: every asset is inlined and nothing is fetched from the network", () => {
  const html = reportHtml(sampleData());
  const assets = reportAssets();
  for (const [name, text] of Object.entries(assets)) {
    assert.ok(html.includes(text.trimEnd()), `${name} is inlined`);
  }
  assert.doesNotMatch(html, /<script[^>]*\ssrc=/i);
  assert.doesNotMatch(html, /<link[\s>]/i);
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
  assert.doesNotMatch(html, /@import|url\(\s*["']?(https?:)?\/\//i);
  // The only web address is uPlot's banner, a license comment.
  assert.equal(html.split(UPLOT_BANNER).length, 2);
  assert.doesNotMatch(html.replace(UPLOT_BANNER, ""), /https?:\/\//i);
  assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`));
  assert.match(REPORT_CSP, /default-src 'none'/);
  assert.doesNotMatch(REPORT_CSP, /\*|https?:/);
});

Deno.test("reportHtml: live options appear only when given, and are checked", () => {
  const still = reportHtml(sampleData());
  assert.equal(embeddedJsonText(still, "report-options"), "{}");
  assert.ok(!still.includes("/api/run"));
  const live = reportHtml(sampleData(), { live: "/api/run/x/data.json", pollMs: 500 });
  assert.deepEqual(JSON.parse(embeddedJsonText(live, "report-options")), {
    live: "/api/run/x/data.json",
    pollMs: 500,
  });
  assert.throws(() => reportHtml(sampleData(), { live: "" }), TypeError);
  assert.throws(() => reportHtml(sampleData(), { pollMs: 0 }), RangeError);
  assert.throws(() => reportHtml(sampleData(), { pollMs: NaN }), RangeError);
});

Deno.test("reportHtml: every element the page script looks up by id is in the skeleton, once", () => {
  const html = reportHtml(sampleData());
  const script = reportAssets().reportJs;
  const looked = new Set([...script.matchAll(/\$\("([\w-]+)"\)/g)].map((m) => m[1]));
  for (
    const id of [
      "frame-image",
      "scrubber",
      "charts",
      "path-canvas",
      "frames-table",
      "summary-table",
      "identity",
    ]
  ) {
    looked.add(id);
  }
  assert.ok(looked.size > 15, `${looked.size} ids`);
  for (const id of looked) {
    assert.equal(html.split(`id="${id}"`).length, 2, `#${id} exactly once`);
  }
  // #video is made by the script (a <video> or an <img>, whichever the run has).
  assert.match(script, /id: "video"/);
  // Every chart container is a .chart inside #charts.
  const charts = /<div id="charts">([\s\S]*?)<\/div>\n<\/section>/.exec(html)![1];
  assert.deepEqual(
    [...charts.matchAll(/<div id="([\w-]+)" class="chart"/g)].map((m) => m[1]),
    ["chart-color", "chart-distance", "chart-identity"],
  );
});

Deno.test("embedJson and escapeHtml", () => {
  assert.equal(embedJson({ a: "</script>" }), '{"a":"\\u003c/script>"}');
  assert.deepEqual(JSON.parse(embedJson({ a: "<<" })), { a: "<<" });
  // The same data built in another key order gives the same bytes, at any depth.
  assert.equal(
    embedJson({ b: 1, a: { d: [{ y: 2, x: 1 }], c: null } }),
    embedJson({ a: { c: null, d: [{ x: 1, y: 2 }] }, b: 1 }),
  );
  assert.equal(embedJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
  assert.equal(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
});
