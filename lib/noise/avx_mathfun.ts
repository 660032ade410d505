/**
 * Float32 `log` and `sincos` exactly as PyTorch's AVX2 `normal_fill` evaluates them: the Cephes
 * polynomials of `avx_mathfun.h` (`log256_ps`, `sincos256_ps`), with every operation rounded to
 * float32 and the multiply-adds that the compiler fuses into FMA instructions evaluated fused.
 * Using libm instead would be within ~2 ulp; this reproduces torch's bits.
 *
 * Only valid for the arguments the normal fill produces: `logF32` for x in (0, 1], `sincosF32`
 * for x in [0, 2π).
 *
 * @module
 */

const f32 = Math.fround;

/**
 * Fused multiply-add of float32 values: the product of two float32 numbers is exact in float64,
 * so one float64 add and one rounding to float32 give the fused result (the double rounding
 * this risks was checked not to occur against PyTorch's output).
 */
function fma(a: number, b: number, c: number): number {
  return f32(a * b + c);
}

const SQRT_HALF = f32(0.707106781186547524);
const LOG_P0 = f32(7.0376836292e-2);
const LOG_P1 = f32(-1.1514610310e-1);
const LOG_P2 = f32(1.1676998740e-1);
const LOG_P3 = f32(-1.2420140846e-1);
const LOG_P4 = f32(1.4249322787e-1);
const LOG_P5 = f32(-1.6668057665e-1);
const LOG_P6 = f32(2.0000714765e-1);
const LOG_P7 = f32(-2.4999993993e-1);
const LOG_P8 = f32(3.3333331174e-1);
const LOG_Q1 = f32(-2.12194440e-4);
const LOG_Q2 = f32(0.693359375);

const bitsF32 = new Float32Array(1);
const bitsU32 = new Uint32Array(bitsF32.buffer);

/** Natural logarithm of a positive normal float32 as `log256_ps` computes it. */
export function logF32(value: number): number {
  bitsF32[0] = value;
  const bits = bitsU32[0];
  let exponent = f32((bits >>> 23) - 0x7f + 1);
  // Mantissa scaled into [0.5, 1).
  bitsU32[0] = (bits & 0x807fffff) | 0x3f000000;
  const mantissa = bitsF32[0];
  let x = f32(mantissa - 1);
  if (mantissa < SQRT_HALF) {
    // Use [sqrt(1/2), sqrt(2)) around 1 instead, where the polynomial is accurate.
    exponent = f32(exponent - 1);
    x = f32(x + mantissa);
  }
  const z = f32(x * x);
  let y = fma(LOG_P0, x, LOG_P1);
  y = fma(y, x, LOG_P2);
  y = fma(y, x, LOG_P3);
  y = fma(y, x, LOG_P4);
  y = fma(y, x, LOG_P5);
  y = fma(y, x, LOG_P6);
  y = fma(y, x, LOG_P7);
  y = fma(y, x, LOG_P8);
  y = f32(y * x);
  y = fma(y, z, f32(exponent * LOG_Q1));
  y = fma(-z, 0.5, y);
  x = f32(x + y);
  return fma(exponent, LOG_Q2, x);
}

const FOUR_OVER_PI = f32(1.27323954473516);
const MINUS_DP1 = f32(-0.78515625);
const MINUS_DP2 = f32(-2.4187564849853515625e-4);
const MINUS_DP3 = f32(-3.77489497744594108e-8);
const SIN_P0 = f32(-1.9515295891e-4);
const SIN_P1 = f32(8.3321608736e-3);
const SIN_P2 = f32(-1.6666654611e-1);
const COS_P0 = f32(2.443315711809948e-5);
const COS_P1 = f32(-1.388731625493765e-3);
const COS_P2 = f32(4.166664568298827e-2);

/** Output of {@link sincosF32}; reused so that the hot loop allocates nothing. */
export const sincosResult: { sin: number; cos: number } = { sin: 0, cos: 0 };

/**
 * Sine and cosine of a non-negative float32 as `sincos256_ps` computes them, written into
 * {@link sincosResult} (which is also returned).
 */
export function sincosF32(value: number): { sin: number; cos: number } {
  // Octant index rounded up to even, then Cody-Waite reduction to [-π/4, π/4].
  let octant = Math.trunc(f32(value * FOUR_OVER_PI));
  octant = (octant + 1) & ~1;
  let x = fma(octant, MINUS_DP1, value);
  x = fma(octant, MINUS_DP2, x);
  x = fma(octant, MINUS_DP3, x);
  const z = f32(x * x);

  let cosPoly = fma(COS_P0, z, COS_P1);
  cosPoly = fma(cosPoly, z, COS_P2);
  cosPoly = f32(cosPoly * z);
  cosPoly = fma(cosPoly, z, -f32(z * 0.5));
  cosPoly = f32(cosPoly + 1);

  let sinPoly = fma(SIN_P0, z, SIN_P1);
  sinPoly = fma(sinPoly, z, SIN_P2);
  sinPoly = f32(sinPoly * z);
  sinPoly = fma(sinPoly, x, x);

  const swapPolynomials = (octant & 2) !== 0;
  const sin = swapPolynomials ? cosPoly : sinPoly;
  const cos = swapPolynomials ? sinPoly : cosPoly;
  sincosResult.sin = (octant & 4) !== 0 ? -sin : sin;
  sincosResult.cos = ((octant - 2) & 4) === 0 ? -cos : cos;
  return sincosResult;
}
