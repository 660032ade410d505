import assert from "node:assert/strict";
import { browserTest } from "./testing.ts";

// Pixels, errors collected while loading, keys and clicks are tested on a full fixture page in
// chromium_test.ts; these need no server.

browserTest(
  "browser: evaluate awaits promises and throws with the exception's text",
  async (browser) => {
    const page = await browser.newPage();
    assert.equal(await page.evaluate("new Promise((r) => setTimeout(() => r(42), 10))"), 42);
    assert.equal(await page.evaluate("NaN"), NaN);
    assert.equal(await page.evaluate("undefined"), undefined);
    await assert.rejects(
      page.evaluate("(() => { throw new TypeError('no such frame') })()"),
      /evaluate .* threw: TypeError: no such frame/,
    );
    await assert.rejects(page.evaluate("Promise.reject(new Error('late'))"), /threw: Error: late/);
    await assert.rejects(
      page.evaluate("missingVariable"),
      /ReferenceError: missingVariable is not defined/,
    );
  },
);

browserTest(
  "browser: goto fails clearly on a missing file and on a waitFor that never holds",
  async (browser) => {
    const page = await browser.newPage();
    await assert.rejects(
      page.goto("file:///nonexistent/fluidity.html"),
      /goto file:\/\/\/nonexistent\/fluidity\.html: net::ERR_FILE_NOT_FOUND/,
    );
    await assert.rejects(
      page.goto("data:text/html,<script>console.error('why')</script>", {
        waitFor: "window.never",
        timeoutMs: 1500,
      }),
      (e: Error) =>
        /waitFor `window\.never` not truthy within 1500 ms/.test(e.message) &&
        /console error: why/.test(e.message),
    );
  },
);
