/**
 * HTTP `Range` headers, single range only: what Chromium sends to seek in a `<video>` (it refuses
 * to seek an mp4 served without `Accept-Ranges` and 206 answers).
 *
 * @module
 */

/** An inclusive byte range within a file. */
export interface ByteRange {
  /** First byte. */
  start: number;
  /** Last byte (inclusive). */
  end: number;
}

/**
 * Reads a `Range` header against a file of `size` bytes.
 *
 * @returns the range to send; `null` to send the whole file (no header, another unit, several
 *   ranges or a malformed one: RFC 9110 lets a server ignore those); `"unsatisfiable"` for a
 *   well-formed range that lies outside the file (answer 416).
 */
export function parseRange(
  header: string | null,
  size: number,
): ByteRange | "unsatisfiable" | null {
  if (header === null) return null;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return null;
  const [, first, last] = match;
  if (first === "" && last === "") return null;
  if (first === "") {
    // Suffix range: the last n bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Number(last);
  if (last !== "" && end < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(end, size - 1) };
}
