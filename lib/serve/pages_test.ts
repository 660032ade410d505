import assert from "node:assert/strict";
import { comparePage, listPage } from "./pages.ts";

Deno.test("pages: the stable hooks the browser tests use, and nothing from the network", () => {
  const list = listPage();
  assert.match(list, /<table id="runs">/);
  for (const hook of ['class: "run"', 'class: "status', 'class: "progress', "dataset.ready"]) {
    assert.ok(list.includes(hook), hook);
  }
  assert.match(list, /fetch\("\/api\/runs"/);
  const compare = comparePage();
  assert.match(compare, /<table id="compare-table">/);
  for (
    const hook of [
      'class: "frame"',
      'class: "diff"',
      "dataset: { status: f.status",
      "dataset.ready",
    ]
  ) {
    assert.ok(compare.includes(hook), hook);
  }
  for (const page of [list, compare]) {
    assert.doesNotMatch(page, /https?:\/\//);
    assert.doesNotMatch(page, /innerHTML/);
  }
});
