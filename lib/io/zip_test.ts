import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { buildZip } from "./_test_util.ts";
import { ZipArchive, ZipError } from "./zip.ts";

const REF = new URL("../testdata/ldm-reference/", import.meta.url);
const VQ_BIN = new URL("tiny-ldm/vqvae/diffusion_pytorch_model.bin", REF).pathname;

function sampleEntries(): [string, Uint8Array][] {
  const big = new Uint8Array(1000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 37) & 0xff;
  return [
    ["archive/data.pkl", new TextEncoder().encode("pickle bytes")],
    ["archive/data/0", big],
    ["archive/data/1", new Uint8Array(0)],
    ["archive/version", new TextEncoder().encode("3\n")],
  ];
}

function assertZipError(fn: () => unknown, ...fragments: (string | RegExp)[]): ZipError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ZipError, `expected ZipError, got ${caught}`);
  for (const f of fragments) {
    if (typeof f === "string") {
      assert.ok(caught.message.includes(f), `"${caught.message}" lacks "${f}"`);
    } else assert.match(caught.message, f);
  }
  return caught;
}

Deno.test("zip: reads torch's own archive, entries are views into the file", async () => {
  const bytes = await Deno.readFile(VQ_BIN);
  const zip = new ZipArchive(bytes, VQ_BIN);
  const names = zip.names();
  assert.ok(names.includes("diffusion_pytorch_model/data.pkl"));
  assert.equal(new TextDecoder().decode(zip.read("diffusion_pytorch_model/version")), "3\n");
  const storages = names.filter((n) => n.startsWith("diffusion_pytorch_model/data/"));
  assert.ok(storages.length > 100);
  for (const name of storages) {
    const data = zip.read(name);
    assert.equal(data.buffer, bytes.buffer, `${name} was copied`);
    assert.equal(data.byteLength, zip.entries.get(name)!.size);
    // torch pads each storage to 64-byte alignment so it can be viewed as any dtype.
    assert.equal(data.byteOffset % 64, 0, `${name} is not 64-byte aligned`);
  }
});

Deno.test("zip: round trip through torch-style writer, classic and ZIP64 extra fields", () => {
  for (const zip64Extra of [false, true]) {
    const entries = sampleEntries();
    const bytes = buildZip(entries, { zip64Extra });
    const zip = new ZipArchive(bytes, "rt.zip");
    assert.deepEqual(zip.names(), entries.map(([n]) => n));
    for (const [name, data] of entries) {
      const got = zip.read(name);
      assert.deepEqual(got, data);
      assert.equal(got.buffer, bytes.buffer);
      assert.equal(zip.entries.get(name)!.crc32, crc32(data) >>> 0);
    }
  }
});

Deno.test("zip: DEFLATE entries are inflated and CRC-checked", () => {
  const entries = sampleEntries();
  const bytes = buildZip(entries, { deflate: new Set(["archive/data/0", "archive/data.pkl"]) });
  const zip = new ZipArchive(bytes, "deflated.zip");
  assert.equal(zip.entries.get("archive/data/0")!.method, 8);
  assert.ok(zip.entries.get("archive/data/0")!.compressedSize < 1000);
  for (const [name, data] of entries) assert.deepEqual(zip.read(name), data);
});

Deno.test("zip: unknown compression method, missing entry, duplicate names", () => {
  const entries = sampleEntries();
  const bytes = buildZip(entries);
  const dv = new DataView(bytes.buffer);
  const cd = dv.getUint32(bytes.length - 22 + 16, true);
  const bzip = bytes.slice();
  new DataView(bzip.buffer).setUint16(cd + 10, 12, true);
  assertZipError(
    () => new ZipArchive(bzip, "m.zip"),
    "m.zip",
    "compression method 12",
    "archive/data.pkl",
  );
  assertZipError(() => new ZipArchive(bytes, "m.zip").read("nope"), 'no entry "nope"');
  const dup = buildZip([entries[0], entries[0]]);
  assertZipError(() => new ZipArchive(dup, "dup.zip"), 'duplicate entry "archive/data.pkl"');
});

Deno.test("zip: truncation anywhere gives a ZipError naming the file", async () => {
  const bytes = await Deno.readFile(VQ_BIN);
  const cuts = [
    0,
    1,
    4,
    21,
    100,
    64 * 1024,
    bytes.length >> 1,
    bytes.length - 200,
    bytes.length - 23,
    bytes.length - 1,
  ];
  for (const cut of cuts) {
    assertZipError(() => new ZipArchive(bytes.subarray(0, cut), VQ_BIN), VQ_BIN);
  }
  assertZipError(() => new ZipArchive(bytes.subarray(0, 10), "short.bin"), "too short");
  assertZipError(
    () => new ZipArchive(bytes.subarray(0, bytes.length - 1), "cut.bin"),
    "no end-of-central-directory record",
  );
});

Deno.test("zip: corrupt structures and data are reported, not misread", () => {
  const entries = sampleEntries();
  const good = buildZip(entries);
  const dv = new DataView(good.buffer);
  const eocd = good.length - 22;
  const cd = dv.getUint32(eocd + 16, true);
  const locator = eocd - 20;
  const eocd64 = Number(dv.getBigUint64(locator + 8, true));
  const mutate = (f: (d: DataView, b: Uint8Array) => void) => {
    const b = good.slice();
    f(new DataView(b.buffer), b);
    return b;
  };

  assertZipError(
    () => new ZipArchive(mutate((d) => d.setUint32(cd, 0xdeadbeef, true)), "c.zip"),
    "bad central directory signature",
  );
  assertZipError(
    () => new ZipArchive(mutate((d) => d.setUint32(0, 0xdeadbeef, true)), "c.zip"),
    "bad local header signature at byte 0",
  );
  assertZipError(
    () => new ZipArchive(mutate((d) => d.setUint32(eocd64, 0, true)), "c.zip"),
    "bad ZIP64 end-of-central-directory signature",
  );
  assertZipError(
    () => new ZipArchive(mutate((d) => d.setBigUint64(eocd64 + 48, 1n << 40n, true)), "c.zip"),
    "central directory",
    "runs past",
  );
  // Entry 0's local header offset pointing beyond the file.
  assertZipError(
    () => new ZipArchive(mutate((d) => d.setUint32(cd + 42, 0x7fffff00, true)), "c.zip"),
    'entry "archive/data.pkl" local header offset',
    "out of range",
  );
  // Entry 1's size inflated so its data would run into the central directory.
  const size1At = cd + 46 + entries[0][0].length + 20;
  assertZipError(
    () =>
      new ZipArchive(
        mutate((d) => {
          d.setUint32(size1At, 1 << 30, true);
          d.setUint32(size1At + 4, 1 << 30, true);
        }),
        "c.zip",
      ),
    'entry "archive/data/0" data',
    "runs into the central directory",
  );
  // A flipped data byte is caught by the CRC when the entry is read.
  const dataAt = new ZipArchive(good).entries.get("archive/data/0")!.dataOffset;
  const flipped = mutate((_, b) => (b[dataAt + 500] ^= 0x01));
  const zip = new ZipArchive(flipped, "c.zip");
  assertZipError(() => zip.read("archive/data/0"), 'entry "archive/data/0" is corrupt', "CRC-32");
  assert.deepEqual(
    new ZipArchive(flipped, "c.zip", { verifyCrc: false }).read("archive/data/0")[500],
    flipped[dataAt + 500],
  );
  // Encrypted flag.
  assertZipError(
    () => new ZipArchive(mutate((d) => d.setUint16(cd + 8, 0x0809, true)), "c.zip"),
    "encrypted",
  );
});

Deno.test("zip: classic archive without ZIP64 records (as other zip tools write)", () => {
  const entries = sampleEntries();
  const z64 = buildZip(entries);
  const dv = new DataView(z64.buffer);
  const eocd = z64.length - 22;
  const eocd64 = Number(dv.getBigUint64(eocd - 20 + 8, true));
  // Drop the ZIP64 record and locator; the classic record still holds everything.
  const classic = new Uint8Array(eocd64 + 22);
  classic.set(z64.subarray(0, eocd64));
  classic.set(z64.subarray(eocd), eocd64);
  const zip = new ZipArchive(classic, "classic.zip");
  for (const [name, data] of entries) assert.deepEqual(zip.read(name), data);
  // A saturated classic field without a ZIP64 locator cannot be resolved.
  new DataView(classic.buffer).setUint32(eocd64 + 16, 0xffffffff, true);
  assertZipError(() => new ZipArchive(classic, "classic.zip"), "needs ZIP64");
});
