import assert from "node:assert/strict";
import {
  f32Bytes,
  type FixtureTensor,
  PickleBuilder,
  stateDictPickle,
  torchZip,
} from "./_test_util.ts";
import { PickleError } from "./pickle.ts";
import { readSafetensors } from "./safetensors.ts";
import { type RawTensor, toBigInt64, toFloat32 } from "./tensor.ts";
import {
  parseTorchCheckpoint,
  readTorchCheckpoint,
  TorchCheckpointError,
} from "./torch_checkpoint.ts";
import { ZipArchive, ZipError } from "./zip.ts";

const REF = new URL("../testdata/ldm-reference/", import.meta.url).pathname;
const COMPONENTS = ["unet", "vqvae"];
const bin = (model: string, c: string) => `${REF}${model}/${c}/diffusion_pytorch_model.bin`;

function assertThrows<E extends Error>(
  fn: () => unknown,
  type: new (...args: never[]) => E,
  ...fragments: string[]
): E {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof type, `expected ${type.name}, got ${caught}`);
  for (const f of fragments) {
    assert.ok(caught.message.includes(f), `"${caught.message}" lacks "${f}"`);
  }
  return caught;
}

function tensor(
  name: string,
  key: string,
  shape: number[],
  extra: Partial<FixtureTensor> = {},
): FixtureTensor {
  const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    name,
    storageType: "FloatStorage",
    key,
    storageNumel: n,
    offset: 0,
    shape,
    stride,
    ...extra,
  };
}

Deno.test("torch: tiny-ldm .bin and .safetensors hold identical tensors", async () => {
  for (const c of COMPONENTS) {
    const path = bin("tiny-ldm", c);
    const fileBytes = await Deno.readFile(path);
    const fromBin = parseTorchCheckpoint(fileBytes, path);
    const fromSt =
      (await readSafetensors(`${REF}tiny-ldm/${c}/diffusion_pytorch_model.safetensors`)).tensors;
    assert.deepEqual([...fromBin.keys()].sort(), [...fromSt.keys()].sort(), c);
    for (const [name, want] of fromSt) {
      const got = fromBin.get(name)!;
      assert.equal(got.dtype, want.dtype, name);
      assert.deepEqual(got.shape, want.shape, name);
      assert.deepEqual(got.bytes, want.bytes, name);
      assert.equal(got.bytes.buffer, fileBytes.buffer, `${name} was copied instead of viewed`);
    }
    assert.ok(fromBin.size > 100, `${c}: only ${fromBin.size} tensors`);
  }
});

Deno.test("torch: tiny-ldm-legacy holds the same weights under the old attention names", async () => {
  const legacyNames: [RegExp, string][] = [
    [/\.query\./, ".to_q."],
    [/\.key\./, ".to_k."],
    [/\.value\./, ".to_v."],
    [/\.proj_attn\./, ".to_out.0."],
  ];
  for (const c of COMPONENTS) {
    const legacy = await readTorchCheckpoint(bin("tiny-ldm-legacy", c));
    const modern = await readTorchCheckpoint(bin("tiny-ldm", c));
    let renamed = 0;
    const mapped = new Map([...legacy].map(([name, t]) => {
      let out = name;
      for (const [from, to] of legacyNames) out = out.replace(from, to);
      if (out !== name) renamed++;
      return [out, t];
    }));
    assert.ok(renamed > 0, `${c}: no legacy attention names found`);
    assert.deepEqual([...mapped.keys()].sort(), [...modern.keys()].sort(), c);
    for (const [name, t] of modern) {
      const l = mapped.get(name)!;
      assert.equal(l.dtype, t.dtype, name);
      assert.deepEqual(l.shape, t.shape, name);
      assert.deepEqual(l.bytes, t.bytes, name);
    }
  }
});

Deno.test("torch: malicious globals inside a torch-style zip are refused by name", async () => {
  const dir = await Deno.makeTempDir();
  const marker = `${dir}/pwned`;
  try {
    const payloads: [string, Uint8Array][] = [
      [
        "os.system",
        new PickleBuilder().proto(2).global("os", "system")
          .mark().str(`touch ${marker}`).tuple().reduce().stop().bytes(),
      ],
      [
        "builtins.eval",
        new PickleBuilder().proto(2).global("builtins", "eval")
          .mark().str(`__import__('os').system('touch ${marker}')`).tuple().reduce().stop().bytes(),
      ],
    ];
    // The same attack hidden as the value of the second entry of a genuine-looking state dict.
    const hidden = new PickleBuilder().proto(2).global("collections", "OrderedDict").emptyTuple()
      .reduce().mark();
    hidden.str("w").global("torch._utils", "_rebuild_tensor_v2").mark()
      .mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(2).tuple()
      .persid()
      .int(0).intTuple([2]).intTuple([1]).false().global("collections", "OrderedDict").emptyTuple()
      .reduce()
      .tuple().reduce();
    hidden.str("evil").global("posix", "system").mark().str(`touch ${marker}`).tuple().reduce();
    payloads.push(["posix.system", hidden.setItems().stop().bytes()]);
    for (const [qualified, pickle] of payloads) {
      const zip = torchZip(pickle, { "0": f32Bytes([1, 2]) });
      const err = assertThrows(
        () => parseTorchCheckpoint(zip, "evil.bin"),
        PickleError,
        "evil.bin",
        qualified,
      );
      assert.match(err.message, /refusing global/);
    }
    await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("torch: strided, offset and shared storages rebuild like torch", () => {
  // One 3x4 storage holding 0..11, seen as: the matrix, its transpose, a column, and a row slice.
  const storage = f32Bytes(Array.from({ length: 12 }, (_, i) => i));
  const base = { storageNumel: 12 };
  const specs: FixtureTensor[] = [
    tensor("m", "0", [3, 4], base),
    tensor("mt", "0", [4, 3], { ...base, stride: [1, 4] }),
    tensor("col2", "0", [3], { ...base, offset: 2, stride: [4] }),
    tensor("row1", "0", [4], { ...base, offset: 4, stride: [1] }),
    tensor("row1_as_1x4", "0", [1, 4], { ...base, offset: 4, stride: [99, 1] }),
    tensor("scalar", "0", [], { ...base, offset: 11, stride: [] }),
    tensor("empty", "0", [0, 4], { ...base, stride: [4, 1] }),
  ];
  const zip = torchZip(stateDictPickle(specs), { "0": storage });
  const got = parseTorchCheckpoint(zip, "strided.bin");
  const values = (name: string) => [...toFloat32(got.get(name)!)];
  const m = (r: number, c: number) => r * 4 + c;
  assert.deepEqual(values("m"), Array.from({ length: 12 }, (_, i) => i));
  assert.deepEqual(values("mt"), [0, 1, 2, 3].flatMap((c) => [0, 1, 2].map((r) => m(r, c))));
  assert.deepEqual(got.get("mt")!.shape, [4, 3]);
  assert.deepEqual(values("col2"), [m(0, 2), m(1, 2), m(2, 2)]);
  assert.deepEqual(values("row1"), [4, 5, 6, 7]);
  assert.deepEqual(values("row1_as_1x4"), [4, 5, 6, 7]);
  assert.deepEqual(values("scalar"), [11]);
  assert.deepEqual(got.get("scalar")!.shape, []);
  assert.equal(got.get("empty")!.bytes.byteLength, 0);
  // Contiguous layouts are views into the file; strided ones are private copies.
  for (const name of ["m", "row1", "row1_as_1x4", "scalar"]) {
    assert.equal(got.get(name)!.bytes.buffer, zip.buffer, name);
  }
  for (const name of ["mt", "col2"]) assert.notEqual(got.get(name)!.bytes.buffer, zip.buffer, name);
});

Deno.test("torch: storage dtypes, nn.Parameter, OrderedDict _metadata", () => {
  const i64 = new BigInt64Array([-5n, 1n << 40n]);
  const half = new Uint16Array([0x3c00, 0xc000]); // 1.0, -2.0
  const bf16 = new Uint16Array([0x3f80, 0x4040]); // 1.0, 3.0
  const specs: FixtureTensor[] = [
    tensor("long", "a", [2], { storageType: "LongStorage" }),
    tensor("half", "b", [2], { storageType: "HalfStorage" }),
    tensor("bf16", "c", [2], { storageType: "BFloat16Storage" }),
    tensor("mask", "d", [3], { storageType: "BoolStorage" }),
    tensor("param", "e", [2], { parameter: true }),
  ];
  const zip = torchZip(stateDictPickle(specs, true), {
    a: new Uint8Array(i64.buffer),
    b: new Uint8Array(half.buffer),
    c: new Uint8Array(bf16.buffer),
    d: new Uint8Array([1, 0, 1]),
    e: f32Bytes([0.25, -8]),
  });
  const got = parseTorchCheckpoint(zip, "dtypes.bin");
  assert.deepEqual([...got.keys()], specs.map((s) => s.name));
  assert.deepEqual(
    [...got.values()].map((t) => t.dtype),
    ["I64", "F16", "BF16", "BOOL", "F32"],
  );
  assert.deepEqual(toBigInt64(got.get("long")!), i64);
  assert.deepEqual([...toFloat32(got.get("half")!)], [1, -2]);
  assert.deepEqual([...toFloat32(got.get("bf16")!)], [1, 3]);
  assert.deepEqual([...got.get("mask")!.bytes], [1, 0, 1]);
  assert.deepEqual([...toFloat32(got.get("param")!)], [0.25, -8]);
});

Deno.test("torch: a training checkpoint's state_dict is used; nested dicts flatten", () => {
  const storages = { "0": f32Bytes([1, 2]), "1": f32Bytes([3]) };
  const inner = stateDictPickle([tensor("layer.weight", "0", [2]), tensor("layer.bias", "1", [1])]);
  // {"epoch": 7, "state_dict": <inner>}: splice the inner dict's opcodes (without PROTO/STOP).
  const body = inner.subarray(2, inner.length - 1);
  const ckpt = new PickleBuilder().proto(2).emptyDict().mark().str("epoch").int(7).str("state_dict")
    .raw(...body).setItems().stop().bytes();
  const got = parseTorchCheckpoint(torchZip(ckpt, storages), "train.ckpt");
  assert.deepEqual([...got.keys()], ["layer.weight", "layer.bias"]);
  assert.deepEqual([...toFloat32(got.get("layer.bias")!)], [3]);

  const nested = new PickleBuilder().proto(2).emptyDict().mark().str("unet").raw(...body).str(
    "step",
  ).int(3)
    .setItems().stop().bytes();
  const flat = parseTorchCheckpoint(torchZip(nested, storages), "nested.pt");
  assert.deepEqual([...flat.keys()], ["unet.layer.weight", "unet.layer.bias"]);
});

Deno.test("torch: truncated and corrupted real checkpoints fail with clear errors", async () => {
  const path = bin("tiny-ldm", "vqvae");
  const bytes = await Deno.readFile(path);
  for (
    const cut of [0, 3, 30, 500, 40_000, bytes.length >> 1, bytes.length - 100, bytes.length - 1]
  ) {
    const err = assertThrows(() => parseTorchCheckpoint(bytes.slice(0, cut), path), Error, path);
    assert.ok(err instanceof ZipError || err instanceof TorchCheckpointError, `${cut}: ${err}`);
    if (cut >= 4) assert.match(err.message, /truncated/);
  }
  // Flip single bytes across the file: each flip is either reported as a named error or lands in
  // a field the reader rightly ignores (timestamps, padding), where the tensors come out intact.
  const clean = parseTorchCheckpoint(bytes, path);
  const dataRanges = [...new ZipArchive(bytes).entries.values()].map((
    e,
  ) => [e.dataOffset, e.dataOffset + e.size]);
  const inEntryData = (at: number) => dataRanges.some(([from, to]) => at >= from && at < to);
  let reported = 0;
  for (let at = 0; at < bytes.length; at += at < 4096 || at > bytes.length - 8192 ? 13 : 4099) {
    const bad = bytes.slice();
    bad[at] ^= 0x5a;
    let result: Map<string, RawTensor>;
    try {
      result = parseTorchCheckpoint(bad, path);
    } catch (e) {
      assert.ok(
        e instanceof ZipError || e instanceof PickleError || e instanceof TorchCheckpointError,
        `byte ${at}: ${e}`,
      );
      assert.ok(e.message.startsWith(path), e.message);
      reported++;
      continue;
    }
    assert.ok(!inEntryData(at), `byte ${at} lies in an entry's data but the change went unnoticed`);
    assert.deepEqual([...result.keys()], [...clean.keys()], `byte ${at}`);
    for (const [name, t] of clean) {
      assert.deepEqual(result.get(name)!.bytes, t.bytes, `byte ${at}: ${name}`);
    }
  }
  assert.ok(reported > 0);
  const inPickle = bytes.slice();
  inPickle[200] ^= 0x5a;
  assertThrows(() => parseTorchCheckpoint(inPickle, path), ZipError, "data.pkl", "CRC-32");
});

Deno.test("torch: legacy, big-endian and non-torch files are named as such", () => {
  // torch < 1.6 wrote a bare pickle stream starting with a magic number.
  const legacy = new PickleBuilder().proto(2).raw(
    0x8a,
    0x0a,
    0x6c,
    0xfc,
    0x9c,
    0x46,
    0xf9,
    0x20,
    0x6a,
    0xa8,
    0x50,
    0x19,
  )
    .stop().bytes();
  assertThrows(
    () => parseTorchCheckpoint(legacy, "old.pth"),
    TorchCheckpointError,
    "old.pth",
    "legacy torch format not supported",
    "pre-1.6",
  );
  const tar = new Uint8Array(1024);
  tar.set(new TextEncoder().encode("ustar"), 257);
  assertThrows(
    () => parseTorchCheckpoint(tar, "older.pth"),
    TorchCheckpointError,
    "legacy torch format not supported",
  );
  assertThrows(
    () => parseTorchCheckpoint(new TextEncoder().encode("hello world"), "text.bin"),
    TorchCheckpointError,
    "not a torch zip checkpoint",
    "68 65 6c 6c",
  );
  assertThrows(
    () => parseTorchCheckpoint(new Uint8Array(0), "empty.bin"),
    TorchCheckpointError,
    "empty.bin",
  );

  const pickle = stateDictPickle([tensor("w", "0", [1])]);
  const big = torchZip(pickle, { "0": f32Bytes([1]) }, [[
    "archive/byteorder",
    new TextEncoder().encode("big"),
  ]]);
  assertThrows(
    () => parseTorchCheckpoint(big, "be.bin"),
    TorchCheckpointError,
    'byte order "big"',
    "big-endian",
  );
  const little = torchZip(pickle, { "0": f32Bytes([1]) }, [[
    "archive/byteorder",
    new TextEncoder().encode("little"),
  ]]);
  assert.equal(parseTorchCheckpoint(little, "le.bin").size, 1);
});

Deno.test("torch: storages and tensors inconsistent with the zip are refused", () => {
  const w = (extra: Partial<FixtureTensor>) => stateDictPickle([tensor("w", "0", [2, 2], extra)]);
  const four = { "0": f32Bytes([1, 2, 3, 4]) };
  assertThrows(
    () => parseTorchCheckpoint(torchZip(w({}), { "0": f32Bytes([1, 2, 3]) }), "short.bin"),
    PickleError,
    'storage "0" (torch.FloatStorage of 4 elements) needs 16 bytes',
    "has 12",
  );
  assertThrows(
    () => parseTorchCheckpoint(torchZip(w({}), {}), "missing.bin"),
    PickleError,
    'storage "0" has no zip entry archive/data/0',
  );
  assertThrows(
    () => parseTorchCheckpoint(torchZip(w({ offset: 1 }), four), "oob.bin"),
    PickleError,
    "reaches element 4",
    'storage "0" has 4',
  );
  assertThrows(
    () => parseTorchCheckpoint(torchZip(w({ stride: [2] }), four), "rank.bin"),
    PickleError,
    "differ in rank",
  );
  assertThrows(
    () =>
      parseTorchCheckpoint(torchZip(w({ storageType: "ComplexFloatStorage" }), four), "cplx.bin"),
    PickleError,
    "refusing global torch.ComplexFloatStorage",
  );
  const list = new PickleBuilder().proto(2).raw(0x5d).stop().bytes();
  assertThrows(
    () => parseTorchCheckpoint(torchZip(list, {}), "list.bin"),
    TorchCheckpointError,
    "top-level object is a list of 0",
  );
  const noTensors = new PickleBuilder().proto(2).emptyDict().mark().str("epoch").int(1).setItems()
    .stop().bytes();
  assertThrows(
    () => parseTorchCheckpoint(torchZip(noTensors, {}), "none.bin"),
    TorchCheckpointError,
    "holds no tensors",
  );
  // A pickle that is damaged but has a valid CRC (so the zip layer cannot see it).
  const cut = w({}).subarray(0, 60);
  assertThrows(
    () => parseTorchCheckpoint(torchZip(cut, four), "cut.bin"),
    PickleError,
    "cut.bin (archive/data.pkl)",
    "truncated",
  );
});
