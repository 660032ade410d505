/**
 * Grids of injection settings as explicit frames. A sensitivity study varies the window and
 * the scale, which a single spec-wide `injection` cannot express; every explicit frame may carry
 * its own `injection`, and this helper writes those frames out, so the spec stays plain data
 * and the manifest lists exactly what each frame received.
 *
 * @module
 */

import type { ColorInput } from "../pipelines/colors.ts";
import type { ExplicitFrameInput, Injection } from "./spec.ts";

/** A colour of the grid with an optional name for labels. */
export interface GridColor {
  /** The colour, any form `parseColor` accepts. */
  color: ColorInput;
  /** Name used in frame labels; default: the colour as written. */
  label?: string;
}

/** Axes of {@link injectionGrid}. */
export interface InjectionGridOptions {
  /** Injection windows [first, last] (outermost axis). */
  windows: [number, number][];
  /** Injection scales (middle axis). */
  scales: number[];
  /** Colours (innermost axis, so a contact sheet with `colors.length` columns lines up). */
  colors: GridColor[];
  /** Injection modes; default only the spec's mode (no `mode` written to the frames). */
  modes?: Injection["mode"][];
}

/**
 * Every combination of window × scale × colour (× mode) as explicit frames, windows outermost,
 * each labelled like `red w1-10 s0.01`. The frame count is the product of the axis lengths.
 *
 * @throws {RangeError} for an empty axis.
 */
export function injectionGrid(options: InjectionGridOptions): ExplicitFrameInput[] {
  const modes: (Injection["mode"] | undefined)[] = options.modes ?? [undefined];
  for (const [axis, values] of Object.entries({ ...options, modes })) {
    if (!Array.isArray(values) || values.length === 0) {
      throw new RangeError(`injectionGrid: "${axis}" must list at least one value`);
    }
  }
  const frames: ExplicitFrameInput[] = [];
  for (const window of options.windows) {
    for (const scale of options.scales) {
      for (const mode of modes) {
        for (const { color, label } of options.colors) {
          const name = label ?? (typeof color === "string" ? color : `[${color.join(",")}]`);
          frames.push({
            color,
            injection: { window: [window[0], window[1]], scale, ...(mode ? { mode } : {}) },
            label: `${name} w${window[0]}-${window[1]} s${scale}${mode ? ` ${mode}` : ""}`,
          });
        }
      }
    }
  }
  return frames;
}
