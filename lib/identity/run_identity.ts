/**
 * Identity in a run, as the runner calls it: load the embedder, make the reference faces, give
 * each batch's frames their descriptors, and at the end the summary and `identity_plot.png`.
 * Kept apart from the runner so that the runner only calls five methods.
 *
 * @module
 */

import { join } from "node:path";
import type { RunnerDeps, RunnerModel } from "../experiments/deps.ts";
import { pictureTitle } from "../experiments/finish.ts";
import type { Manifest, ManifestFrame } from "../experiments/manifest.ts";
import type { ResolvedExperiment } from "../experiments/spec.ts";
import { identityPlot, type IdentityPlotInput } from "../render/identity_plot.ts";
import type { FaceEmbedder } from "./embedder.ts";
import { bySeed } from "./analysis.ts";
import {
  frameSeed,
  IdentityTracker,
  readFramePixels,
  REFERENCE_COLOR,
  referenceInjection,
  seedsOf,
} from "./tracker.ts";

/** File name of the identity plot in a run folder. */
export const IDENTITY_PLOT_FILE = "identity_plot.png";

/** Whether a run computes identity: on unless the spec's `outputs.identity` or the flag say no. */
export function identityWanted(spec: ResolvedExperiment, option: boolean | undefined): boolean {
  return option !== false && spec.outputs.identity !== false;
}

/**
 * What `identity_plot.png` shows of `frames`: the series of the frames that have identity numbers
 * (null when none has), under the run's heading ({@link pictureTitle}: the run as planned, also
 * when only some frames are there yet).
 */
export function identityPlotInput(
  frames: readonly ManifestFrame[],
  spec: ResolvedExperiment,
  threshold: number,
): IdentityPlotInput | null {
  const withIdentity = frames.filter((f) => f.identity);
  if (withIdentity.length === 0) return null;
  const series = bySeed(withIdentity.map((f) => ({ ...f, seed: frameSeed(f, spec.seed) }))).map((
    group,
  ) => ({
    seed: group[0].seed,
    points: group.map((f) => ({
      color: f.color,
      toReference: f.identity!.toReference,
      toPrevious: f.identity!.toPrevious,
    })),
  }));
  return {
    series,
    threshold,
    title: `${pictureTitle(spec)}: face-descriptor distance`,
  };
}

/**
 * Writes `identity_plot.png` for the frames that have identity numbers ({@link identityPlotInput});
 * returns its name, or null when no frame has any.
 */
export async function writeIdentityPlot(
  frames: readonly ManifestFrame[],
  spec: ResolvedExperiment,
  threshold: number,
  dir: string,
  write: (path: string, data: Uint8Array) => Promise<void>,
): Promise<string | null> {
  const input = identityPlotInput(frames, spec, threshold);
  if (!input) return null;
  await write(join(dir, IDENTITY_PLOT_FILE), await identityPlot(input));
  return IDENTITY_PLOT_FILE;
}

/** What {@link startRunIdentity} needs from the runner. */
export interface RunIdentityContext {
  /** The resolved spec. */
  spec: ResolvedExperiment;
  /** The run folder. */
  dir: string;
  /** The loaded diffusion model (renders reference faces). */
  model: RunnerModel;
  /** The runner's dependencies (`loadEmbedder`, `sample`, PNG coding). */
  deps: RunnerDeps;

  /** The folder's earlier manifest. */
  previous: Manifest | null;
  /** Atomic run-file writer (reports a full disk). */
  write: (path: string, data: Uint8Array) => Promise<void>;
  /** Messages. */
  log: (message: string) => void;
  /** Where the embedder runs. */
  device?: "cpu" | "cuda" | "auto";
  /** Its threads. */
  threads?: number;
}

/** Identity of one run (see the module comment). */
export class RunIdentity {
  /** The bookkeeping. */
  readonly tracker: IdentityTracker;
  readonly #ctx: RunIdentityContext;
  readonly #embedder: FaceEmbedder;

  constructor(ctx: RunIdentityContext, embedder: FaceEmbedder) {
    this.#ctx = ctx;
    this.#embedder = embedder;
    const { spec, model, deps } = ctx;
    this.tracker = new IdentityTracker({
      dir: ctx.dir,
      spec,
      keyModel: model.info,
      embedder,
      renderReference: async (seed) => {
        const injection = referenceInjection(spec.injection);
        const { images } = await deps.sample(model, {
          seed: /^\d+$/.test(seed) ? BigInt(seed) : Number(seed),
          steps: spec.steps,
          colors: [[...REFERENCE_COLOR]],
          scale: injection.scale,
          window: injection.window,
          mode: injection.mode,
          latentScale: spec.latentScale ?? model.info.latentScale,
        });
        const size = model.imageSize;
        return { rgba: deps.imageToRgba(images, 0, size, size), size };
      },
      encodePng: deps.encodePng,
      decodePng: deps.decodePng,
      write: ctx.write,
      log: ctx.log,
    }, ctx.previous);
  }

  /**
   * Reference faces for the planned seeds, except those that a planned frame still to compute
   * will provide (`later`: its key); returns how many were rendered.
   */
  prepare(
    planned: readonly object[],
    entries: readonly ManifestFrame[],
    pixels: ReadonlyMap<number, Uint8Array>,
    later: ReadonlySet<string> = new Set(),
  ): Promise<number> {
    const seeds = seedsOf(planned, this.#ctx.spec.seed);
    return this.tracker.prepareReferences(seeds, entries, pixels, later).then((rendered) => {
      this.tracker.apply(entries);
      return rendered;
    });
  }

  /** Descriptors of frames whose pixels are in `pixels` (a batch just computed). */
  describeBatch(
    entries: readonly ManifestFrame[],
    pixels: ReadonlyMap<number, Uint8Array>,
  ): Promise<void> {
    const ready = entries.filter((e) => pixels.has(e.index));
    return this.tracker.describe(ready, (f) => pixels.get(f.index)!)
      .then(() => this.tracker.apply(entries));
  }

  /** Sets `manifest.identity` (call before every save). */
  record(manifest: Manifest): void {
    manifest.identity = this.tracker.field();
  }

  /**
   * The end of a run: references and descriptors for every frame (reused frames included), then
   * `identity_plot.png`. Returns the plot's name.
   */
  async finish(
    planned: readonly object[],
    frames: readonly ManifestFrame[],
    pixels: Map<number, Uint8Array>,
  ): Promise<string | null> {
    const { dir, deps, spec } = this.#ctx;
    await this.prepare(planned, frames, pixels);
    await this.tracker.describe(
      frames,
      (f) => pixels.get(f.index) ?? readFramePixels(dir, f, deps.decodePng),
    );
    return await writeIdentityPlot(
      frames,
      spec,
      this.#embedder.info.threshold,
      dir,
      this.#ctx.write,
    );
  }

  /** One line on what identity cost in this run. */
  costLine(): string {
    const { images, ms } = this.tracker.cost;
    const info = this.#embedder.info;
    return images === 0
      ? `identity: every descriptor reused (${info.name})`
      : `identity: ${images} descriptor(s) in ${(ms / 1000).toFixed(2)} s, ` +
        `${(ms / images).toFixed(1)} ms per image (${info.name})`;
  }

  /** Frees the embedder. */
  release(): Promise<void> {
    return this.#embedder.release();
  }
}

/**
 * Loads the embedder for a run, or returns null (and says why) when identity is off, the run is
 * a shard (merge has no model: run `deno task analyze` on the merged folder), or no embedder is
 * available.
 */
export async function startRunIdentity(
  ctx: RunIdentityContext,
  wanted: boolean,
  shard: boolean,
): Promise<RunIdentity | null> {
  if (!wanted) return null;
  if (shard) {
    ctx.log(
      "identity: not computed in a shard run; run `deno task analyze DIR` on the merged folder",
    );
    return null;
  }
  if (!ctx.deps.loadEmbedder) return null;
  const embedder = await ctx.deps.loadEmbedder({
    device: ctx.device,
    threads: ctx.threads,
    log: ctx.log,
  });
  return new RunIdentity(ctx, embedder);
}
