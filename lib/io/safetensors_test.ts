import assert from "node:assert/strict";
import {
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from "./safetensors.ts";
import { type DType, DTYPE_SIZE, numel, type RawTensor } from "./tensor.ts";

const REF = new URL("../testdata/ldm-reference/", import.meta.url).pathname;

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function sampleTensors(): Map<string, RawTensor> {
  const specs: [string, DType, number[]][] = [
    ["f32", "F32", [2, 3]],
    ["f16", "F16", [5]],
    ["bf16", "BF16", [1, 4, 1]],
    ["i64", "I64", [3]],
    ["i32", "I32", [2, 2]],
    ["u8", "U8", [7]],
    ["scalar", "F32", []],
    ["empty", "F32", [0, 3]],
  ];
  return new Map(specs.map(([name, dtype, shape], i) => [
    name,
    { dtype, shape, bytes: noise(numel(shape) * DTYPE_SIZE[dtype], i + 1) },
  ]));
}

function assertSafetensorsError(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected SafetensorsError, got ${e}`);
    assert.ok(e.message.startsWith("bad.safetensors: "), e.message);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" lacks "${f}"`);
    return true;
  });
}

/** A file with a hand-written header (object or raw text) and `dataBytes` of data. */
function fileWith(header: unknown, dataBytes: number, declaredLength?: number): Uint8Array {
  const json = new TextEncoder().encode(
    typeof header === "string" ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.length), true);
  out.set(json, 8);
  return out;
}

Deno.test("safetensors: encode/parse round trip for F32, F16, BF16, I64, I32, U8", () => {
  const tensors = sampleTensors();
  const metadata = { format: "pt", note: "ünïcode" };
  const bytes = encodeSafetensors(tensors, metadata);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLength % 8, 0, "header is padded to 8 bytes");
  const parsed = parseSafetensors(bytes, "rt");
  assert.deepEqual(parsed.metadata, metadata);
  assert.deepEqual([...parsed.tensors.keys()], [...tensors.keys()]);
  for (const [name, t] of tensors) {
    const got = parsed.tensors.get(name)!;
    assert.equal(got.dtype, t.dtype, name);
    assert.deepEqual(got.shape, t.shape, name);
    assert.deepEqual(got.bytes, t.bytes, name);
    assert.equal(got.bytes.buffer, bytes.buffer, `${name} should be a view`);
  }
  assert.deepEqual(parseSafetensors(encodeSafetensors(tensors)).metadata, {});
});

Deno.test("safetensors: re-encoding reference weights reproduces the files byte for byte", async () => {
  for (const c of ["unet", "vqvae"]) {
    const path = `${REF}tiny-ldm/${c}/diffusion_pytorch_model.safetensors`;
    const original = await Deno.readFile(path);
    const { tensors, metadata } = parseSafetensors(original, path);
    assert.deepEqual(encodeSafetensors(tensors, metadata), original, path);
  }
  // Files with metadata order their header differently, but still round-trip in content.
  const path = `${REF}pipeline.safetensors`;
  const a = await readSafetensors(path);
  const b = parseSafetensors(encodeSafetensors(a.tensors, a.metadata));
  assert.deepEqual(b.metadata, a.metadata);
  assert.deepEqual(b.tensors, a.tensors);
});

Deno.test("safetensors: writeSafetensors is atomic and readable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tensors = sampleTensors();
    await writeSafetensors(`${dir}/w.safetensors`, tensors, { a: "b" });
    const back = await readSafetensors(`${dir}/w.safetensors`);
    assert.deepEqual(back.tensors, tensors);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.safetensors"]);
    await assert.rejects(
      writeSafetensors(`${dir}/missing/w.safetensors`, tensors),
      Deno.errors.NotFound,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safetensors: encode refuses inconsistent tensors", () => {
  assert.throws(
    () => encodeSafetensors({ t: { dtype: "F32", shape: [3], bytes: new Uint8Array(8) } }),
    /needs 12 bytes, has 8/,
  );
  assert.throws(
    () =>
      encodeSafetensors({ __metadata__: { dtype: "U8", shape: [0], bytes: new Uint8Array(0) } }),
    /reserved/,
  );
});

Deno.test("safetensors: header validation names the problem", () => {
  const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({
    dtype: "F32",
    shape,
    data_offsets: [begin, end],
  });
  const parse = (bytes: Uint8Array) => () => parseSafetensors(bytes, "bad.safetensors");
  assertSafetensorsError(
    parse(fileWith({ a: f32(0, 8), b: f32(4, 12) }, 12)),
    'tensor "b" overlaps',
    "starts at 4",
  );
  assertSafetensorsError(
    parse(fileWith({ a: f32(0, 16) }, 8)),
    'tensor "a" ends at byte 16 of a 8-byte data section',
  );
  assertSafetensorsError(
    parse(fileWith({ a: f32(0, 8), b: f32(12, 20) }, 20)),
    'gap of 4 bytes before tensor "b"',
  );
  assertSafetensorsError(
    parse(fileWith({ a: f32(0, 8) }, 12)),
    "data section is 12 bytes but tensors cover 8",
  );
  assertSafetensorsError(parse(fileWith('{"a": {"dtype": "F32",', 0)), "not valid UTF-8 JSON");
  assertSafetensorsError(parse(fileWith("[1, 2]", 0)), "header is not a JSON object");
  assertSafetensorsError(
    parse(fileWith({ a: f32(0, 8, [3]) }, 8)),
    'tensor "a" (F32, shape [3]) needs 12 bytes but data_offsets span 8',
  );
  assertSafetensorsError(
    parse(fileWith({ a: { ...f32(0, 8), dtype: "F8_E4M3" } }, 8)),
    'unsupported dtype "F8_E4M3"',
  );
  assertSafetensorsError(parse(fileWith({ a: f32(0, 8, [-2]) }, 8)), "invalid shape [-2]");
  assertSafetensorsError(
    parse(fileWith({ a: { ...f32(0, 8), data_offsets: [8, 0] } }, 8)),
    "invalid data_offsets [8,0]",
  );
  assertSafetensorsError(
    parse(fileWith({ __metadata__: { n: 1 } }, 0)),
    "__metadata__.n is not a string",
  );
  // Truncation: before the length field, inside the header, inside the data.
  const good = encodeSafetensors(sampleTensors());
  assertSafetensorsError(
    parse(good.subarray(0, 5)),
    "file is 5 bytes, shorter than the 8-byte header length",
  );
  assertSafetensorsError(
    parse(good.subarray(0, 40)),
    "runs past the end of the file",
    "truncated?",
  );
  assertSafetensorsError(parse(good.subarray(0, good.length - 1)), "truncated?");
  assertSafetensorsError(parse(fileWith({}, 0, 2 ** 40)), "exceeds 100000000 bytes");
});
