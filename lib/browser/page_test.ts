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

browserTest(
  "browser: waitFor polls until truthy, gives up at its deadline, and retries errors if asked",
  async (browser) => {
    const page = await browser.newPage();
    await page.goto("data:text/html,<p>waiting</p>");
    await page.evaluate("setTimeout(() => { window.flag = true }, 150)");
    assert.equal(await page.waitFor("window.flag", 5_000), true);

    // Bounds well under CDP's 15 s default call timeout, with room for a loaded CI machine.
    let started = Date.now();
    assert.equal(await page.waitFor("window.never", 300), false);
    const falsyMs = Date.now() - started;
    assert.ok(falsyMs >= 300 && falsyMs < 5_000, `false after ${falsyMs} ms`);
    // An evaluation that never settles is cut off at the deadline, not at CDP's 15 s default.
    started = Date.now();
    assert.equal(await page.waitFor("new Promise(() => {})", 300), false);
    const hungMs = Date.now() - started;
    assert.ok(hungMs >= 300 && hungMs < 5_000, `false after ${hungMs} ms`);

    const throwsUntilSet = "window.later ? 'done' : (() => { throw new Error('not yet') })()";
    await assert.rejects(page.waitFor(throwsUntilSet, 5_000), /threw: Error: not yet/);
    await page.evaluate("setTimeout(() => { window.later = true }, 150)");
    assert.equal(await page.waitFor(throwsUntilSet, 5_000, { retryErrors: true }), true);
    await assert.rejects(
      page.waitFor("window.missing.property", 200, { retryErrors: true }),
      /TypeError/,
      "the error at the deadline is thrown",
    );
  },
);

browserTest(
  "browser: contentRect scrolls the element into view and measures inside its border",
  async (browser) => {
    const page = await browser.newPage();
    await page.goto(
      "data:text/html,<body style='margin:0;height:3000px'><div id='d' style='position:absolute;" +
        "left:30px;top:2000px;width:50px;height:40px;border:3px solid red'></div></body>",
    );
    const rect = await page.contentRect("#d");
    // Scrolled so that the 46 px tall box is centred in the 600 px viewport.
    const scrollY = await page.evaluate<number>("scrollY");
    assert.equal(scrollY, 2000 + 23 - 300);
    assert.deepEqual(rect, { x: 33, y: 2003 - scrollY, width: 50, height: 40 });
    await assert.rejects(page.contentRect("#nothing"), /contentRect: no element matches #nothing/);
  },
);
