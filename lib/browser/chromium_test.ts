import assert from "node:assert/strict";
import { encodePng } from "../render/png.ts";
import { encodeMp4 } from "../render/video.ts";
import { processStartTime } from "../util/lock.ts";
import { launchBrowser } from "./chromium.ts";
import { MISSING_CHROMIUM } from "./find.ts";
import type { Page } from "./page.ts";
import { colorDistance, decodeScreenshot, regionStats } from "./region.ts";
import { browserTest, chromiumTest } from "./testing.ts";

const BOX = { x: 10, y: 10, width: 100, height: 80 };
const BOX_RGB = [30, 144, 200] as const;
const CANVAS = { x: 150, y: 10, width: 120, height: 80 };
const IMG = { x: 300, y: 10, width: 40, height: 40 };
const IMG_RGB = [250, 200, 0] as const;

/** A page with a coloured div, a script-drawn canvas, a PNG, a 404 image and both error kinds. */
const PAGE = `<!doctype html>
<html><head><style>
  body { margin: 0; background: #fff; }
  #box { position: absolute; left: ${BOX.x}px; top: ${BOX.y}px; width: ${BOX.width}px;
         height: ${BOX.height}px; background: rgb(${BOX_RGB}); }
  #c { position: absolute; left: ${CANVAS.x}px; top: ${CANVAS.y}px; }
  #img { position: absolute; left: ${IMG.x}px; top: ${IMG.y}px; }
  #missing { position: absolute; left: 400px; top: 10px; }
</style></head><body>
<div id="box"></div>
<canvas id="c" width="${CANVAS.width}" height="${CANVAS.height}"></canvas>
<img id="img" src="dot.png" width="${IMG.width}" height="${IMG.height}">
<img id="missing" src="missing.png" width="10" height="10">
<script>
  const ctx = document.getElementById("c").getContext("2d");
  ctx.fillStyle = "#e03c31"; ctx.fillRect(0, 0, 60, 80);
  ctx.fillStyle = "#22aa44"; ctx.beginPath(); ctx.arc(90, 40, 25, 0, 7); ctx.fill();
  window.keys = [];
  addEventListener("keydown", (e) => keys.push(e.key));
  window.clicks = 0;
  document.getElementById("box").addEventListener("click", () => clicks++);
  console.error("x");
  window.ready = true;
</script>
<script>throw new Error("boom from page");</script>
</body></html>`;

const READY = "window.ready && document.getElementById('img').complete && " +
  "document.getElementById('img').naturalWidth > 0";

async function dotPng(): Promise<Uint8Array> {
  const rgba = new Uint8Array(8 * 8 * 4);
  for (let i = 0; i < rgba.length; i += 4) rgba.set([...IMG_RGB, 255], i);
  return await encodePng(rgba, 8, 8);
}

/** Serves {@link PAGE}, dot.png and the MP4 at `mp4Path` on 127.0.0.1; the rest is 404. */
async function servePage(mp4Path?: string) {
  const png = await dotPng();
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/") return new Response(PAGE, { headers: { "content-type": "text/html" } });
    if (path === "/dot.png") {
      return new Response(new Uint8Array(png), { headers: { "content-type": "image/png" } });
    }
    if (path === "/clip.mp4" && mp4Path) {
      return Deno.readFile(mp4Path).then((b) =>
        new Response(b, { headers: { "content-type": "video/mp4" } })
      );
    }
    return new Response("not found", { status: 404 });
  });
}

/** Asserts what every fixture load shows: errors collected with text and URLs, pixels right. */
async function assertFixture(page: Page, origin: string, missingError: RegExp): Promise<void> {
  assert.equal(await page.evaluate("document.title.length + 2"), 2);
  assert.deepEqual(await page.evaluate("({ a: [1, 'b'], n: null })"), { a: [1, "b"], n: null });
  assert.ok(page.consoleErrors.some((e) => e.startsWith("x")), page.consoleErrors.join("\n"));
  assert.ok(
    page.pageErrors.some((e) => e.includes("Error: boom from page")),
    page.pageErrors.join("\n"),
  );
  const missing = `${origin}/missing.png`;
  const failed = page.failedRequests.find((r) => r.url === missing);
  assert.ok(failed, `no failed request for ${missing}: ${JSON.stringify(page.failedRequests)}`);
  assert.match(failed.error, missingError);
  assert.ok(page.requests.includes(`${origin}/dot.png`), page.requests.join("\n"));
  for (const url of page.requests) {
    assert.ok(url.startsWith(origin + "/"), `request outside the page's origin: ${url}`);
  }

  const shot = await decodeScreenshot(await page.screenshot());
  assert.deepEqual([shot.width, shot.height], [800, 600]);
  const box = regionStats(shot, BOX);
  assert.ok(colorDistance(box.mean, BOX_RGB) <= 2, `div mean ${box.mean} vs ${BOX_RGB}`);
  assert.equal(box.nonBackgroundFraction, 0);
  const canvas = regionStats(shot, CANVAS, { background: [255, 255, 255] });
  assert.ok(canvas.nonBackgroundFraction > 0.5, `canvas looks blank: ${JSON.stringify(canvas)}`);
  assert.ok(canvas.distinctColors >= 3, `canvas has ${canvas.distinctColors} colours`);
  const img = regionStats(shot, IMG);
  assert.ok(colorDistance(img.mean, IMG_RGB) <= 2, `img mean ${img.mean} vs ${IMG_RGB}`);
  const blank = regionStats(shot, { x: 500, y: 300, width: 100, height: 100 });
  assert.deepEqual([blank.distinctColors, blank.background], [1, [255, 255, 255]]);

  const clipped = await decodeScreenshot(await page.screenshot({ clip: BOX }));
  assert.deepEqual([clipped.width, clipped.height], [BOX.width, BOX.height]);
  assert.ok(colorDistance(regionStats(clipped, { ...BOX, x: 0, y: 0 }).mean, BOX_RGB) <= 2);
}

browserTest(
  "browser: an http://127.0.0.1 page loads, reports its errors and renders",
  async (browser) => {
    await using server = await servePage();
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const page = await browser.newPage();
    await page.goto(`${origin}/`, { waitFor: READY });
    await assertFixture(page, origin, /^HTTP 404$/);
    assert.ok(
      page.consoleErrors.some((e) => e.includes("404") && e.includes(`${origin}/missing.png`)),
    );
  },
);

browserTest(
  "browser: a file:// page loads, and its missing file is a failed request",
  async (browser) => {
    const dir = await Deno.makeTempDir({ prefix: "fluidity-page-" });
    try {
      await Deno.writeTextFile(`${dir}/index.html`, PAGE);
      await Deno.writeFile(`${dir}/dot.png`, await dotPng());
      const page = await browser.newPage();
      await page.goto(`file://${dir}/index.html`, { waitFor: READY });
      await assertFixture(page, `file://${dir}`, /ERR_FILE_NOT_FOUND/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

browserTest(
  "browser: key presses and clicks reach the page; setViewport resizes screenshots",
  async (browser) => {
    await using server = await servePage();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.addr.port}/`, { waitFor: READY });
    await page.press("ArrowRight");
    await page.press("ArrowLeft");
    await page.press("a");
    assert.deepEqual(await page.evaluate("keys"), ["ArrowRight", "ArrowLeft", "a"]);
    await page.click("#box");
    assert.equal(await page.evaluate("clicks"), 1);
    await assert.rejects(page.click("#nothing"), /click: no element matches #nothing/);
    await page.setViewport(320, 200);
    const shot = await decodeScreenshot(await page.screenshot());
    assert.deepEqual([shot.width, shot.height], [320, 200]);
  },
);

/** Pids of `pid`'s descendants, from /proc (Linux). */
async function descendants(pid: number): Promise<number[]> {
  const parent = new Map<number, number>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      parent.set(Number(entry.name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch { /* exited meanwhile */ }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, ppid] of parent) if (ppid === p) queue.push(child), found.push(child);
  }
  return found;
}

/** A process as first seen: its pid and its start time, which tell it from a later one. */
interface SeenProcess {
  pid: number;
  start: string;
}

/** `pids` with their start times; one that already ended is left out. */
function seen(pids: readonly number[]): SeenProcess[] {
  return pids.flatMap((pid) => {
    const start = processStartTime(pid);
    return start === null ? [] : [{ pid, start }];
  });
}

/**
 * Waits up to `timeoutMs` for `seenProcess` to end; true when it did. It has ended when its pid
 * runs nothing (a zombie left for an init that does not reap counts as ended) or a process that
 * started at another time: under `deno test --parallel` another test's process may get the pid.
 */
async function ended(seenProcess: SeenProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (processStartTime(seenProcess.pid) !== seenProcess.start) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Names in `dir`. */
async function entries(dir: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names;
}

chromiumTest(
  "launchBrowser: close() ends Chromium and its helpers and removes the profile",
  async (executable) => {
    // A parent of our own: other tests' browsers (deno test --parallel) have profiles too.
    const parent = await Deno.makeTempDir({ prefix: "fluidity-profiles-" });
    try {
      const t0 = performance.now();
      const browser = await launchBrowser({ executable, profileParent: parent });
      try {
        const launched = performance.now();
        assert.ok(browser.profileDir.startsWith(`${parent}/`), browser.profileDir);
        const page = await browser.newPage();
        await page.goto("data:text/html,<p>hello</p>");
        assert.equal(await page.evaluate("document.querySelector('p').textContent"), "hello");
        const loaded = performance.now();
        const version = await browser.version();
        assert.match(version, /Chrome\/\d+/);
        // Which browser find.ts chose, and its version, once in the log (.ci/run does not say).
        console.log(`browser tests launch ${executable} (${version})`);
        const processes = seen([browser.pid, ...await descendants(browser.pid)]);
        const pids = processes.map((p) => p.pid);
        assert.ok(pids.length > 1, "expected Chromium helper processes");
        const pssKb = (await Promise.all(pids.map(async (p) => {
          // PSS shares pages among the processes that map them, so the sum is the tree's cost.
          const rollup = await Deno.readTextFile(`/proc/${p}/smaps_rollup`).catch(() => "");
          return Number(rollup.match(/^Pss:\s+(\d+)/m)?.[1] ?? 0);
        }))).reduce((a, b) => a + b, 0);
        assert.ok((await Deno.stat(browser.profileDir)).isDirectory);
        await browser.close();
        const closed = performance.now();
        console.log(
          `launch ${(launched - t0).toFixed(0)} ms, first page ${(loaded - launched).toFixed(0)} ` +
            `ms, close ${(closed - loaded).toFixed(0)} ms; ${pids.length} processes, PSS sum ${
              (pssKb / 1024).toFixed(0)
            } MB`,
        );
        // close() waits for the browser process; its helpers may take a moment longer to go.
        const gone = await Promise.all(processes.map((p) => ended(p, 2_000)));
        const left = processes.filter((_, i) => !gone[i]);
        assert.deepEqual(left, [], "Chromium processes still running 2 s after close()");
        await assert.rejects(Deno.stat(browser.profileDir), Deno.errors.NotFound);
        assert.deepEqual(await entries(parent), [], "the profile parent is empty after close");
        await browser.close(); // idempotent
        await assert.rejects(page.evaluate("1"), /CDP Runtime\.evaluate: connection closed/);
      } finally {
        // A failed assertion above must not leave Chromium running or its profile behind.
        await browser.close();
      }
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
);

Deno.test("launchBrowser: a browser that dies or stays silent is an error with its stderr", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fluidity-fake-chromium-" });
  try {
    // The failed launches' profiles go here, so only ours are counted.
    const profileParent = `${dir}/profiles`;
    await Deno.mkdir(profileParent);
    await Deno.writeTextFile(`${dir}/dies`, "#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n");
    await Deno.writeTextFile(`${dir}/silent`, "#!/bin/sh\necho 'starting' >&2\nexec sleep 30\n");
    await Deno.chmod(`${dir}/dies`, 0o755);
    await Deno.chmod(`${dir}/silent`, 0o755);
    await assert.rejects(
      launchBrowser({ executable: `${dir}/dies`, profileParent }),
      (e: Error) => /exited with code 3/.test(e.message) && /cannot open display/.test(e.message),
    );
    await assert.rejects(
      launchBrowser({ executable: `${dir}/silent`, launchTimeoutMs: 300, profileParent }),
      (e: Error) =>
        /no DevTools address within 300 ms/.test(e.message) && /starting/.test(e.message),
    );
    await assert.rejects(
      launchBrowser({ executable: `${dir}/absent`, profileParent }),
      /cannot start .*absent/,
    );
    // An empty executable is none (as an empty CHROMIUM is): the one install message.
    await assert.rejects(launchBrowser({ executable: "", profileParent }), (e: Error) => {
      assert.equal(e.message, MISSING_CHROMIUM);
      return true;
    });
    assert.deepEqual(await entries(profileParent), [], "profiles left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

browserTest("browser: Debian's Chromium plays the project's H.264 MP4s", async (browser) => {
  const dir = await Deno.makeTempDir({ prefix: "fluidity-mp4-" });
  try {
    const rgba = new Uint8Array(64 * 64 * 4);
    for (let i = 0; i < rgba.length; i += 4) rgba.set([200, 40, 120, 255], i);
    await encodeMp4([rgba, rgba, rgba, rgba], 64, 64, { fps: 4, out: `${dir}/clip.mp4` });
    await using server = await servePage(`${dir}/clip.mp4`);
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.addr.port}/`, { waitFor: READY });
    const answer = await page.evaluate<string>(
      `document.createElement("video").canPlayType('video/mp4; codecs="avc1.42E01E"')`,
    );
    console.log(`canPlayType(avc1.42E01E) = "${answer}"`);
    assert.equal(answer, "probably");
    // `loadeddata` says a frame is decoded, not that it has reached the canvas: on a CI run of the
    // whole suite (2 shared cores) drawImage right after it gave black once, and here 1 of 8
    // loaded runs needed a second draw. So the clip plays (muted, in the page) and the page draws every 50 ms
    // until a painted, non-black pixel arrives or 10 s pass; the colour is then checked as it came.
    const pixel = await page.evaluate<number[]>(`new Promise((resolve, reject) => {
      const v = document.createElement("video");
      v.muted = true;
      v.loop = true;
      document.body.append(v);
      const c = document.createElement("canvas");
      const started = performance.now();
      let draws = 0;
      v.onerror = () => reject(new Error("video error " + v.error?.code + " " + v.error?.message));
      v.onloadeddata = () => {
        v.play().catch(reject);
        const sample = () => {
          c.width = v.videoWidth; c.height = v.videoHeight;
          const g = c.getContext("2d", { willReadFrequently: true });
          g.drawImage(v, 0, 0);
          draws += 1;
          const [r, gr, b, a] = g.getImageData(32, 32, 1, 1).data;
          const waited = Math.round(performance.now() - started);
          const seen = [v.videoWidth, v.videoHeight, r, gr, b, a, waited, draws];
          if ((a > 0 && r + gr + b > 0) || waited > 10000) resolve(seen);
          else setTimeout(sample, 50);
        };
        sample();
      };
      v.src = "/clip.mp4";
    })`);
    console.log(`painted after ${pixel[6]} ms, at draw ${pixel[7]}`);
    assert.deepEqual(pixel.slice(0, 2), [64, 64]);
    assert.equal(pixel[5], 255, `no frame painted within 10 s: ${pixel}`);
    assert.ok(
      colorDistance(pixel.slice(2, 5) as [number, number, number], [200, 40, 120]) <= 6,
      `width, height, r, g, b, a, ms, draws: ${pixel}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
