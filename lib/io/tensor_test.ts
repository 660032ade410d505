import assert from "node:assert/strict";
import {
  f32Tensor,
  floatToHalf,
  halfToFloat,
  i64Tensor,
  numel,
  type RawTensor,
  toBigInt64,
  toFloat32,
} from "./tensor.ts";

const ALL_U16 = Uint16Array.from({ length: 65536 }, (_, i) => i);
const isHalfNaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

/**
 * Float32 values over every exponent that matters to halves (subnormal, normal, overflow), with
 * random mantissas, a quarter of them forced onto an exact rounding tie; plus special values.
 */
function probeFloats(): Float32Array {
  const bits = new Uint32Array(200_000);
  let x = 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  for (let i = 0; i < bits.length; i++) {
    const sign = next() & 0x80000000;
    const exponent = 127 - 30 + (next() % 48); // 2^-30 .. 2^17
    let mantissa = next() & 0x7fffff;
    if (i % 4 === 0) mantissa = (mantissa & ~0x1fff) | 0x1000; // halfway between two halves
    bits[i] = (sign | (exponent << 23) | mantissa) >>> 0;
  }
  const special = [
    0,
    -0,
    1,
    -1,
    65504,
    65519.99,
    65520,
    -65520,
    2 ** -24,
    2 ** -25,
    3 * 2 ** -26,
    2 ** -14,
    2 ** -14 - 2 ** -25,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    Infinity,
    -Infinity,
  ];
  return Float32Array.from([...special, ...new Float32Array(bits.buffer)]);
}

Deno.test("tensor: every half bit pattern survives halfToFloat then floatToHalf", () => {
  for (const h of ALL_U16) {
    const f = halfToFloat(h);
    if (isHalfNaN(h)) {
      assert.ok(Number.isNaN(f), `0x${h.toString(16)}`);
      assert.ok(isHalfNaN(floatToHalf(f)), `NaN 0x${h.toString(16)} re-encodes as a NaN`);
    } else {
      assert.equal(floatToHalf(f), h, `0x${h.toString(16)} → ${f}`);
    }
  }
});

Deno.test("tensor: halfToFloat and F16 toFloat32 agree with the engine's Float16Array", () => {
  const reference = new Float16Array(ALL_U16.buffer);
  const t: RawTensor = { dtype: "F16", shape: [65536], bytes: new Uint8Array(ALL_U16.buffer) };
  const decoded = toFloat32(t);
  for (let h = 0; h < 65536; h++) {
    assert.ok(Object.is(halfToFloat(h), reference[h]), `0x${h.toString(16)}`);
    assert.ok(Object.is(decoded[h], Math.fround(reference[h])), `tensor 0x${h.toString(16)}`);
  }
});

Deno.test("tensor: floatToHalf rounds to nearest even like Math.f16round", () => {
  for (const v of probeFloats()) {
    const got = halfToFloat(floatToHalf(v));
    assert.ok(Object.is(got, Math.f16round(v)), `${v}: got ${got}, want ${Math.f16round(v)}`);
  }
});

Deno.test("tensor: every BF16 bit pattern decodes to the float32 with those high bits", () => {
  const t: RawTensor = { dtype: "BF16", shape: [256, 256], bytes: new Uint8Array(ALL_U16.buffer) };
  const bits = new Uint32Array(toFloat32(t).buffer);
  for (let h = 0; h < 65536; h++) assert.equal(bits[h], h << 16 >>> 0, `0x${h.toString(16)}`);
  // And back: truncating the decoded float32 returns the original pattern, NaN payloads included.
  for (let h = 0; h < 65536; h++) assert.equal(bits[h] >>> 16, h);
});

Deno.test("tensor: toFloat32 views aligned F32, copies unaligned, converts integers", () => {
  const data = Float32Array.from([1.5, -2, 3.25]);
  const t = f32Tensor([3], data);
  assert.equal(toFloat32(t).buffer, data.buffer);
  const unaligned = new Uint8Array(13);
  unaligned.set(t.bytes, 1);
  const u = toFloat32({ dtype: "F32", shape: [3], bytes: unaligned.subarray(1) });
  assert.deepEqual([...u], [1.5, -2, 3.25]);
  const i64 = i64Tensor([2, 2], new BigInt64Array([-3n, 0n, 7n, 1n << 40n]));
  assert.deepEqual([...toFloat32(i64)], [-3, 0, 7, 2 ** 40]);
  assert.deepEqual(toBigInt64(i64), new BigInt64Array([-3n, 0n, 7n, 1n << 40n]));
  const i32: RawTensor = {
    dtype: "I32",
    shape: [2],
    bytes: new Uint8Array(new Int32Array([-5, 9]).buffer),
  };
  assert.deepEqual(toBigInt64(i32), new BigInt64Array([-5n, 9n]));
  assert.throws(() => toBigInt64(t), /cannot read F32 tensor as integers/);
  assert.throws(
    () => toFloat32({ dtype: "F32", shape: [2], bytes: new Uint8Array(4) }),
    /needs 8 bytes, has 4/,
  );
  assert.throws(() => f32Tensor([2, 2], new Float32Array(3)), /needs 4 values, got 3/);
  assert.equal(numel([]), 1);
  assert.equal(numel([3, 0, 2]), 0);
});
