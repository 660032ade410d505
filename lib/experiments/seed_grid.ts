/**
 * The seeds × colours table of a run's frames: rows are seeds (the innate factor), columns the
 * colours of the path or list (the external factor). A multi-seed run's frames carry `seed` and
 * `colorIndex`; a single-seed run is the table of one row (its spec's `seed`, column = index).
 *
 * Everything that reads a run as a grid — `grid.png`, and analyses that split a variation into
 * its seed, colour and interaction parts — takes the table from here, from the manifest alone.
 *
 * @module
 */

import { runSeeds } from "./spec.ts";
import type { ResolvedExperiment } from "./spec.ts";

/** The grid position a frame records (manifest frames, picture frames). */
export interface GridPosition {
  /** Position in the run. */
  index: number;
  /** Multi-seed runs: the frame's seed, decimal. */
  seed?: string;
  /** Multi-seed runs: the frame's colour position. */
  colorIndex?: number;
}

/** A run's frames as a table. */
export interface FrameGrid<F> {
  /** The seeds, decimal, in row order (the spec's order). */
  seeds: string[];
  /** Number of colours (columns). */
  colors: number;
  /** `rows[seedIndex][colorIndex]` is that frame. */
  rows: F[][];
}

/**
 * Arranges the frames of a complete run as its seeds × colours table.
 *
 * @param spec the run's resolved spec (`manifest.spec`): its `seed` or `seeds` give the rows
 * @throws {Error} when a frame belongs to no row, two frames claim one cell, or a cell is empty
 *   (an unfinished run or a shard)
 */
export function frameGrid<F extends GridPosition>(
  frames: readonly F[],
  spec: Pick<ResolvedExperiment, "seed" | "seeds">,
): FrameGrid<F> {
  const seeds = runSeeds(spec);
  const multiSeed = spec.seeds !== undefined;
  const rowOf = new Map(seeds.map((seed, i) => [seed, i]));
  const rows: F[][] = seeds.map(() => []);
  for (const frame of frames) {
    const row = multiSeed ? rowOf.get(frame.seed ?? "") : 0;
    const column = multiSeed ? frame.colorIndex : frame.index;
    if (row === undefined || !Number.isInteger(column) || column! < 0) {
      throw new Error(
        `frame ${frame.index} (seed ${frame.seed}, colorIndex ${frame.colorIndex}) has no ` +
          `place in the grid of seeds ${seeds.join(", ")}`,
      );
    }
    if (rows[row][column!]) {
      throw new Error(`frames ${rows[row][column!].index} and ${frame.index} share one cell`);
    }
    rows[row][column!] = frame;
  }
  const colors = Math.max(...rows.map((r) => r.length));
  for (const [r, cells] of rows.entries()) {
    for (let c = 0; c < colors; c++) {
      if (!cells[c]) throw new Error(`the grid has no frame for seed ${seeds[r]}, colour ${c}`);
    }
  }
  return { seeds, colors, rows };
}
