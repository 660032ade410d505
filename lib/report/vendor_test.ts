import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const VENDOR = fileURLToPath(new URL("./vendor/uplot/", import.meta.url));

/** The folder of the npm package `uplot` that deno.json pins (node_modules). */
function packageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("uplot/package.json"));
}

Deno.test("vendored uPlot is byte for byte the npm package uplot@1.6.32 that deno.json pins", async () => {
  const dir = packageDir();
  const pkg = JSON.parse(await Deno.readTextFile(join(dir, "package.json")));
  assert.equal(pkg.name, "uplot");
  assert.equal(pkg.version, "1.6.32");
  assert.equal(pkg.license, "MIT");
  const config = JSON.parse(
    await Deno.readTextFile(fileURLToPath(new URL("../../deno.json", import.meta.url))),
  );
  assert.equal(config.imports.uplot, "npm:uplot@1.6.32");
  for (
    const [vendored, published] of [
      ["uPlot.iife.min.js", "dist/uPlot.iife.min.js"],
      ["uPlot.min.css", "dist/uPlot.min.css"],
      ["LICENSE", "LICENSE"],
    ]
  ) {
    const ours = await Deno.readFile(join(VENDOR, vendored));
    const theirs = await Deno.readFile(join(dir, published));
    assert.ok(ours.length > 0, vendored);
    assert.deepEqual(ours, theirs, `${vendored} differs from node_modules/uplot/${published}`);
  }
  const license = await Deno.readTextFile(join(VENDOR, "LICENSE"));
  assert.match(license, /^The MIT License/m);
});
