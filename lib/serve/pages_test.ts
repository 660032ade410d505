import assert from "node:assert/strict";
import { comparePage, listPage } from "./pages.ts";

// What the pages do is tested in Chromium (viewer_browser_test.ts, hostile_browser_test.ts);
// here only what a browser test would not notice: the pages name nothing on the network, and
// put no text into the document as markup.
Deno.test("pages: nothing from the network, no markup made from data", () => {
  for (const page of [listPage(), comparePage()]) {
    assert.doesNotMatch(page, /https?:\/\//);
    assert.doesNotMatch(page, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  }
});
