import assert from "node:assert/strict";
import pngCodec from "imagescript/png/node.js";
import { crc32 } from "node:zlib";
import {
  colorToBytes,
  colorToHex,
  decodePng,
  encodePng,
  imageToRgba,
  MAX_PNG_PIXELS,
  PngError,
  readPng,
  unitToByte,
} from "./png.ts";

const numpyRound: { float32_bits: number[]; bytes: number[]; exact_halves: number } = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/numpy_round.json", import.meta.url)),
);

function float32FromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

function chunkTypes(png: Uint8Array): string[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const types: string[] = [];
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    types.push(String.fromCharCode(...png.subarray(at + 4, at + 8)));
    at += 12 + length;
  }
  return types;
}

Deno.test("unitToByte matches numpy's (x * 255).round() clamped, on every reference value", () => {
  assert.ok(numpyRound.exact_halves > 100, "fixture should include exact .5 products");
  let checked = 0;
  numpyRound.float32_bits.forEach((bits, i) => {
    const x = float32FromBits(bits);
    assert.equal(unitToByte(x), numpyRound.bytes[i], `x = ${x} (bits ${bits})`);
    checked++;
  });
  assert.ok(checked > 2500);
});

Deno.test("unitToByte: 0 → 0, 1 → 255, k/255 round-trips, halves go to even, out of range clamps", () => {
  assert.equal(unitToByte(0), 0);
  assert.equal(unitToByte(-0), 0);
  assert.equal(unitToByte(1), 255);
  for (let k = 0; k <= 255; k++) assert.equal(unitToByte(k / 255), k);
  // 0.5/255 and 1.5/255 as float32 land just off the half; the exact-half cases are in the fixture.
  assert.equal(unitToByte(0.4999 / 255), 0);
  assert.equal(unitToByte(0.5001 / 255), 1);
  assert.equal(unitToByte(254.4999 / 255), 254);
  assert.equal(unitToByte(254.5001 / 255), 255);
  for (const x of [-0.01, -1, -Infinity]) assert.equal(unitToByte(x), 0);
  for (const x of [1.0001, 2, 1e30, Infinity]) assert.equal(unitToByte(x), 255);
  assert.throws(() => unitToByte(NaN), /NaN/);
});

Deno.test("colorToBytes and colorToHex use the same rounding", () => {
  assert.deepEqual(colorToBytes([1, 0.5, 0]), [255, 128, 0]);
  assert.equal(colorToHex([1, 0.5, 0]), "#FF8000");
  assert.equal(colorToHex([0.2, 0.5, 0.9]), "#3380E6");
  assert.equal(colorToHex([-1, 2, 10 / 255]), "#00FF0A");
});

Deno.test("imageToRgba reads NCHW planes of the chosen batch image", () => {
  const [n, h, w] = [2, 2, 3];
  const images = new Float32Array(n * 3 * h * w);
  // value encodes (image, channel, y, x) so any layout mistake shows
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          images[((b * 3 + c) * h + y) * w + x] = (b * 100 + c * 30 + y * 10 + x) / 255;
        }
      }
    }
  }
  const rgba = imageToRgba(images, 1, w, h);
  assert.equal(rgba.length, h * w * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 4 * (y * w + x);
      assert.deepEqual([...rgba.subarray(i, i + 4)], [
        100 + y * 10 + x,
        130 + y * 10 + x,
        160 + y * 10 + x,
        255,
      ]);
    }
  }
});

Deno.test("imageToRgba clamps out-of-range values and rejects bad input with clear messages", () => {
  const images = new Float32Array(3 * 1 * 2).fill(0.5);
  images[0] = -0.3;
  images[1] = 1.7;
  const rgba = imageToRgba(images, 0, 2, 1);
  assert.equal(rgba[0], 0);
  assert.equal(rgba[4], 255);
  assert.throws(() => imageToRgba(images, 1, 2, 1), /index 1 outside batch of 1/);
  assert.throws(() => imageToRgba(new Float32Array(7), 0, 2, 1), /not a multiple of 3×1×2/);
  assert.throws(() => imageToRgba(images, 0, 0, 1), /positive integers/);
  images[3] = NaN; // channel 1, x 1
  assert.throws(() => imageToRgba(images, 0, 2, 1), /NaN at channel 1, y 0, x 1/);
});

Deno.test("encodePng → decodePng round-trips exact pixels, alpha included", async () => {
  for (const [w, h, seed] of [[1, 1, 3], [64, 64, 7], [37, 11, 9]]) {
    const rgba = randomBytes(w * h * 4, seed);
    const png = await encodePng(rgba, w, h);
    const back = await decodePng(png);
    assert.equal(back.width, w);
    assert.equal(back.height, h);
    assert.deepEqual(back.rgba, rgba);
  }
});

Deno.test("encodePng is deterministic and writes no metadata chunks", async () => {
  const rgba = randomBytes(32 * 16 * 4, 11);
  const a = await encodePng(rgba, 32, 16);
  await new Promise((r) => setTimeout(r, 5)); // a timestamp chunk would now differ
  const b = await encodePng(rgba.slice(), 32, 16);
  assert.deepEqual(a, b);
  assert.deepEqual(chunkTypes(a), ["IHDR", "IDAT", "IEND"]);
  const other = rgba.slice();
  other[5] ^= 1;
  assert.notDeepEqual(await encodePng(other, 32, 16), a);
  assert.throws(() => encodePng(rgba, 32, 15), /expected 32×15×4/);
});

Deno.test("decodePng reads RGB (no alpha) PNGs as opaque RGBA", async () => {
  const rgb = randomBytes(5 * 4 * 3, 5);
  const png: Uint8Array = pngCodec.encode(rgb, { width: 5, height: 4, channels: 3, level: 1 });
  const { width, height, rgba } = await decodePng(png);
  assert.equal(width, 5);
  assert.equal(height, 4);
  for (let i = 0; i < 20; i++) {
    assert.deepEqual([...rgba.subarray(4 * i, 4 * i + 4)], [
      ...rgb.subarray(3 * i, 3 * i + 3),
      255,
    ]);
  }
});

Deno.test("decodePng names the file and the problem for damaged PNGs", async () => {
  const png = await encodePng(randomBytes(16 * 16 * 4, 2), 16, 16);
  await assert.rejects(() => decodePng(png.subarray(0, png.length - 30), "face_007.png"), (e) => {
    assert.ok(e instanceof PngError);
    assert.match(e.message, /^face_007\.png: not a valid PNG: truncated/);
    return true;
  });
  await assert.rejects(() => decodePng(png.subarray(0, 8), "x.png"), /x\.png: .*truncated/);
  const flipped = png.slice();
  flipped[50] ^= 0x40; // inside IDAT
  await assert.rejects(
    () => decodePng(flipped, "flip.png"),
    /flip\.png: .*CRC mismatch in chunk IDAT/,
  );
  await assert.rejects(
    () => decodePng(new TextEncoder().encode("GIF89a not a png"), "a.gif"),
    /a\.gif: not a valid PNG: missing PNG signature/,
  );
  await assert.rejects(() => decodePng(png.subarray(0, 20)), /<memory>: .*truncated/);
});

Deno.test("readPng reports the path of a corrupt file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/broken.png`;
    const png = await encodePng(randomBytes(8 * 8 * 4, 4), 8, 8);
    await Deno.writeFile(path, png.subarray(0, 40));
    await assert.rejects(() => readPng(path), (e) => {
      assert.ok(e instanceof PngError);
      assert.ok(e.message.startsWith(path), e.message);
      return true;
    });
    await Deno.writeFile(path, png);
    assert.equal((await readPng(path)).width, 8);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decodePng refuses a PNG whose header claims more than MAX_PNG_PIXELS, before decoding", async () => {
  const png = await encodePng(randomBytes(4 * 4 * 4, 3), 4, 4);
  const claim = (width: number, height: number) => {
    const forged = png.slice();
    const view = new DataView(forged.buffer);
    view.setUint32(16, width);
    view.setUint32(20, height);
    view.setUint32(29, crc32(forged.subarray(12, 29)) >>> 0); // IHDR's CRC, kept valid
    return forged;
  };
  await assert.rejects(
    () => decodePng(claim(20000, 20000), "bomb.png"),
    /bomb\.png: not a valid PNG: 20000×20000 pixels, more than the 67108864/,
  );
  // The same forgery at the file's true size decodes: only the claim was refused.
  assert.equal((await decodePng(claim(4, 4), "ok.png")).width, 4);
  assert.equal(MAX_PNG_PIXELS, 8192 * 8192);
});
