/**
 * Canonical JSON: the basis of content keys and run ids. Two values that mean the same thing
 * must serialise to the same bytes, whatever the key order they were built with.
 *
 * @module
 */

/**
 * JSON with object keys sorted at every level and no whitespace.
 *
 * Bigints are written as decimal strings (the only way JSON can hold seeds above 2**53); `-0`
 * becomes `0`, as in `JSON.stringify`.
 *
 * @throws {TypeError} for NaN, ±Infinity, functions, symbols or `undefined` inside arrays, which
 *   have no canonical JSON form and would otherwise collide with `null`.
 */
export function canonicalJson(value: unknown): string {
  return write(value, "$");
}

function write(value: unknown, where: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "number":
      if (!Number.isFinite(value)) {
        throw new TypeError(`${where}: ${value} has no canonical JSON form`);
      }
      return JSON.stringify(value);
    case "bigint":
      return JSON.stringify(value.toString());
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => write(v, `${where}[${i}]`)).join(",")}]`;
      }
      if (ArrayBuffer.isView(value)) {
        return write(Array.from(value as unknown as ArrayLike<number>), where);
      }
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${
        entries.map(([k, v]) => `${JSON.stringify(k)}:${write(v, `${where}.${k}`)}`).join(",")
      }}`;
    }
    default:
      throw new TypeError(`${where}: a ${typeof value} has no canonical JSON form`);
  }
}
