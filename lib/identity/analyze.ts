/**
 * Adds identity numbers to an existing run folder without recomputing any frame image
 * (`deno task analyze RUN_DIR`): the face descriptor of every frame PNG, the per-frame
 * distances, `summary.identity` and `identity_plot.png`, and a multi-seed run's `grid.png` is
 * drawn again with the numbers (written atomically, like the other pictures) unless the manifest
 * records that it shows them already (`outputs.gridIdentity`). The reference face of a seed is
 * rendered (with the run's own model, checked by its file hashes) only when the folder has none.
 *
 * Under the run folder's lock; the manifest is rewritten atomically after every chunk of
 * descriptors, so an interrupted analyze continues where it stopped, and descriptors already in
 * the manifest are kept when the embedder is the same (same SHA-256).
 *
 * @module
 */

import { join } from "node:path";
import type { RunnerDeps, RunnerModel } from "../experiments/deps.ts";
import { InterruptedError, throwIfInterrupted } from "../experiments/interrupt.ts";
import { type Manifest, readManifest, writeManifest } from "../experiments/manifest.ts";
import {
  GRID_FILE,
  gridIdentityDigest,
  gridIdentityNumbers,
  loadAllPixels,
  updateGridPicture,
} from "../experiments/finish.ts";
import { writeReportOrWarn } from "../report/write.ts";
import { LOCK_FILE } from "../experiments/runner.ts";
import { isMultiSeed, SpecError } from "../experiments/spec.ts";
import { Progress, type ProgressWriter } from "../hub/progress.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { canonicalJson } from "../util/canonical.ts";
import { acquireLock } from "../util/lock.ts";
import type { FaceEmbedder } from "./embedder.ts";
import { writeIdentityPlot } from "./run_identity.ts";
import {
  IdentityTracker,
  readFramePixels,
  REFERENCE_COLOR,
  referenceInjection,
  seedsOf,
} from "./tracker.ts";
import { exists } from "../util/exists.ts";

/**
 * The dependencies analyze uses: the embedder, PNG coding, the model for references, and the grid
 * picture.
 */
export type AnalyzeDeps =
  & Pick<
    RunnerDeps,
    | "resolveModel"
    | "verifyModel"
    | "loadModel"
    | "sample"
    | "imageToRgba"
    | "encodePng"
    | "decodePng"
    | "gridSheet"
  >
  & { loadEmbedder: NonNullable<RunnerDeps["loadEmbedder"]> };

/** Options of {@link analyzeRun}. */
export interface AnalyzeOptions {
  /** Replacements for the real modules (tests). */
  deps?: Partial<AnalyzeDeps>;
  /** Wait for another process that holds the folder's lock instead of failing. */
  wait?: boolean;
  /** Stops after the chunk in flight (its descriptors are dropped, the others are saved). */
  signal?: AbortSignal;
  /** Where the networks run. */
  device?: "cpu" | "cuda" | "auto";
  /** Intra-op threads. */
  threads?: number;
  /** Messages; default stderr. */
  log?: (message: string) => void;
  /** Where the progress line goes; default stderr. */
  progressWriter?: ProgressWriter;
  /** Clock for `updatedAt`. */
  now?: () => Date;
}

/** What {@link analyzeRun} did. */
export interface AnalyzeResult {
  /** The updated manifest. */
  manifest: Manifest;
  /** Descriptors computed now (frames and references). */
  computed: number;
  /** Frames whose descriptor was already there (same embedder). */
  kept: number;
  /** Reference faces rendered now. */
  rendered: number;
  /** Whether grid.png was written (drawn with identity numbers it did not show yet). */
  gridRedrawn: boolean;
}

async function defaultDeps(): Promise<AnalyzeDeps> {
  const { defaultDeps } = await import("../experiments/default_deps.ts");
  return defaultDeps() as AnalyzeDeps;
}

/**
 * Analyzes the run in `dir` (see the module comment).
 *
 * @throws {SpecError} (field `RUN_DIR`) when `dir` holds no manifest or only a shard
 * @throws {LockHeldError} when another process uses the folder (and `wait` is not set)
 * @throws {InterruptedError} after `signal` aborted; what was done is saved
 */
export async function analyzeRun(
  dir: string,
  options: AnalyzeOptions = {},
): Promise<AnalyzeResult> {
  const log = options.log ?? ((m: string) => console.error(m));
  const now = options.now ?? (() => new Date());
  const signal = options.signal;
  const checkFolder = (manifest: Manifest | null): Manifest => {
    if (!manifest) {
      throw new SpecError(
        "RUN_DIR",
        dir,
        "a run folder (one holding manifest.json)",
        "no manifest.json",
      );
    }
    if (manifest.shard) {
      throw new SpecError(
        "RUN_DIR",
        dir,
        "a whole run: merge the shards (deno task merge) and analyze the merged folder",
        "a shard folder",
      );
    }
    return manifest;
  };
  checkFolder(await readManifest(dir));
  const injected = options.deps ?? {};
  const names = [
    "resolveModel",
    "verifyModel",
    "loadModel",
    "sample",
    "imageToRgba",
    "encodePng",
    "decodePng",
    "gridSheet",
    "loadEmbedder",
  ] as const;
  const complete = names.every((n) => injected[n] !== undefined);
  const deps = { ...(complete ? {} : await defaultDeps()), ...injected } as AnalyzeDeps;

  const lock = await acquireLock(join(dir, LOCK_FILE), {
    wait: options.wait,
    signal,
    log,
    what: `run folder ${dir}`,
    waitHint: "pass --wait to wait",
  });
  let embedder: FaceEmbedder | undefined;
  let model: RunnerModel | undefined;
  let progress: Progress | undefined;
  let saved = 0;
  try {
    // Read again under the lock: a run may have finished meanwhile.
    const manifest = checkFolder(await readManifest(dir));
    embedder = await deps.loadEmbedder({ device: options.device, threads: options.threads, log });
    const info = manifest.model.info as {
      sha256: Record<string, string>;
      scheduler?: unknown;
      latentScale: number;
    };
    const spec = manifest.spec;
    const loadRunModel = async (): Promise<RunnerModel> => {
      if (model) return model;
      // The model as the run named it (a hub id, "tiny" or a folder); its hashes are checked.
      const modelDir = await deps.resolveModel(manifest.model.spec, log);
      await deps.verifyModel(modelDir, log);
      const loaded = await deps.loadModel(modelDir, {
        device: options.device ?? "cpu",
        threads: options.threads,
        warn: log,
      });
      if (canonicalJson(loaded.info.sha256) !== canonicalJson(info.sha256)) {
        await loaded.release();
        throw new Error(
          `the model in ${modelDir} is not the one this run used (its files' SHA-256 differ from ` +
            `the manifest's model.info.sha256), so it cannot render this run's reference face; ` +
            `convert or fetch the run's model (${spec.model}) and analyze again`,
        );
      }
      model = loaded;
      return loaded;
    };
    const tracker = new IdentityTracker({
      dir,
      spec,
      keyModel: info,
      embedder,
      renderReference: async (seed) => {
        const m = await loadRunModel();
        const injection = referenceInjection(spec.injection);
        const { images } = await deps.sample(m, {
          seed: BigInt(seed),
          steps: spec.steps,
          colors: [[...REFERENCE_COLOR]],
          scale: injection.scale,
          window: injection.window,
          mode: injection.mode,
          latentScale: spec.latentScale ?? info.latentScale,
        });
        return { rgba: deps.imageToRgba(images, 0, m.imageSize, m.imageSize), size: m.imageSize };
      },
      encodePng: deps.encodePng,
      decodePng: deps.decodePng,
      write: writeFileAtomic,
      log,
    }, manifest);
    const save = async () => {
      manifest.identity = tracker.field();
      manifest.updatedAt = now().toISOString();
      await writeManifest(dir, manifest);
    };
    const frames = manifest.frames;
    const seeds = seedsOf(frames, spec.seed);
    // A grid to redraw needs every frame's pixels: keep those decoded for the descriptors (by
    // PNG SHA-256, so frames with the same image share them) rather than decode them again.
    const gridRun = Boolean(manifest.outputs.grid) && isMultiSeed(spec);
    const decoded = new Map<string, Uint8Array>();
    throwIfInterrupted(signal);
    const rendered = await tracker.prepareReferences(seeds, frames);
    tracker.apply(frames);
    await save();
    const todo = tracker.missing(frames).length;
    const already = frames.filter((f) => f.identity).length;
    log(
      `analyze ${dir}: ${frames.length} frame(s), ${already} with a descriptor already, ` +
        `${todo} distinct image(s) to describe (${embedder.info.name})`,
    );
    if (todo > 0) {
      progress = new Progress({
        total: todo,
        unit: "frames",
        label: "analyze",
        writer: options.progressWriter,
      });
      await tracker.describe(
        frames,
        async (f) => {
          const rgba = await readFramePixels(dir, f, deps.decodePng);
          if (gridRun) decoded.set(f.sha256, rgba);
          return rgba;
        },
        async (done) => {
          await save();
          saved = done;
          progress!.update(done);
          throwIfInterrupted(signal);
        },
      );
      progress.finish();
    }
    if (manifest.summary) {
      const summary = tracker.summary(frames);
      if (summary) manifest.summary.identity = summary;
    } else {
      log(`analyze: the run is not complete (status ${manifest.status}): no summary.identity yet`);
    }
    // grid.png shows the numbers of this summary unless it was drawn before them (a run with
    // --no-identity, a merge, an analyze with another embedder) or by a version of fluidity that
    // printed none on grids. The manifest records which numbers it shows (gridIdentity): the same
    // as now, nothing is decoded or drawn. Unrecorded or others: it is drawn again from the frame
    // PNGs, and written only if that changes the file.
    const numbers = gridRun ? gridIdentityNumbers(frames, manifest.summary?.identity) : undefined;
    let gridRedrawn = false;
    if (numbers) {
      const digest = gridIdentityDigest(numbers);
      if (manifest.outputs.gridIdentity !== digest || !(await exists(join(dir, GRID_FILE)))) {
        const pixels = new Map<number, Uint8Array>();
        for (const f of frames) {
          const rgba = decoded.get(f.sha256);
          if (rgba) pixels.set(f.index, rgba);
        }
        decoded.clear();
        const pictures = await loadAllPixels(frames, pixels, dir, deps.decodePng);
        gridRedrawn = await updateGridPicture(spec, pictures, dir, deps.gridSheet, numbers);
        manifest.outputs.gridIdentity = digest;
      }
    }
    const plot = await writeIdentityPlot(
      frames,
      spec,
      embedder.info.threshold,
      dir,
      writeFileAtomic,
    );
    manifest.outputs.identityPlot = plot;
    await save();
    // The page shows the identity numbers just added (a failure to write it only warns), made
    // from the manifest just saved.
    await writeReportOrWarn(dir, log, { manifest });
    return {
      manifest,
      computed: tracker.cost.images,
      kept: already,
      rendered,
      gridRedrawn,
    };
  } catch (e) {
    progress?.stop();
    // Descriptors saved before the stop are in the manifest: the page shows what it holds.
    await writeReportOrWarn(dir, log);
    if (e instanceof InterruptedError) {
      throw new InterruptedError(
        e.signal,
        `${saved} new descriptor(s) are saved in ${dir}; run the same command again to continue`,
      );
    }
    throw e;
  } finally {
    await embedder?.release();
    await model?.release();
    await lock.release();
  }
}
