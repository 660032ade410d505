/**
 * Shards: splitting one run over several processes or machines. Shard `i/n` renders the frames
 * whose index modulo `n` is `i` — a deterministic, interleaved share, so every shard gets frames
 * from the whole path (and a similar amount of work) whatever the frame count. Each shard writes
 * its own folder; `deno task merge` joins them into one run.
 *
 * @module
 */

/** Shard `index` of `count`. */
export interface Shard {
  /** 0-based shard number, `0 ≤ index < count`. */
  index: number;
  /** Number of shards. */
  count: number;
}

/** Most shards a run may be split into. */
export const MAX_SHARDS = 100_000;

/** What `--shard` accepts, for messages. */
export const SHARD_ALLOWED = `i/n with integers 0 ≤ i < n ≤ ${MAX_SHARDS}, e.g. 0/4 ` +
  `(shard i renders the frames whose index mod n is i)`;

/** Parses `i/n`; null if the text is not a valid shard. */
export function parseShard(text: string): Shard | null {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) return null;
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > MAX_SHARDS || index >= count) return null;
  return { index, count };
}

/** Whether `value` is a valid {@link Shard}. */
export function isShard(value: unknown): value is Shard {
  const s = value as Shard;
  return !!s && typeof s === "object" && Number.isInteger(s.index) &&
    Number.isInteger(s.count) && s.count >= 1 && s.count <= MAX_SHARDS && s.index >= 0 &&
    s.index < s.count;
}

/** Whether frame `frameIndex` belongs to `shard`. */
export function inShard(frameIndex: number, shard: Shard): boolean {
  return frameIndex % shard.count === shard.index;
}

/** `2/4`. */
export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** Compact list of frame indices for messages: `0-3, 8, 12-13`; long lists are cut. */
export function formatIndices(indices: readonly number[], most = 20): string {
  const sorted = [...indices].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.length > most
    ? `${ranges.slice(0, most).join(", ")}, … (${sorted.length} in all)`
    : ranges.join(", ");
}
