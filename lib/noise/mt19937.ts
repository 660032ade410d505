/**
 * The 32-bit Mersenne Twister exactly as PyTorch's `at::mt19937` runs it, so that a seed used
 * with `torch.manual_seed` reproduces the same raw stream here.
 *
 * @module
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** MT19937 producing 32-bit unsigned outputs (the `std::mt19937` / `at::mt19937` generator). */
export class MT19937 {
  readonly #state = new Uint32Array(N);
  #index = N;

  /**
   * Creates a MT19937.
   *
   * @param seed32 the low 32 bits of the seed; PyTorch keeps only these in the state even
   *   though its seeds are uint64.
   */
  constructor(seed32 = 5489) {
    this.seed(seed32);
  }

  /** Re-initialises the state with the standard MT19937 recurrence from a 32-bit seed. */
  seed(seed32: number): void {
    if (!Number.isInteger(seed32) || seed32 < 0 || seed32 > 0xffffffff) {
      throw new RangeError(`MT19937 seed must be an integer in [0, 2**32-1], got ${seed32}`);
    }
    const s = this.#state;
    s[0] = seed32;
    for (let i = 1; i < N; i++) {
      const prev = s[i - 1];
      // Math.imul keeps the product modulo 2**32, as the C++ uint32 arithmetic does.
      s[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
    this.#index = N;
  }

  /** Next 32-bit output as an unsigned integer in [0, 2**32). */
  nextUint32(): number {
    if (this.#index >= N) this.#twist();
    let y = this.#state[this.#index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  #twist(): void {
    const s = this.#state;
    for (let i = 0; i < N; i++) {
      const y = (s[i] & UPPER_MASK) | (s[(i + 1) % N] & LOWER_MASK);
      s[i] = s[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.#index = 0;
  }
}
