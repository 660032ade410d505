/**
 * Typed access to the fields of a diffusers `config.json`, with diffusers' defaults for missing
 * keys and errors that name the file, the field, the offending value and what is accepted.
 *
 * @module
 */

/** A config value we cannot use; the message names the field, the value and what is supported. */
export class ConfigError extends Error {
  /** The config field (as spelled in config.json), or `""` for the whole file. */
  readonly field: string;

  /**
   * @param source file name or label of the config
   * @param field field name as spelled in config.json
   * @param problem what is wrong and what is supported
   */
  constructor(source: string, field: string, problem: string) {
    super(field ? `${source}: field "${field}": ${problem}` : `${source}: ${problem}`);
    this.name = "ConfigError";
    this.field = field;
  }
}

/** Reads typed fields out of a parsed config.json object. */
export class ConfigReader {
  readonly #raw: Record<string, unknown>;
  readonly #source: string;

  /**
   * @param raw the parsed JSON
   * @param source a label for messages (file path or model name)
   * @param className expected `_class_name`, checked when the config names one
   */
  constructor(raw: unknown, source: string, className: string) {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new ConfigError(source, "", `expected a JSON object, got ${describe(raw)}`);
    }
    this.#raw = raw as Record<string, unknown>;
    this.#source = source;
    const cls = this.#raw._class_name;
    if (cls !== undefined && cls !== className) {
      throw new ConfigError(source, "_class_name", `expected "${className}", got ${describe(cls)}`);
    }
  }

  /** Builds a {@link ConfigError} for `field` of this config. */
  error(field: string, problem: string): ConfigError {
    return new ConfigError(this.#source, field, problem);
  }

  /** The raw value of a field (undefined when absent). */
  raw(field: string): unknown {
    return this.#raw[field];
  }

  /** An integer ≥ `min`. */
  int(field: string, fallback: number, min = 0): number {
    const v = this.#value(field, fallback);
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      throw this.error(field, `expected an integer >= ${min}, got ${describe(v)}`);
    }
    return v;
  }

  /** An integer ≥ `min`, or null. */
  intOrNull(field: string, fallback: number | null, min = 1): number | null {
    const v = this.#value(field, fallback);
    if (v === null) return null;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      throw this.error(field, `expected null or an integer >= ${min}, got ${describe(v)}`);
    }
    return v;
  }

  /** A finite number. */
  number(field: string, fallback: number): number {
    const v = this.#value(field, fallback);
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw this.error(field, `expected a number, got ${describe(v)}`);
    }
    return v;
  }

  /** A boolean. */
  bool(field: string, fallback: boolean): boolean {
    const v = this.#value(field, fallback);
    if (typeof v !== "boolean") {
      throw this.error(field, `expected true or false, got ${describe(v)}`);
    }
    return v;
  }

  /**
   * A value that must be one of `supported` (strings, null or booleans); anything else is an
   * unsupported setting, reported with the list of supported values.
   */
  oneOf<T extends string | null | boolean>(field: string, fallback: T, supported: readonly T[]): T {
    const v = this.#value(field, fallback);
    if (!supported.includes(v as T)) {
      throw this.error(
        field,
        `unsupported value ${describe(v)}; supported: ${
          supported.map((s) => JSON.stringify(s)).join(", ")
        }`,
      );
    }
    return v as T;
  }

  /**
   * `norm_num_groups` (default 32), checked to divide every channel count, as GroupNorm needs.
   */
  normGroups(channels: readonly number[]): number {
    const groups = this.int("norm_num_groups", 32, 1);
    for (const c of channels) {
      if (c % groups !== 0) {
        throw this.error(
          "norm_num_groups",
          `${groups} does not divide block_out_channels entry ${c} (GroupNorm needs it to)`,
        );
      }
    }
    return groups;
  }

  /** A non-empty list of integers ≥ 1. */
  intList(field: string, fallback: readonly number[]): number[] {
    const v = this.#value(field, fallback);
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x) && x >= 1)) {
      throw this.error(field, `expected a non-empty list of positive integers, got ${describe(v)}`);
    }
    return [...v];
  }

  /** A non-empty list whose entries are each one of `supported`. */
  stringList<T extends string>(
    field: string,
    fallback: readonly T[],
    supported: readonly T[],
    normalise: (s: string) => string = (s) => s,
  ): T[] {
    const v = this.#value(field, fallback);
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "string")) {
      throw this.error(field, `expected a non-empty list of block type names, got ${describe(v)}`);
    }
    return v.map((entry, i) => {
      const name = normalise(entry);
      if (!supported.includes(name as T)) {
        throw this.error(
          field,
          `unsupported entry ${i} ${describe(entry)}; supported: ${supported.join(", ")}`,
        );
      }
      return name as T;
    });
  }

  #value(field: string, fallback: unknown): unknown {
    return field in this.#raw ? this.#raw[field] : fallback;
  }
}

/** A short JSON rendering of a value for messages. */
export function describe(v: unknown): string {
  if (v === undefined) return "undefined";
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
