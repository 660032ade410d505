/**
 * A small least-recently-used cache of computations.
 *
 * @module
 */

/** A small least-recently-used map of promises: concurrent asks for one key compute once. */
export class LruCache<T> {
  readonly #map = new Map<string, Promise<T>>();

  /** @param capacity entries kept */
  constructor(readonly capacity: number) {}

  /** The cached value of `key`, computing it with `make` when absent; failures are not kept. */
  get(key: string, make: () => Promise<T>): Promise<T> {
    const hit = this.#map.get(key);
    if (hit) {
      this.#map.delete(key);
      this.#map.set(key, hit);
      return hit;
    }
    const value = make();
    this.#map.set(key, value);
    value.catch(() => this.#map.get(key) === value && this.#map.delete(key));
    while (this.#map.size > this.capacity) this.#map.delete(this.#map.keys().next().value!);
    return value;
  }

  /** Entries held. */
  get size(): number {
    return this.#map.size;
  }
}
