import assert from "node:assert/strict";
import { reportAssets } from "./assets.ts";

Deno.test("reportAssets: every asset is read, non-empty, and cached", () => {
  const assets = reportAssets();
  assert.match(assets.uplotJs, /^\/\*! https:\/\/github\.com\/leeoniya\/uPlot \(v1\.6\.32\) \*\//);
  assert.match(assets.uplotJs, /var uPlot=/);
  assert.match(assets.uplotCss, /\.uplot/);
  assert.match(assets.uplotLicense, /Copyright \(c\) 2022 Leon Sorokin/);
  assert.match(assets.reportJs, /fluidityReport/);
  assert.match(assets.reportCss, /#frame-image/);
  assert.equal(reportAssets(), assets, "the same object: read once");
});
