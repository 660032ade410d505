/**
 * Plain runtime validation of path parameters. Every check names the field (prefixed with the
 * path type, e.g. `bouncingBall.restitution`), shows the offending value and says what is
 * allowed. Wrong JavaScript types raise TypeError; numbers that are NaN, infinite or out of range
 * raise RangeError.
 *
 * @module
 */

import type { Color, Vec3 } from "./cube.ts";

/** Renders a value for an error message: JSON where possible, NaN/Infinity/undefined verbatim. */
export function describeValue(value: unknown): string {
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  try {
    const json = JSON.stringify(
      value,
      (_k, v) => typeof v === "number" && !Number.isFinite(v) ? String(v) : v,
    );
    if (json === undefined) return String(value);
    return json.length > 120 ? `${json.slice(0, 117)}...` : json;
  } catch {
    return String(value);
  }
}

/** Bounds for {@link checkNumber}; omitted bounds are unlimited. */
export interface NumberBounds {
  /** Smallest allowed value. */
  min?: number;
  /** Whether `min` itself is excluded. */
  minExclusive?: boolean;
  /** Largest allowed value. */
  max?: number;
  /** Whether `max` itself is excluded. */
  maxExclusive?: boolean;
  /** Require an integer. */
  integer?: boolean;
}

function describeBounds(b: NumberBounds): string {
  const kind = b.integer ? "an integer" : "a finite number";
  const lo = b.min === undefined ? "(-∞" : `${b.minExclusive ? "(" : "["}${b.min}`;
  const hi = b.max === undefined ? "∞)" : `${b.max}${b.maxExclusive ? ")" : "]"}`;
  if (b.min === undefined && b.max === undefined) return kind;
  if (b.max === undefined) return `${kind} ${b.minExclusive ? ">" : ">="} ${b.min}`;
  if (b.min === undefined) return `${kind} ${b.maxExclusive ? "<" : "<="} ${b.max}`;
  return `${kind} in ${lo}, ${hi}`;
}

/**
 * Checks that `value` is a finite number within `bounds`.
 *
 * @throws {TypeError} if not a number; {RangeError} if NaN, infinite, fractional where an
 *   integer is required, or out of bounds.
 */
export function checkNumber(field: string, value: unknown, bounds: NumberBounds = {}): number {
  const allowed = describeBounds(bounds);
  if (typeof value !== "number") {
    throw new TypeError(`${field} must be ${allowed}, got ${describeValue(value)}`);
  }
  const ok = Number.isFinite(value) &&
    (!bounds.integer || Number.isInteger(value)) &&
    (bounds.min === undefined ||
      (bounds.minExclusive ? value > bounds.min : value >= bounds.min)) &&
    (bounds.max === undefined || (bounds.maxExclusive ? value < bounds.max : value <= bounds.max));
  if (!ok) throw new RangeError(`${field} must be ${allowed}, got ${describeValue(value)}`);
  return value;
}

function checkTriple(field: string, value: unknown, what: string, bounds: NumberBounds): Vec3 {
  if (!Array.isArray(value) || value.length !== 3) {
    throw new TypeError(`${field} must be an array of 3 ${what}, got ${describeValue(value)}`);
  }
  return [
    checkNumber(`${field}[0]`, value[0], bounds),
    checkNumber(`${field}[1]`, value[1], bounds),
    checkNumber(`${field}[2]`, value[2], bounds),
  ];
}

/** Checks an RGB colour: three finite numbers in [0, 1]; returns a copy. */
export function checkColor(field: string, value: unknown): Color {
  return checkTriple(field, value, "numbers in [0, 1]", { min: 0, max: 1 });
}

/** Checks a 3-vector of finite numbers; returns a copy. */
export function checkVector(field: string, value: unknown): Vec3 {
  return checkTriple(field, value, "finite numbers", {});
}

/**
 * Checks that `value` is one of `options` (compared with ===).
 *
 * @throws {TypeError} if of a different type than the options; {RangeError} otherwise.
 */
export function checkOneOf<T extends string>(
  field: string,
  value: unknown,
  options: readonly T[],
): T {
  if (options.includes(value as T)) return value as T;
  const list = options.map((o) => JSON.stringify(o)).join(", ");
  const Err = typeof value === "string" ? RangeError : TypeError;
  throw new Err(`${field} must be one of ${list}, got ${describeValue(value)}`);
}

/**
 * Checks that `value` is a plain object whose keys are all in `allowed`, so a misspelt
 * parameter fails loudly instead of silently falling back to its default.
 *
 * @throws {TypeError} for a non-object or an unknown key.
 */
export function checkObject(
  field: string,
  value: unknown,
  allowed: readonly string[],
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${field} must be an object, got ${describeValue(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new TypeError(
        `${field} has unknown field ${JSON.stringify(key)}; allowed fields: ${allowed.join(", ")}`,
      );
    }
  }
  return value as Record<string, unknown>;
}
