import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { PickleBuilder } from "./_test_util.ts";
import { PickleError, unpickle } from "./pickle.ts";

/*
 * Pickles written by CPython 3.11 `pickle.dumps(obj, protocol=P)` for
 *   shared = [7, "seven"]
 *   obj = {"ints": [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**31, 2**53, 2**64 + 1,
 *                   -2**70],
 *          "floats": [0.5, -1.25e-30, float("inf")], "text": "h\u00e9llo \u2713", "long": "ab" * 150,
 *          "none": None, "yes": True, "no": False, "tuple": (1, (2, 3), ()), "a": shared,
 *          "b": shared, "nested": {"x": {"y": [1.5]}}}
 * and, for protocol 4 only, also obj["bytes"] = b"\x00\x01\xff"; obj["set"] = {3};
 * obj["frozen"] = frozenset([4]).
 */
const PYTHON_PROTO2 = fromBase64(`
gAJ9cQAoWAQAAABpbnRzcQFdcQIoSwBLAUr/////S/9NAAFN//9KAAABAEoAAACASv///3+KBQAAAIAAigcAAAAAAAAg
igkBAAAAAAAAAAGKCQAAAAAAAAAAwGVYBgAAAGZsb2F0c3EDXXEEKEc/4AAAAAAAAEe5uVpe/qazR0d/8AAAAAAAAGVY
BAAAAHRleHRxBVgKAAAAaMOpbGxvIOKck3EGWAQAAABsb25ncQdYLAEAAGFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFi
YWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJh
YmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFi
YWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJh
YmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYnEI
WAQAAABub25lcQlOWAMAAAB5ZXNxCohYAgAAAG5vcQuJWAUAAAB0dXBsZXEMSwFLAksDhnENKYdxDlgBAAAAYXEPXXEQ
KEsHWAUAAABzZXZlbnERZVgBAAAAYnESaBBYBgAAAG5lc3RlZHETfXEUWAEAAAB4cRV9cRZYAQAAAHlxF11xGEc/+AAA
AAAAAGFzc3Uu`);
const PYTHON_PROTO4 = fromBase64(`
gASVVgIAAAAAAAB9lCiMBGludHOUXZQoSwBLAUr/////S/9NAAFN//9KAAABAEoAAACASv///3+KBQAAAIAAigcAAAAA
AAAgigkBAAAAAAAAAAGKCQAAAAAAAAAAwGWMBmZsb2F0c5RdlChHP+AAAAAAAABHublaXv6ms0dHf/AAAAAAAABljAR0
ZXh0lIwKaMOpbGxvIOKck5SMBGxvbmeUWCwBAABhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFi
YWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJh
YmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFi
YWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJh
YmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWKUjARub25llE6MA3llc5SI
jAJub5SJjAV0dXBsZZRLAUsCSwOGlCmHlIwBYZRdlChLB4wFc2V2ZW6UZYwBYpRoEIwGbmVzdGVklH2UjAF4lH2UjAF5
lF2URz/4AAAAAAAAYXNzjAVieXRlc5RDAwAB/5SMA3NldJSPlChLA5CMBmZyb3plbpQoSwSRlHUu`);

/** CPython's `pickle.dumps(E(), protocol=P)` where `E.__reduce__` returns `(os.system, ("echo hi",))`. */
const PYTHON_OS_SYSTEM_PROTO2 = Buffer.from(
  "\x80\x02cposix\nsystem\nq\x00X\x07\x00\x00\x00echo hiq\x01\x85q\x02Rq\x03.",
  "latin1",
);
const PYTHON_OS_SYSTEM_PROTO4 = Buffer.from(
  '\x80\x04\x95"\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x07echo hi\x94\x85\x94R\x94.',
  "latin1",
);

function fromBase64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "base64"));
}

const NO_GLOBALS = { globals: new Map<string, unknown>() };

function assertPickleError(fn: () => unknown, ...fragments: string[]): PickleError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof PickleError, `expected PickleError, got ${caught}`);
  for (const f of fragments) {
    assert.ok(caught.message.includes(f), `"${caught.message}" lacks "${f}"`);
  }
  return caught;
}

function expectedCommon(): Map<string, unknown> {
  const shared = [7, "seven"];
  return new Map<string, unknown>([
    ["ints", [
      0,
      1,
      -1,
      255,
      256,
      65535,
      65536,
      -(2 ** 31),
      2 ** 31 - 1,
      2 ** 31,
      2n ** 53n,
      2n ** 64n + 1n,
      -(2n ** 70n),
    ]],
    ["floats", [0.5, -1.25e-30, Infinity]],
    ["text", "h\u00e9llo \u2713"],
    ["long", "ab".repeat(150)],
    ["none", null],
    ["yes", true],
    ["no", false],
    ["tuple", [1, [2, 3], []]],
    ["a", shared],
    ["b", shared],
    ["nested", new Map([["x", new Map([["y", [1.5]]])]])],
  ]);
}

Deno.test("pickle: decodes CPython protocol 2 output", () => {
  const got = unpickle(PYTHON_PROTO2, NO_GLOBALS) as Map<string, unknown>;
  assert.deepEqual(got, expectedCommon());
  // Memoised objects stay shared, as in Python; tuples are immutable.
  assert.equal(got.get("a"), got.get("b"));
  assert.ok(Object.isFrozen(got.get("tuple")));
  assert.ok(!Object.isFrozen(got.get("a")));
});

Deno.test("pickle: decodes CPython protocol 4 output (FRAME, MEMOIZE, sets, bytes)", () => {
  const want = expectedCommon();
  want.set("bytes", new Uint8Array([0, 1, 255]));
  want.set("set", new Set([3]));
  want.set("frozen", new Set([4]));
  const got = unpickle(PYTHON_PROTO4, NO_GLOBALS) as Map<string, unknown>;
  assert.deepEqual(got, want);
  assert.equal(got.get("a"), got.get("b"));
  // Protocol 5 differs only in its PROTO byte for this object.
  const p5 = PYTHON_PROTO4.slice();
  p5[1] = 5;
  assert.deepEqual(unpickle(p5, NO_GLOBALS), want);
  const p6 = PYTHON_PROTO4.slice();
  p6[1] = 6;
  assertPickleError(() => unpickle(p6, NO_GLOBALS), "unsupported pickle protocol 6", "byte 0");
});

Deno.test("pickle: CPython's own os.system exploit is refused by name, nothing runs", async () => {
  const calls: unknown[] = [];
  const options = {
    globals: new Map<string, unknown>([["collections.OrderedDict", (a: unknown) => calls.push(a)]]),
  };
  const e2 = assertPickleError(
    () => unpickle(PYTHON_OS_SYSTEM_PROTO2, options),
    "posix.system",
    "byte 2",
  );
  assert.match(e2.message, /refusing global posix\.system/);
  assertPickleError(() => unpickle(PYTHON_OS_SYSTEM_PROTO4, options), "posix.system");
  assert.deepEqual(calls, []);

  // A payload whose only effect, if it ran, would be to create a file.
  const dir = await Deno.makeTempDir();
  const marker = `${dir}/pwned`;
  try {
    const attacks: [string, string, PickleBuilder][] = [
      ["os", "system", new PickleBuilder().proto(2).global("os", "system")],
      ["posix", "system", new PickleBuilder().proto(4).stackGlobal("posix", "system")],
      ["builtins", "eval", new PickleBuilder().proto(2).global("builtins", "eval")],
      ["builtins", "exec", new PickleBuilder().proto(4).stackGlobal("builtins", "exec")],
      ["subprocess", "Popen", new PickleBuilder().proto(2).global("subprocess", "Popen")],
      ["torch", "load", new PickleBuilder().proto(2).global("torch", "load")],
    ];
    for (const [module, name, p] of attacks) {
      const payload = p.mark().str(`__import__('os').system('touch ${marker}')`).tuple().reduce()
        .stop();
      const err = assertPickleError(() =>
        unpickle(payload.bytes(), { ...options, source: "evil.pkl" })
      );
      assert.ok(err.message.startsWith("evil.pkl: "), err.message);
      assert.ok(err.message.includes(`refusing global ${module}.${name}`), err.message);
      assert.ok(err.message.includes("collections.OrderedDict"), "should list what is allowed");
    }
    assert.deepEqual(calls, []);
    await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pickle: only function globals are callable; REDUCE gets the argument tuple", () => {
  const seen: unknown[] = [];
  const marker = { kind: "storage type" };
  const globals = new Map<string, unknown>([
    ["m.f", (args: readonly unknown[]) => {
      seen.push(args);
      return "built";
    }],
    ["m.marker", marker],
  ]);
  const ok = new PickleBuilder().proto(2).global("m", "f").mark().int(1).str("x").tuple().reduce()
    .stop();
  assert.equal(unpickle(ok.bytes(), { globals }), "built");
  assert.deepEqual(seen, [[1, "x"]]);
  const inert = new PickleBuilder().proto(2).global("m", "marker").emptyTuple().reduce().stop();
  assertPickleError(() => unpickle(inert.bytes(), { globals }), "cannot call an object", "REDUCE");
  // Errors from a whitelisted function are reported with the offset.
  const failing = new Map<string, unknown>([["m.f", () => {
    throw new Error("bad args");
  }]]);
  assertPickleError(
    () => unpickle(ok.bytes(), { globals: failing, source: "f.pkl" }),
    "f.pkl",
    "bad args",
    "REDUCE at byte",
  );
});

Deno.test("pickle: unknown and unsupported opcodes are named with their offset", () => {
  const cases: [Uint8Array, string][] = [
    [new Uint8Array([0x80, 0x02, 0xff, 0x2e]), "unsupported opcode 0xff (opcode 0xff at byte 2)"],
    [new Uint8Array([0x80, 0x02, 0x82, 0x01, 0x2e]), "unsupported opcode EXT1"],
    [
      new PickleBuilder().proto(2).raw(0x69).raw(...new TextEncoder().encode("os\nsystem\n")).stop()
        .bytes(),
      "unsupported opcode INST",
    ],
    [
      new Uint8Array([0x80, 0x05, 0x97, 0x2e]),
      "unsupported opcode NEXT_BUFFER (opcode NEXT_BUFFER at byte 2)",
    ],
  ];
  for (const [bytes, fragment] of cases) {
    assertPickleError(() => unpickle(bytes, NO_GLOBALS), fragment);
  }
});

Deno.test("pickle: malformed streams give PickleErrors, never a TypeError", () => {
  for (const sample of [PYTHON_PROTO2, PYTHON_PROTO4]) {
    for (let cut = 0; cut < sample.length; cut++) {
      const err = assertPickleError(
        () => unpickle(sample.subarray(0, cut), { ...NO_GLOBALS, source: "cut.pkl" }),
        "cut.pkl",
      );
      assert.match(err.message, /truncated|underflow|STOP|MARK/);
    }
  }
  const p = () => new PickleBuilder().proto(2);
  assertPickleError(() => unpickle(p().stop().bytes(), NO_GLOBALS), "STOP with 0 values");
  assertPickleError(
    () => unpickle(p().raw(0x85).stop().bytes(), NO_GLOBALS),
    "stack underflow",
    "TUPLE1",
  );
  assertPickleError(
    () => unpickle(p().raw(0x68, 9).stop().bytes(), NO_GLOBALS),
    "memo key 9 was never stored",
  );
  assertPickleError(() => unpickle(p().raw(0x74).stop().bytes(), NO_GLOBALS), "no MARK", "TUPLE");
  assertPickleError(() => unpickle(p().mark().int(1).stop().bytes(), NO_GLOBALS), "unclosed MARK");
  // Items above a MARK cannot be popped across it.
  assertPickleError(
    () => unpickle(p().int(1).mark().raw(0x85).stop().bytes(), NO_GLOBALS),
    "stack underflow",
  );
  assertPickleError(
    () => unpickle(p().int(1).int(2).int(3).raw(0x73).stop().bytes(), NO_GLOBALS),
    "cannot set items on 1",
  );
  assertPickleError(
    () => unpickle(p().emptyTuple().int(2).raw(0x61).stop().bytes(), NO_GLOBALS),
    "cannot append to a 0-tuple",
  );
  assertPickleError(
    () => unpickle(p().raw(0x58, 0xff, 0xff, 0xff, 0x7f, 0x41).bytes(), NO_GLOBALS),
    "truncated",
  );
  assertPickleError(
    () => unpickle(p().raw(0x8c, 2, 0xc3, 0x28).stop().bytes(), NO_GLOBALS),
    "not valid UTF-8",
  );
  assertPickleError(
    () => unpickle(p().int(1).emptyDict().build().stop().bytes(), NO_GLOBALS),
    "cannot set state",
  );
  assertPickleError(
    () => unpickle(p().mark().str("storage").tuple().persid().stop().bytes(), NO_GLOBALS),
    "persistent ids are not allowed",
  );
});

Deno.test("pickle: BUILD on a dict (an OrderedDict's _metadata) is accepted", () => {
  const bytes = new PickleBuilder().proto(2).emptyDict().mark().str("w").int(3).setItems()
    .emptyDict().mark().str("_metadata").emptyDict().setItems().build().stop().bytes();
  assert.deepEqual(unpickle(bytes, NO_GLOBALS), new Map([["w", 3]]));
});

Deno.test("pickle: persistent ids go to persistentLoad", () => {
  const bytes = new PickleBuilder().proto(2).mark().str("storage").str("0").tuple().persid().stop()
    .bytes();
  const got = unpickle(bytes, { globals: new Map(), persistentLoad: (pid) => ({ loaded: pid }) });
  assert.deepEqual(got, { loaded: ["storage", "0"] });
});
