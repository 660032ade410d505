/**
 * `torch.randn` on PyTorch's CPU generator, reproduced bit-for-bit in its random stream: the
 * same seed gives the same initial latents a PyTorch/diffusers user got (PyTorch 1.13 / 2.x CPU
 * `normal_kernel`).
 *
 * @module
 */

import { logF32, sincosF32 } from "./avx_mathfun.ts";
import { MT19937 } from "./mt19937.ts";

/** A seed as `torch.manual_seed` takes it: a uint64 given as a safe integer or a bigint. */
export type TorchSeed = number | bigint;

const MAX_SEED = (1n << 64n) - 1n;
const TWO_PI = 2 * Math.PI;
const TWO_PI_F32 = Math.fround(2 * Math.PI);
const FLOAT_UNIFORM_MASK = (1 << 24) - 1;
const FLOAT_UNIFORM_SCALE = 2 ** -24;
const DOUBLE_HIGH_MASK = (1 << 21) - 1; // the top 21 of 53 mantissa bits come from the first draw
const DOUBLE_UNIFORM_SCALE = 2 ** -53;
/** PyTorch switches from per-element Box-Muller to the 16-wide block fill at this size. */
const BLOCK = 16;

/**
 * Validates a seed and returns it as a bigint in [0, 2**64-1].
 *
 * @throws {RangeError} for negative, fractional, non-finite, unsafe or too large seeds.
 */
export function parseTorchSeed(seed: TorchSeed): bigint {
  if (typeof seed === "bigint") {
    if (seed < 0n || seed > MAX_SEED) {
      throw new RangeError(`seed must be in [0, 2**64-1], got ${seed}n`);
    }
    return seed;
  }
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a non-negative integer, got ${String(seed)}`);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(
      `seed ${seed} is beyond Number.MAX_SAFE_INTEGER and cannot be represented exactly; ` +
        `pass it as a bigint (at most 2**64-1)`,
    );
  }
  return BigInt(seed);
}

function shapeNumel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`shape [${shape}] has an invalid dimension ${d}`);
    }
    n *= d;
  }
  return n;
}

/**
 * PyTorch's default CPU generator (`torch.Generator()`): an MT19937 engine plus the cached
 * second normal of the double Box-Muller, so successive draws continue the stream exactly as
 * torch's do.
 */
export class TorchGenerator {
  readonly #engine = new MT19937();
  #seed = 0n;
  #nextDoubleNormal: number | null = null;

  /** Equivalent to `torch.Generator().manual_seed(seed)`. */
  constructor(seed: TorchSeed = 67280421310721n) {
    this.manualSeed(seed);
  }

  /** The seed last given to {@link manualSeed} (`generator.initial_seed()`). */
  get initialSeed(): bigint {
    return this.#seed;
  }

  /** Reseeds like `generator.manual_seed(seed)`; clears the cached normal. Returns `this`. */
  manualSeed(seed: TorchSeed): this {
    this.#seed = parseTorchSeed(seed);
    // at::mt19937 keeps only the low 32 bits of the uint64 seed in its state.
    this.#engine.seed(Number(this.#seed & 0xffffffffn));
    this.#nextDoubleNormal = null;
    return this;
  }

  /** Next raw 32-bit output (`generator.random()`). */
  random32(): number {
    return this.#engine.nextUint32();
  }

  /** `torch.randn(*shape, generator=this)` in a new Float32Array (row-major). */
  randn(shape: readonly number[]): Float32Array {
    const out = new Float32Array(shapeNumel(shape));
    this.randnInto(out);
    return out;
  }

  /**
   * Fills `out` as `torch.randn` fills a contiguous float32 tensor of `out.length` elements
   * (the values depend only on the element count, not on the shape). Allocation-free.
   */
  randnInto(out: Float32Array): Float32Array {
    if (out.length >= BLOCK) this.#normalFill(out);
    else for (let i = 0; i < out.length; i++) out[i] = this.#doubleNormal();
    return out;
  }

  #floatUniform(): number {
    return (this.#engine.nextUint32() & FLOAT_UNIFORM_MASK) * FLOAT_UNIFORM_SCALE;
  }

  #doubleUniform(): number {
    const high = this.#engine.nextUint32() & DOUBLE_HIGH_MASK;
    const low = this.#engine.nextUint32();
    return (high * 2 ** 32 + low) * DOUBLE_UNIFORM_SCALE;
  }

  /** `at::normal_distribution<double>` with mean 0, std 1, including its one-value cache. */
  #doubleNormal(): number {
    if (this.#nextDoubleNormal !== null) {
      const cached = this.#nextDoubleNormal;
      this.#nextDoubleNormal = null;
      return cached;
    }
    const u1 = this.#doubleUniform();
    const u2 = this.#doubleUniform();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = TWO_PI * u1;
    this.#nextDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** `normal_fill`: uniforms for every element, then Box-Muller over blocks of 16. */
  #normalFill(data: Float32Array): void {
    const size = data.length;
    for (let i = 0; i < size; i++) data[i] = this.#floatUniform();
    for (let i = 0; i + BLOCK <= size; i += BLOCK) boxMuller16(data, i);
    if (size % BLOCK !== 0) {
      // PyTorch redraws the last 16 positions and transforms them as one more block.
      const start = size - BLOCK;
      for (let i = start; i < size; i++) data[i] = this.#floatUniform();
      boxMuller16(data, start);
    }
  }
}

/**
 * `normal_fill_16_AVX2`: Box-Muller pairing element j with j+8 of a 16-block, in place, in
 * float32 arithmetic with the AVX2 kernel's log/sincos, so the result is bit-identical to torch
 * on x86-64 CPUs.
 */
function boxMuller16(data: Float32Array, offset: number): void {
  for (let j = offset; j < offset + 8; j++) {
    const u1 = 1 - data[j]; // [0, 1) -> (0, 1] so the log is finite; exact in float32
    const radius = Math.fround(Math.sqrt(-2 * logF32(u1)));
    const theta = Math.fround(TWO_PI_F32 * data[j + 8]);
    const { sin, cos } = sincosF32(theta);
    data[j] = radius * cos;
    data[j + 8] = radius * sin;
  }
}

/** `torch.manual_seed(seed); torch.randn(*shape)` on the CPU, as a Float32Array (row-major). */
export function torchRandn(shape: readonly number[], seed: TorchSeed): Float32Array {
  return new TorchGenerator(seed).randn(shape);
}
