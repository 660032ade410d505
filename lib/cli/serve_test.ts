import assert from "node:assert/strict";
import { captureIo } from "../compare/_test_util.ts";
import { makeTestResults } from "../serve/_test_util.ts";
import { PROJECT_ROOT } from "../util/_test_process.ts";
import { createHandler } from "../serve/server.ts";
import { allowedHostsFor, isLoopback, main } from "./serve.ts";

Deno.test("serve CLI: bad flags and folders exit 2 naming the flag", async () => {
  const root = await Deno.makeTempDir({ prefix: "serve_cli_" });
  try {
    const cases: [string[], RegExp][] = [
      [["--bogus"], /--bogus/],
      [[root, "--port", "abc"], /--port: expected an integer from 0 to 65535, got "abc"/],
      [[root, "--port", "70000"], /--port/],
      [[root, "--port", "-1"], /--port/],
      [[root, "--depth", "0"], /--depth/],
      [[root, "--host", ""], /--host/],
      [[root, root], /at most one RESULTS_DIR/],
      [[`${root}/missing`], /RESULTS_DIR .*missing: no such folder/],
    ];
    for (const [args, message] of cases) {
      const { err, io } = captureIo();
      assert.equal(await main(args, io), 2, args.join(" "));
      assert.match(err.join("\n"), message, args.join(" "));
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("serve CLI: loopback addresses", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) {
    assert.ok(isLoopback(host), host);
  }
  for (const host of ["0.0.0.0", "192.168.1.2", "::", "example.com"]) assert.ok(!isLoopback(host));
});

Deno.test("serve CLI: the Host names answered follow the address bound", async () => {
  assert.equal(allowedHostsFor("0.0.0.0"), "any");
  assert.equal(allowedHostsFor("192.168.1.2"), "any");
  const loopback = allowedHostsFor("127.0.0.2");
  assert.ok(Array.isArray(loopback));
  assert.ok(loopback.includes("127.0.0.2") && loopback.includes("localhost"));
  // Through the handler: the bound name passes, a rebinding name does not.
  const root = await Deno.makeTempDir({ prefix: "serve_hosts_" });
  try {
    const get = createHandler(root, { allowedHosts: loopback });
    const ask = async (host: string) => {
      const response = await get(
        new Request("http://127.0.0.2:8317/api/runs", { headers: { host: `${host}:8317` } }),
      );
      await response.body?.cancel();
      return response.status;
    };
    assert.equal(await ask("127.0.0.2"), 200);
    assert.equal(await ask("evil.example"), 403);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Reads the child's stdout until the line with its URL (bounded). */
async function listeningUrl(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timeout = setTimeout(() => reader.cancel(), 30_000);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`no URL printed: ${text}`);
      text += value;
      const match = /http:\/\/[^\s]+\//.exec(text);
      if (match) return match[0];
    }
  } finally {
    clearTimeout(timeout);
    reader.releaseLock();
  }
}

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`serve CLI (real process): --port 0 prints a 127.0.0.1 URL that answers; ${signal} exits ${code}`, async () => {
    const results = await makeTestResults();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "lib/cli/serve.ts", results.root, "--port", "0"],
      cwd: PROJECT_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const url = await listeningUrl(child);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const response = await fetch(`${url}api/runs`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(response.status, 200);
      const body = await response.json() as { runs: { path: string }[] };
      assert.ok(body.runs.some((r) => r.path === results.complete));
      const page = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      assert.match(await page.text(), /id="runs"/);

      child.kill(signal);
      const status = await child.status;
      const stderr = new TextDecoder().decode(
        await new Response(child.stderr).arrayBuffer().then((b) => new Uint8Array(b)),
      );
      assert.equal(status.code, code, stderr);
      assert.match(stderr, new RegExp(`${signal}: stopping`));
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      await Deno.remove(results.root, { recursive: true });
    }
  });
}
