import assert from "node:assert/strict";
import { join } from "node:path";
import { compareImages } from "../compare/images.ts";
import { compareRuns } from "../compare/manifest_diff.ts";
import { openRun } from "../compare/run_folder.ts";
import { decodePng } from "../render/png.ts";
import { editManifest, makeTestResults, type TestResults, VIDEO_BYTES } from "./_test_util.ts";
import { createHandler, serveResults } from "./server.ts";
import { type ReportData, reportData } from "../report/data.ts";
import { embeddedJsonText } from "../report/_read_report.ts";
import { treeDigest } from "../util/_test_tree.ts";
import { REPORT_CSP } from "../report/page.ts";
import type { RunEntry } from "./runs.ts";

function embedded(html: string, id: string): Record<string, unknown> {
  return JSON.parse(embeddedJsonText(html, id));
}

async function withResults(fn: (r: TestResults, get: Getter) => Promise<void>): Promise<void> {
  const results = await makeTestResults();
  try {
    const handler = createHandler(results.root, { pollMs: 500 });
    const get: Getter = (path, init) => handler(new Request(`http://127.0.0.1:8317${path}`, init));
    await fn(results, get);
  } finally {
    await Deno.remove(results.root, { recursive: true });
  }
}

type Getter = (path: string, init?: RequestInit) => Promise<Response>;

async function runs(get: Getter): Promise<Map<string, RunEntry>> {
  const response = await get("/api/runs");
  assert.equal(response.status, 200);
  const body = await response.json() as { runs: RunEntry[] };
  return new Map(body.runs.map((r) => [r.path, r]));
}

Deno.test("serve: methods other than GET and HEAD get 405 with Allow", async () => {
  await withResults(async (_, get) => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const response = await get("/", { method });
      await response.body?.cancel();
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get("allow"), "GET, HEAD");
    }
  });
});

Deno.test("serve: the run list holds a complete run, a running one and an invalid manifest", async () => {
  await withResults(async (r, get) => {
    const list = await runs(get);
    assert.deepEqual([...list.keys()], [r.invalid, r.complete, r.other, r.running]);
    const complete = list.get(r.complete)!;
    assert.ok(complete.valid);
    assert.equal(complete.status, "complete");
    assert.equal(complete.name, "test");
    assert.equal(complete.runId, "test");
    assert.deepEqual([complete.frames, complete.planned], [3, 3]);
    assert.deepEqual(complete.correlation, { r: 0.5, g: 0.25, b: null });
    assert.deepEqual(complete.largestJump, { index: 2, value: 0.125 });
    assert.equal(complete.identity, null);
    const running = list.get(r.running)!;
    assert.ok(running.valid);
    assert.equal(running.status, "running");
    assert.deepEqual([running.frames, running.planned], [2, 5]);
    assert.equal(running.correlation, null);
    const invalid = list.get(r.invalid)!;
    assert.ok(!invalid.valid);
    assert.match(invalid.reason, /^broken\/run\/manifest\.json is damaged/);
    // The server's own paths stay private.
    assert.ok(!invalid.reason.includes(r.root), invalid.reason);
  });
});

Deno.test("serve: a running run's JSON follows its manifest between two requests (live)", async () => {
  await withResults(async (r, get) => {
    const url = `/runs/${r.running}/report.json`;
    const before = await (await get(url)).json();
    assert.deepEqual([before.status, before.frames.length, before.planned], ["running", 2, 5]);
    await editManifest(join(r.root, r.running), (m) => {
      const frames = m.frames as { index: number }[];
      frames.push({ ...frames[1], index: 2 });
      m.status = "complete";
      m.updatedAt = "2025-01-01T00:01:00.000Z";
    });
    const after = await (await get(url)).json();
    assert.deepEqual([after.status, after.frames.length, after.updatedAt], [
      "complete",
      3,
      "2025-01-01T00:01:00.000Z",
    ]);
    const listed = (await runs(get)).get(r.running)!;
    assert.ok(listed.valid && listed.status === "complete" && listed.frames === 3);
  });
});

Deno.test("serve: the report page is rendered from the current manifest with a live URL inside the run folder", async () => {
  await withResults(async (r, get) => {
    const response = await get(`/runs/${r.running}/report.html`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(response.headers.get("content-security-policy"), REPORT_CSP);
    const html = await response.text();
    assert.deepEqual(embedded(html, "report-options"), { live: "report.json", pollMs: 500 });
    const data = embedded(html, "report-data") as unknown as ReportData;
    assert.deepEqual(data, reportData((await openRun(join(r.root, r.running))).manifest));
    assert.equal(data.frames.length, 2);
    // What the page polls is the data it embeds, keys in the same (sorted) order: the page
    // compares the two as text to tell whether its pictures changed.
    const polled = await (await get(`/runs/${r.running}/report.json`)).text();
    assert.equal(polled, JSON.stringify(data));
    // Relative to /runs/<run>/report.html, the page's frames/… references are the run's files.
    const src = data.frames[0].src;
    const frame = await get(new URL(src, `http://x/runs/${r.running}/report.html`).pathname);
    assert.equal(frame.status, 200);
    assert.equal(frame.headers.get("content-type"), "image/png");
    await frame.body?.cancel();

    const redirect = await get(`/runs/${r.running}/`);
    await redirect.body?.cancel();
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("location"), `/runs/${r.running}/report.html`);
  });
});

Deno.test("serve: content types and nosniff on pages, JSON, frames, manifest and video", async () => {
  await withResults(async (r, get) => {
    const frame = r.completeManifest.frames[0].file;
    const expected: [string, string][] = [
      ["/", "text/html; charset=utf-8"],
      [`/compare?a=${r.complete}&b=${r.other}`, "text/html; charset=utf-8"],
      ["/api/runs", "application/json; charset=utf-8"],
      [`/runs/${r.complete}/${frame}`, "image/png"],
      [`/runs/${r.complete}/manifest.json`, "application/json; charset=utf-8"],
      [`/runs/${r.complete}/video.mp4`, "video/mp4"],
      [`/runs/${r.complete}/report.html`, "text/html; charset=utf-8"],
      [`/runs/${r.complete}/report.json`, "application/json; charset=utf-8"],
    ];
    for (const [path, type] of expected) {
      const response = await get(path);
      await response.body?.cancel();
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get("content-type"), type, path);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
    }
    const frameBytes = new Uint8Array(
      await (await get(`/runs/${r.complete}/${frame}`)).arrayBuffer(),
    );
    assert.deepEqual(frameBytes, await Deno.readFile(join(r.root, r.complete, frame)));
  });
});

Deno.test("serve: Range requests on the video: 206 with the bytes, suffix ranges, 416 outside", async () => {
  await withResults(async (r, get) => {
    const url = `/runs/${r.complete}/video.mp4`;
    const whole = await get(url);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("accept-ranges"), "bytes");
    assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), VIDEO_BYTES);

    const part = await get(url, { headers: { Range: "bytes=10-19" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), "bytes 10-19/1000");
    assert.equal(part.headers.get("content-length"), "10");
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), VIDEO_BYTES.slice(10, 20));

    const open = await get(url, { headers: { Range: "bytes=990-" } });
    assert.equal(open.status, 206);
    assert.deepEqual(new Uint8Array(await open.arrayBuffer()), VIDEO_BYTES.slice(990));

    const suffix = await get(url, { headers: { Range: "bytes=-5" } });
    assert.equal(suffix.status, 206);
    assert.equal(suffix.headers.get("content-range"), "bytes 995-999/1000");
    assert.deepEqual(new Uint8Array(await suffix.arrayBuffer()), VIDEO_BYTES.slice(995));

    const outside = await get(url, { headers: { Range: "bytes=1000-" } });
    await outside.body?.cancel();
    assert.equal(outside.status, 416);
    assert.equal(outside.headers.get("content-range"), "bytes */1000");

    const head = await get(url, { method: "HEAD", headers: { Range: "bytes=0-1" } });
    assert.equal(head.status, 206);
    assert.equal(head.headers.get("content-length"), "2");
    assert.equal(head.body, null);
  });
});

Deno.test("serve: only files the manifest references: no lock, temp or stray file, no folder", async () => {
  await withResults(async (r, get) => {
    // A real picture in the run's frames folder that the manifest does not list.
    const listed = join(r.root, r.complete, r.completeManifest.frames[0].file);
    await Deno.copyFile(listed, join(r.root, r.complete, "frames", "stray.png"));
    for (
      const path of [
        `/runs/${r.complete}/frames/stray.png`,
        `/runs/${r.complete}/notes.txt`,
        `/runs/${r.complete}/frames`,
        `/runs/${r.complete}/frames/${"0".repeat(64)}.png`,
        `/runs/exp`,
        `/runs/exp/`,
        "/runs/nowhere/x.png",
        "/elsewhere",
      ]
    ) {
      const response = await get(path);
      await response.body?.cancel();
      assert.equal(response.status, 404, path);
    }
    // Hidden names (the lock, temporary files) are refused before any folder is looked at.
    for (const path of [`/runs/${r.complete}/.lock`, `/runs/${r.complete}/.manifest.json.tmp`]) {
      const response = await get(path);
      await response.body?.cancel();
      assert.equal(response.status, 400, path);
    }
    // A damaged manifest: nothing of its folder is served, and the answer says why.
    const damaged = await get(`/runs/${r.invalid}/manifest.json`);
    assert.equal(damaged.status, 422);
    assert.match(await damaged.text(), /broken\/run\/manifest\.json is damaged/);
  });
});

Deno.test("serve: encoded slashes, backslashes and NUL are refused with 400", async () => {
  await withResults(async (r, get) => {
    const frame = r.completeManifest.frames[0].file;
    for (
      const path of [
        `/runs/${r.complete.replace("/", "%2F")}/${frame}`,
        `/runs/${r.complete}/frames%2f${frame.slice(7)}`,
        `/runs/${r.complete}/frames%5C${frame.slice(7)}`,
        `/runs/${r.complete}/${frame}%00.png`,
        `/runs//etc/passwd`,
      ]
    ) {
      const response = await get(path);
      await response.body?.cancel();
      assert.equal(response.status, 400, path);
    }
  });
});

Deno.test("serve: a symlink leading out of the results folder is refused, one inside is followed", async () => {
  await withResults(async (r, get) => {
    const outside = await Deno.makeTempDir({ prefix: "serve_outside_" });
    try {
      // A whole run outside, linked in; and a frame of an inside run swapped for a link out.
      await Deno.mkdir(join(outside, "run"));
      await new Deno.Command("cp", {
        args: ["-r", `${join(r.root, r.complete)}/.`, join(outside, "run")],
      }).output();
      await Deno.symlink(join(outside, "run"), join(r.root, "exp", "leak"));
      const frame = r.completeManifest.frames[0].file;
      const otherFrame = (await openRun(join(r.root, r.other))).manifest.frames[0].file;
      await Deno.remove(join(r.root, r.other, otherFrame));
      await Deno.symlink(join(outside, "run", frame), join(r.root, r.other, otherFrame));
      await Deno.symlink(r.complete.split("/")[1], join(r.root, "exp", "latest"));

      for (
        const path of [
          "/runs/exp/leak/report.html",
          `/runs/exp/leak/${frame}`,
          `/runs/${r.other}/${otherFrame}`,
        ]
      ) {
        const response = await get(path);
        await response.body?.cancel();
        assert.equal(response.status, 404, path);
      }
      const diff = await get(`/api/compare/diff.png?a=${r.complete}&b=${r.other}&frame=0`);
      await diff.body?.cancel();
      assert.equal(diff.status, 404);
      // The comparison reads frames by the serving rule: the linked frame is not read, and is
      // unreadable (no numbers), with the reason.
      const compared = await get(`/api/compare?a=${r.complete}&b=${r.other}`);
      assert.equal(compared.status, 200);
      const row = (await compared.json()).comparison.frames[0];
      assert.deepEqual([row.status, row.maxAbsDiff, row.ssim], ["unreadable", null, null]);
      assert.match(row.reasons.join(), /is missing or not in the results folder/);

      for (const path of ["/runs/exp/latest/report.html", `/runs/exp/latest/${frame}`]) {
        const response = await get(path);
        await response.body?.cancel();
        assert.equal(response.status, 200, path);
      }
      // The scan does not follow links: each run is listed once, under its real folder.
      assert.ok(!(await runs(get)).has("exp/latest"));
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});

Deno.test("serve: a Host header other than loopback is refused (DNS rebinding)", async () => {
  await withResults(async (_, get) => {
    const evil = await get("/api/runs", { headers: { Host: "evil.example:8317" } });
    await evil.body?.cancel();
    assert.equal(evil.status, 403);
    for (const host of ["localhost:8317", "127.0.0.1", "[::1]:8317"]) {
      const ok = await get("/api/runs", { headers: { Host: host } });
      await ok.body?.cancel();
      assert.equal(ok.status, 200, host);
    }
  });
});

Deno.test("serve: the compare endpoint returns what lib/compare's compareRuns returns", async () => {
  await withResults(async (r, get) => {
    const response = await get(`/api/compare?a=${r.complete}&b=${r.other}`);
    assert.equal(response.status, 200);
    const body = await response.json();
    const expected = await compareRuns(
      await openRun(join(r.root, r.complete)),
      await openRun(join(r.root, r.other)),
    );
    const { a: _a, b: _b, ...rest } = JSON.parse(JSON.stringify(expected));
    assert.deepEqual(body.comparison, { ...rest, a: r.complete, b: r.other });
    assert.equal(body.comparison.ok, false);
    assert.ok(body.comparison.frames.every((f: { status: string }) => f.status === "different"));
    assert.deepEqual(body.diffText.spec, ["spec.seed: 1 → 2"]);

    // A rewritten manifest is compared afresh, not served from the cache.
    await editManifest(join(r.root, r.other), (m) => {
      (m.spec as { seed: number }).seed = 1;
      m.updatedAt = "2025-01-01T00:02:00.000Z";
    });
    const again = await (await get(`/api/compare?a=${r.complete}&b=${r.other}`)).json();
    assert.deepEqual(again.diffText.spec, []);
  });
});

Deno.test("serve: the diff picture decodes at the frame size and is compareImages' own", async () => {
  await withResults(async (r, get) => {
    const before = await treeDigest(r.root);
    const response = await get(`/api/compare/diff.png?a=${r.complete}&b=${r.other}&frame=1`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "image/png");
    const picture = await decodePng(new Uint8Array(await response.arrayBuffer()));
    assert.deepEqual([picture.width, picture.height], [16, 16]);
    const [a, b] = await Promise.all([r.complete, r.other].map(async (p) => {
      const run = await openRun(join(r.root, p));
      return decodePng(await Deno.readFile(join(run.dir, run.manifest.frames[1].file)));
    }));
    const c = compareImages(a, b);
    assert.ok(c.sameSize);
    assert.deepEqual(picture.rgba, c.diffImage);
    // Nothing was written into the results folder (compared by content: a "newer than" check
    // flaked on coarse mtimes, the setup's last file landing a tick after its folder).
    assert.deepEqual(await treeDigest(r.root), before);
  });
});

Deno.test("serve: bad compare requests: 400 for paths or frames, 404 for no run, 422 for a bad manifest", async () => {
  await withResults(async (r, get) => {
    const cases: [string, number][] = [
      [`/api/compare?a=../x&b=${r.other}`, 400],
      [`/api/compare?a=${r.complete}`, 400],
      [`/api/compare?a=/etc&b=${r.other}`, 400],
      [`/api/compare?a=nowhere&b=${r.other}`, 404],
      [`/api/compare?a=${r.invalid}&b=${r.other}`, 422],
      [`/api/compare/diff.png?a=${r.complete}&b=${r.other}&frame=x`, 400],
      [`/api/compare/diff.png?a=${r.complete}&b=${r.other}&frame=7`, 404],
      [`/api/compare/diff.png?a=${r.complete}&b=${r.running}&frame=2`, 404],
    ];
    for (const [path, status] of cases) {
      const response = await get(path);
      await response.body?.cancel();
      assert.equal(response.status, status, path);
    }
  });
});

async function rawRequest(port: number, target: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(4096);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  } finally {
    conn.close();
  }
}

Deno.test("serve: over a socket, .. and %2e%2e in the raw request target get 400", async () => {
  const r = await makeTestResults();
  const controller = new AbortController();
  try {
    const listening = Promise.withResolvers<number>();
    const server = serveResults(r.root, {
      port: 0,
      signal: controller.signal,
      onListen: ({ port }) => listening.resolve(port),
    });
    const port = await listening.promise;
    const frame = r.completeManifest.frames[0].file;
    for (
      const target of [
        `/runs/${r.complete}/../../../etc/passwd`,
        `/runs/${r.complete}/%2e%2e/%2e%2e/x`,
        `/runs/${r.complete}/frames\\..\\manifest.json`,
      ]
    ) {
      const reply = await rawRequest(port, target);
      assert.match(reply, /^HTTP\/1\.1 400 /, `${target}: ${reply.split("\r\n")[0]}`);
    }
    const ok = await rawRequest(port, `/runs/${r.complete}/${frame}`);
    assert.match(ok, /^HTTP\/1\.1 200 /);
    controller.abort();
    await server.finished;
  } finally {
    controller.abort();
    await Deno.remove(r.root, { recursive: true });
  }
});

Deno.test("serve: /favicon.ico is an empty 204, not a 404 a browser would log as an error", async () => {
  await withResults(async (_, get) => {
    const response = await get("/favicon.ico");
    assert.equal(response.status, 204);
    assert.equal(await response.text(), "");
    assert.equal((await get("/favicon.ico/x")).status, 404);
  });
});

Deno.test("serve: a manifest naming a page, script or other non-picture as an output gets it refused", async () => {
  await withResults(async (r, get) => {
    const dir = join(r.root, r.complete);
    const page = "<script>document.title = 'owned'</script>";
    for (const name of ["evil.HTML", "evil.html", "x.js", "x.svg", "notes.txt"]) {
      await Deno.writeTextFile(join(dir, name), page);
      await editManifest(dir, (m) => {
        (m.outputs as Record<string, unknown>).contactSheet = name;
      });
      const response = await get(`/runs/${r.complete}/${name}`);
      await response.body?.cancel();
      assert.equal(response.status, 404, name);
    }
    // What is served of a run is data: even opened alone it can run nothing.
    const frame = await get(`/runs/${r.complete}/${r.completeManifest.frames[0].file}`);
    await frame.body?.cancel();
    assert.equal(frame.status, 200);
    assert.equal(frame.headers.get("content-security-policy"), "default-src 'none'; sandbox");
  });
});

Deno.test("serve: hidden folders are neither listed nor served, as paths or as compare runs", async () => {
  await withResults(async (r, get) => {
    const hidden = join(r.root, "exp", ".staging");
    await Deno.mkdir(join(r.root, "exp", ".staging"), { recursive: true });
    await new Deno.Command("cp", { args: ["-r", join(r.root, r.complete), join(hidden, "x")] })
      .output();
    assert.ok(![...(await runs(get)).keys()].some((p) => p.includes(".staging")));
    for (
      const path of [
        "/runs/exp/.staging/x/manifest.json",
        `/api/compare?a=exp/.staging/x&b=${r.complete}`,
      ]
    ) {
      const response = await get(path);
      await response.body?.cancel();
      assert.equal(response.status, 400, path);
    }
  });
});

Deno.test("serve: compare answers name files by run path, never by the server's folders", async () => {
  await withResults(async (r, get) => {
    const run = await openRun(join(r.root, r.other));
    const missing = join(run.dir, run.manifest.frames[1].file);
    const bytes = await Deno.readFile(missing);
    await Deno.remove(missing);
    const text = await (await get(`/api/compare?a=${r.complete}&b=${r.other}`)).text();
    assert.match(text, /missing/);
    assert.ok(!text.includes(r.root), `the answer names ${r.root}: ${text.slice(0, 400)}`);
    assert.match(text, new RegExp(`${r.other}: frames/`));
    // A diff picture that could not be drawn is not kept: put the file back and it is drawn.
    const diff = `/api/compare/diff.png?a=${r.complete}&b=${r.other}&frame=1`;
    const before = await get(diff);
    await before.body?.cancel();
    assert.equal(before.status, 404);
    await Deno.writeFile(missing, bytes);
    const after = await get(diff);
    await after.body?.cancel();
    assert.equal(after.status, 200);
  });
});

Deno.test("serve: a results folder made after the viewer started is found; a failure says nothing of the server", async () => {
  const parent = await Deno.makeTempDir({ prefix: "serve_late_" });
  const root = join(parent, "results");
  const errors: string[] = [];
  const consoleError = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    const get = createHandler(root, {});
    const early = await get(new Request("http://127.0.0.1:8317/api/runs"));
    assert.equal(early.status, 500);
    const text = await early.text();
    assert.ok(!text.includes(parent), `the answer names the server's folder: ${text}`);
    assert.match(errors.join("\n"), /api\/runs: NotFound/, "the cause goes to the terminal");
    await Deno.mkdir(root);
    const late = await get(new Request("http://127.0.0.1:8317/api/runs"));
    assert.equal(late.status, 200);
    assert.deepEqual(await late.json(), { runs: [] });
  } finally {
    console.error = consoleError;
    await Deno.remove(parent, { recursive: true });
  }
});
