/**
 * Comparing two runs for the viewer, with the project's engine (`lib/compare/`): the frame table
 * of `compareRuns` and pixelmatch's diff picture of one frame, both kept in memory (never
 * written into the results folder) and cached while the two manifests are unchanged.
 *
 * @module
 */

import { formatChange } from "../compare/deep_diff.ts";
import { compareImages } from "../compare/images.ts";
import { compareRuns, type RunComparison } from "../compare/manifest_diff.ts";
import type { OpenedRun } from "../compare/run_folder.ts";
import { DEFAULT_TOLERANCE, type Tolerance } from "../compare/tolerance.ts";
import { decodePng, encodePng } from "../render/png.ts";
import { LruCache } from "../util/lru.ts";

/** What the compare endpoint answers: the engine's result plus the differences as text. */
export interface ViewerComparison {
  /** Run path of A (relative to the results folder). */
  a: string;
  /** Run path of B. */
  b: string;
  /** `compareRuns(A, B)`, with `a`/`b` given as run paths rather than server paths. */
  comparison: RunComparison;
  /** The spec, model and runtime differences as the compare CLI prints them. */
  diffText: { spec: string[]; model: string[]; runtime: string[] };
}

/** A diff picture, or why there is none. */
export type DiffPicture = { png: Uint8Array; width: number; height: number } | { error: string };

/** Options of {@link Comparer}. */
export interface ComparerOptions {
  /** Limits; default the compare CLI's. */
  tolerance?: Tolerance;
  /** Run comparisons kept (default 16). */
  comparisons?: number;
  /** Diff pictures kept (default 256). */
  pictures?: number;
}

/** An opened run with its path relative to the results folder. */
export interface ViewerRun {
  /** Run path relative to the results folder. */
  path: string;
  /** The run as `openRun` gives it. */
  run: OpenedRun;
}

/**
 * Comparisons of run pairs, keyed by both run paths and both manifest objects: the viewer reads
 * a manifest into a new object whenever its file's text changes (a new frame, a hand edit), so
 * such a run's comparisons are recomputed, never stale.
 */
export class Comparer {
  readonly #tolerance: Tolerance;
  readonly #comparisons: LruCache<ViewerComparison>;
  readonly #pictures: LruCache<DiffPicture>;

  constructor(options: ComparerOptions = {}) {
    this.#tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
    this.#comparisons = new LruCache(options.comparisons ?? 16);
    this.#pictures = new LruCache(options.pictures ?? 256);
  }

  /** Runs compared so far and kept. */
  get cachedComparisons(): number {
    return this.#comparisons.size;
  }

  /** Runs by path and manifest object: the same object while the manifest file is unchanged. */
  #key(a: ViewerRun, b: ViewerRun): string {
    return JSON.stringify([a.path, manifestId(a), b.path, manifestId(b)]);
  }

  /**
   * Compares B against A with `compareRuns`.
   *
   * @param readFrame reads a frame file of a run, null when it is missing or may not be read (the
   *   frame is then `unreadable`); the caller decides which files may be read. Default: any file
   *   under the run folder.
   */
  compare(
    a: ViewerRun,
    b: ViewerRun,
    readFrame?: (run: ViewerRun, file: string) => Promise<Uint8Array | null>,
  ): Promise<ViewerComparison> {
    return this.#comparisons.get(this.#key(a, b), async () => {
      const read = readFrame &&
        (async (run: ViewerRun["run"], file: string) => {
          const viewerRun = run === a.run ? a : b;
          const bytes = await readFrame(viewerRun, file);
          if (bytes) return bytes;
          throw new Error(`${viewerRun.path}: ${file} is missing or not in the results folder`);
        });
      const result = withRunPaths(
        await compareRuns(a.run, b.run, { tolerance: this.#tolerance, readFrame: read }),
        [a, b],
      );
      const text = (changes: RunComparison["diffs"]["spec"]) => changes.map(formatChange);
      return {
        a: a.path,
        b: b.path,
        comparison: { ...result, a: a.path, b: b.path },
        diffText: {
          spec: text(result.diffs.spec),
          model: text(result.diffs.model),
          runtime: text(result.diffs.runtime),
        },
      };
    });
  }

  /**
   * pixelmatch's diff picture of frame `index` of A and B (what `compareImages` draws at the
   * tolerance's pixel threshold), as PNG.
   *
   * @param readFrame reads a frame file of a run; the caller decides which files may be read
   */
  diffPicture(
    a: ViewerRun,
    b: ViewerRun,
    index: number,
    readFrame: (run: ViewerRun, file: string) => Promise<Uint8Array | null>,
  ): Promise<DiffPicture> {
    // Only pictures are kept: a missing or damaged file may be put right without the manifest
    // changing, and must then be read again.
    return this.#pictures.get(`${this.#key(a, b)}#${index}`, async () => {
      const frames = [a, b].map((r) => r.run.manifest.frames.find((f) => f.index === index));
      if (!frames[0] || !frames[1]) throw new NoPicture(`frame ${index} is not in both runs`);
      const bytes = await Promise.all([a, b].map((r, i) => readFrame(r, frames[i]!.file)));
      if (!bytes[0] || !bytes[1]) throw new NoPicture(`frame ${index}: file missing`);
      let images;
      try {
        images = await Promise.all(bytes.map((x, i) => decodePng(x!, frames[i]!.file)));
      } catch (e) {
        throw new NoPicture((e as Error).message);
      }
      const c = compareImages(images[0], images[1], {
        pixelThreshold: this.#tolerance.pixelThreshold,
      });
      if (!c.sameSize) throw new NoPicture(c.message);
      return {
        png: await encodePng(c.diffImage!, c.width, c.height),
        width: c.width,
        height: c.height,
      };
    }).catch((e) => {
      if (e instanceof NoPicture) return { error: e.message };
      throw e;
    });
  }
}

/** Why a diff picture cannot be drawn (not kept in the cache, unlike a picture). */
class NoPicture extends Error {}

/**
 * The comparison with every mention of a run's folder on this machine replaced by its run path:
 * the engine's messages name files by their full path, which is the server's business alone.
 */
function withRunPaths(result: RunComparison, runs: readonly ViewerRun[]): RunComparison {
  const scrub = (value: unknown): unknown => {
    if (typeof value === "string") {
      return runs.reduce((text, run) => text.replaceAll(run.run.dir, run.path), value);
    }
    if (Array.isArray(value)) return value.map(scrub);
    if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
    }
    return value; // numbers (Infinity included), typed arrays, null
  };
  return scrub(result) as RunComparison;
}

const manifestIds = new WeakMap<object, number>();
let nextManifestId = 0;

/** A number naming a run's manifest object for as long as it lives. */
function manifestId(run: ViewerRun): number {
  const manifest = run.run.manifest;
  let id = manifestIds.get(manifest);
  if (id === undefined) manifestIds.set(manifest, id = nextManifestId++);
  return id;
}
