/**
 * The one in-memory tensor form shared by every reader and writer: raw little-endian bytes plus
 * dtype and shape. Readers hand out views into the file's buffer, so a 1 GB checkpoint is held
 * once; conversion to Float32Array happens only where a consumer needs numbers.
 *
 * @module
 */

/** Element types as safetensors names them. */
export type DType =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U8"
  | "BOOL";

/** Bytes per element for each {@link DType}. */
export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** A tensor as stored on disk: little-endian element bytes, row-major (C order). */
export interface RawTensor {
  /** Element type. */
  dtype: DType;
  /** Dimensions, outermost first; `[]` is a scalar. */
  shape: number[];
  /** Exactly `numel(shape) * DTYPE_SIZE[dtype]` bytes; may be a view into a larger buffer. */
  bytes: Uint8Array;
}

/** Number of elements of a shape (1 for a scalar). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Wraps a Float32Array as an F32 {@link RawTensor} without copying. */
export function f32Tensor(shape: number[], data: Float32Array): RawTensor {
  if (data.length !== numel(shape)) {
    throw new RangeError(`shape [${shape}] needs ${numel(shape)} values, got ${data.length}`);
  }
  return {
    dtype: "F32",
    shape,
    bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** Wraps a BigInt64Array as an I64 {@link RawTensor} without copying. */
export function i64Tensor(shape: number[], data: BigInt64Array): RawTensor {
  if (data.length !== numel(shape)) {
    throw new RangeError(`shape [${shape}] needs ${numel(shape)} values, got ${data.length}`);
  }
  return {
    dtype: "I64",
    shape,
    bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** Decodes one IEEE 754 half-precision value. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Encodes a number as IEEE 754 half precision, rounding to nearest even. */
export function floatToHalf(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  e = half >>> 10;
  return sign | half;
}

function view(t: RawTensor): DataView {
  return new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
}

function checkLength(t: RawTensor): number {
  const n = numel(t.shape);
  const want = n * DTYPE_SIZE[t.dtype];
  if (t.bytes.byteLength !== want) {
    throw new RangeError(
      `${t.dtype} tensor of shape [${t.shape}] needs ${want} bytes, has ${t.bytes.byteLength}`,
    );
  }
  return n;
}

/**
 * The tensor's values as a Float32Array. For F32 data that is suitably aligned this is a view
 * (no copy); every other dtype is converted.
 */
export function toFloat32(t: RawTensor): Float32Array {
  const n = checkLength(t);
  if (t.dtype === "F32") {
    if (t.bytes.byteOffset % 4 === 0) {
      return new Float32Array(t.bytes.buffer, t.bytes.byteOffset, n);
    }
    return new Float32Array(t.bytes.slice().buffer);
  }
  const out = new Float32Array(n);
  const dv = view(t);
  switch (t.dtype) {
    case "F64":
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      break;
    case "F16":
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
      break;
    case "BF16": {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(i * 2, true) << 16;
      break;
    }
    case "I64":
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
      break;
    case "I32":
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true);
      break;
    case "I16":
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true);
      break;
    case "I8":
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      break;
    case "U8":
    case "BOOL":
      for (let i = 0; i < n; i++) out[i] = t.bytes[i];
      break;
  }
  return out;
}

/** The tensor's values as a BigInt64Array (integer dtypes only). */
export function toBigInt64(t: RawTensor): BigInt64Array {
  const n = checkLength(t);
  const dv = view(t);
  const out = new BigInt64Array(n);
  switch (t.dtype) {
    case "I64":
      for (let i = 0; i < n; i++) out[i] = dv.getBigInt64(i * 8, true);
      return out;
    case "I32":
      for (let i = 0; i < n; i++) out[i] = BigInt(dv.getInt32(i * 4, true));
      return out;
    case "I16":
      for (let i = 0; i < n; i++) out[i] = BigInt(dv.getInt16(i * 2, true));
      return out;
    case "I8":
      for (let i = 0; i < n; i++) out[i] = BigInt(dv.getInt8(i));
      return out;
    case "U8":
    case "BOOL":
      for (let i = 0; i < n; i++) out[i] = BigInt(t.bytes[i]);
      return out;
    default:
      throw new TypeError(`cannot read ${t.dtype} tensor as integers`);
  }
}
