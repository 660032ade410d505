/**
 * Colour inputs for the injection. People write colours three ways — `[0.2, 0.5, 0.9]`,
 * `[51, 128, 230]`, `"#3380e6"` — and the paper's M needs components in [0, 1]; everything is
 * normalised here, once, so the sampler and the manifests only ever see [0, 1] triples.
 *
 * @module
 */

/** An RGB colour with each component in [0, 1]. */
export type Rgb = [number, number, number];

/**
 * A colour as a user may give it: a [0,1] triple, a 0–255 triple, `#rrggbb`, `#rgb`, or
 * `rgb(r, g, b)` with 0–255 components.
 */
export type ColorInput = readonly [number, number, number] | string;

/** Raised for a colour that cannot be read; the message names the value and the accepted forms. */
export class ColorError extends RangeError {
  /** Creates a ColorError. */
  constructor(value: unknown, problem: string) {
    super(
      `invalid colour ${JSON.stringify(value)}: ${problem} (accepted: [r,g,b] in [0,1], ` +
        `[r,g,b] integers in 0–255, "#rrggbb", "#rgb", "rgb(r,g,b)")`,
    );
    this.name = "ColorError";
  }
}

function fromBytes(value: unknown, parts: number[]): Rgb {
  for (const p of parts) {
    if (!Number.isInteger(p) || p < 0 || p > 255) {
      throw new ColorError(value, `component ${p} is not an integer in 0–255`);
    }
  }
  return [parts[0] / 255, parts[1] / 255, parts[2] / 255];
}

/**
 * Normalises a colour to a [0,1] triple.
 *
 * A numeric triple whose components are all ≤ 1 is read as [0,1]; one with any component > 1 is
 * read as 0–255 and must then be integers. So `[1, 1, 1]` is white: write `"#010101"` for the
 * nearly-black 0–255 colour.
 *
 * @throws {ColorError} for NaN, infinities, negative or out-of-range components, wrong length, or
 *   an unparseable string.
 */
export function parseColor(value: ColorInput): Rgb {
  if (typeof value === "string") {
    const s = value.trim();
    let m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(s);
    if (m) return fromBytes(value, [1, 2, 3].map((i) => parseInt(m![i], 16)));
    m = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(s);
    if (m) return fromBytes(value, [1, 2, 3].map((i) => parseInt(m![i] + m![i], 16)));
    m = /^rgb\(\s*([^,]+),\s*([^,]+),\s*([^)]+)\)$/i.exec(s);
    if (m) return fromBytes(value, [1, 2, 3].map((i) => Number(m![i].trim())));
    throw new ColorError(value, "unrecognised colour string");
  }
  if (!Array.isArray(value) || value.length !== 3) {
    throw new ColorError(value, "expected three components");
  }
  for (const c of value) {
    if (typeof c !== "number" || !Number.isFinite(c)) {
      throw new ColorError(value, `component ${c} is not a finite number`);
    }
    if (c < 0) throw new ColorError(value, `component ${c} is negative`);
  }
  if (value.every((c) => c <= 1)) return [value[0], value[1], value[2]];
  return fromBytes(value, [...value]);
}

/** `#rrggbb` for a [0,1] colour (components rounded to the nearest byte). */
export function toHex(color: Rgb): string {
  return "#" +
    color.map((c) => Math.round(Math.min(1, Math.max(0, c)) * 255).toString(16).padStart(2, "0"))
      .join("");
}
