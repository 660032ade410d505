/**
 * Structural difference of two JSON values, as a list of changes addressed by JSON paths
 * (`spec.seed`, `spec.frames[2].color`, `model.info.sha256["unet.onnx"]`).
 *
 * @module
 */

/** One difference between two JSON values. */
export interface JsonChange {
  /** JSON path of the value, rooted at the name given to {@link deepDiff}. */
  path: string;
  /** `changed` (in both, different), `added` (only in B) or `removed` (only in A). */
  kind: "changed" | "added" | "removed";
  /** The value in A; absent when added. */
  a?: unknown;
  /** The value in B; absent when removed. */
  b?: unknown;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Appends an object key to a JSON path: `.key`, or `["odd key"]` when it is no identifier. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return IDENTIFIER.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function walk(a: unknown, b: unknown, path: string, out: JsonChange[]): void {
  if (Object.is(a, b)) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const p = childPath(path, i);
      if (i >= a.length) out.push({ path: p, kind: "added", b: b[i] });
      else if (i >= b.length) out.push({ path: p, kind: "removed", a: a[i] });
      else walk(a[i], b[i], p, out);
    }
    return;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const p = childPath(path, key);
      const inA = Object.hasOwn(a, key) && a[key] !== undefined;
      const inB = Object.hasOwn(b, key) && b[key] !== undefined;
      if (inA && inB) walk(a[key], b[key], p, out);
      else if (inB) out.push({ path: p, kind: "added", b: b[key] });
      else if (inA) out.push({ path: p, kind: "removed", a: a[key] });
    }
    return;
  }
  out.push({ path, kind: "changed", a, b });
}

/**
 * Lists every difference between two JSON values, depth first with object keys sorted, so the
 * output is stable. Arrays are compared element by element.
 * @param root name of the values, the first segment of every path (e.g. `spec`)
 */
export function deepDiff(a: unknown, b: unknown, root = ""): JsonChange[] {
  const out: JsonChange[] = [];
  walk(a, b, root, out);
  return out;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One line per change: `spec.seed: 1 → 2`, `spec.label: (absent) → "x"`. */
export function formatChange(change: JsonChange): string {
  const a = change.kind === "added" ? "(absent)" : show(change.a);
  const b = change.kind === "removed" ? "(absent)" : show(change.b);
  return `${change.path}: ${a} → ${b}`;
}
