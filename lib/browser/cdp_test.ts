import assert from "node:assert/strict";
import { CdpConnection, CdpError } from "./cdp.ts";

/**
 * A fake DevTools endpoint on 127.0.0.1: answers `Echo.ok` with its params, `Echo.fail` with a
 * protocol error, never answers `Echo.silent`, and sends a `Test.event` on `Echo.emit`.
 */
function fakeDevTools() {
  const sockets: WebSocket[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    sockets.push(socket);
    socket.onmessage = (e) => {
      const m = JSON.parse(e.data);
      const reply = (x: object) =>
        socket.send(JSON.stringify({ id: m.id, sessionId: m.sessionId, ...x }));
      if (m.method === "Echo.ok") reply({ result: m.params });
      if (m.method === "Echo.fail") reply({ error: { code: -32000, message: "No such thing" } });
      if (m.method === "Echo.emit") {
        socket.send(JSON.stringify({ method: "Test.event", params: { n: 1 }, sessionId: "S1" }));
        socket.send(JSON.stringify({ method: "Test.event", params: { n: 2 } }));
        reply({ result: {} });
      }
    };
    return response;
  });
  const url = `ws://127.0.0.1:${server.addr.port}/devtools/browser/x`;
  return {
    url,
    sockets,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

Deno.test("CdpConnection: a call resolves with its result and sessionId is passed", async () => {
  await using server = fakeDevTools();
  const cdp = await CdpConnection.connect(server.url);
  try {
    assert.deepEqual(await cdp.send("Echo.ok", { a: 1 }), { a: 1 });
    assert.deepEqual(await cdp.send("Echo.ok", { b: 2 }, { sessionId: "S1" }), { b: 2 });
  } finally {
    await cdp.close();
  }
});

Deno.test("CdpConnection: protocol errors and timeouts name the method", async () => {
  await using server = fakeDevTools();
  const cdp = await CdpConnection.connect(server.url);
  try {
    await assert.rejects(cdp.send("Echo.fail"), (e: Error) => {
      assert.ok(e instanceof CdpError);
      assert.match(e.message, /^CDP Echo\.fail: No such thing \[-32000\]$/);
      assert.equal(e.timedOut, false);
      return true;
    });
    await assert.rejects(cdp.send("Echo.silent", {}, { timeoutMs: 50 }), (e: Error) => {
      assert.ok(e instanceof CdpError);
      assert.match(e.message, /CDP Echo\.silent: no answer within 50 ms/);
      assert.equal(e.timedOut, true);
      return true;
    });
  } finally {
    await cdp.close();
  }
});

Deno.test("CdpConnection: events reach listeners with their session until stopped", async () => {
  await using server = fakeDevTools();
  const cdp = await CdpConnection.connect(server.url);
  try {
    const seen: [unknown, string | undefined][] = [];
    const off = cdp.on("Test.event", (p, s) => seen.push([p.n, s]));
    // The events are sent before the answer on one socket, so they have arrived by now.
    await cdp.send("Echo.emit");
    assert.deepEqual(seen, [[1, "S1"], [2, undefined]]);
    off();
    await cdp.send("Echo.emit");
    assert.equal(seen.length, 2, "a stopped listener is not called");
  } finally {
    await cdp.close();
  }
});

Deno.test("CdpConnection: closing fails pending and later calls with the method's name", async () => {
  await using server = fakeDevTools();
  const cdp = await CdpConnection.connect(server.url);
  const pending = cdp.send("Echo.silent");
  await cdp.close();
  await assert.rejects(pending, /CDP Echo\.silent: connection closed/);
  await assert.rejects(cdp.send("Echo.ok"), /CDP Echo\.ok: connection closed/);
  assert.ok(cdp.closed);
  await cdp.close();
});

Deno.test("CdpConnection: a closed port is a clear connect error", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    CdpConnection.connect(`ws://127.0.0.1:${port}/devtools/browser/x`, 2000),
    /DevTools ws:\/\/127\.0\.0\.1:\d+\/devtools\/browser\/x: cannot connect/,
  );
});
