/**
 * The identity bookkeeping of one run folder, shared by the runner (descriptors as frames are
 * made) and `deno task analyze` (descriptors of an existing run): the reference face of every
 * seed, the descriptor of every frame, the per-frame distances, the manifest fields and the
 * summary.
 *
 * Descriptors are computed from the 8-bit pixels stored in the frame PNGs (not from the sampler's
 * floats), so a run and a later analyze of the same folder give identical numbers. A descriptor is
 * a function of the pixels: it is reused whenever the PNG's SHA-256 and the embedder's SHA-256 are
 * those it was computed from.
 *
 * @module
 */

import { join } from "node:path";
import { frameKey, keyContextFor, type KeyModel } from "../experiments/keys.ts";
import type { Manifest, ManifestFrame } from "../experiments/manifest.ts";
import type { Injection } from "../experiments/spec.ts";
import { sha256File, sha256Hex } from "../util/hash.ts";
import { frameDistances, type IdentityPoint, identitySummary } from "./analysis.ts";
import type { FaceEmbedder } from "./embedder.ts";
import type { IdentityReference, IdentitySummary, ManifestIdentity } from "./records.ts";

/** The colour of the reference face: black, with injection scale 0 (as `colors.ts`'s "none"). */
export const REFERENCE_COLOR: readonly [number, number, number] = [0, 0, 0];

/** Images per `embed` call: bounds memory, and is how often `analyze` saves. */
export const EMBED_CHUNK = 8;

/**
 * The injection of the reference face: scale 0 (nothing is added), with the run's window and
 * mode, so its key is the key of an explicit `{ color: [0,0,0], injection: { scale: 0 } }` frame
 * of the same spec (the first frame of `experiments/colors.ts`) and that image is never computed
 * twice.
 */
export function referenceInjection(injection: Injection): Injection {
  return { scale: 0, window: [injection.window[0], injection.window[1]], mode: injection.mode };
}

/** The spec fields identity bookkeeping reads. */
export interface IdentitySpec {
  /** The seed of a single-seed run (multi-seed frames carry their own). */
  seed?: number | string;
  /** DDIM steps. */
  steps: number;
  /** Latent scale override. */
  latentScale?: number;
  /** Spec-wide injection (window and mode of the reference). */
  injection: Injection;
}

/** Content key of the reference face of `seed`: the key of that image as a frame of the run. */
export function referenceKey(spec: IdentitySpec, model: KeyModel, seed: string): string {
  return frameKey(keyContextFor(spec, model, seed), {
    color: REFERENCE_COLOR,
    injection: referenceInjection(spec.injection),
  });
}

/** The seed of a manifest frame: its own (multi-seed runs) or the spec's. */
export function frameSeed(frame: object, specSeed: number | string | undefined): string {
  const own = (frame as { seed?: unknown }).seed;
  if (typeof own === "string") return own;
  if (specSeed === undefined) throw new Error("internal error: a frame without a seed");
  return String(specSeed);
}

/** Descriptor as stored: float32 values (the network's precision) as plain numbers. */
function stored(values: Float32Array, row: number, dimension: number): number[] {
  return Array.from(values.subarray(row * dimension, (row + 1) * dimension));
}

/** RGBA images (8-bit) → one NCHW float32 batch in [0, 1], as the embedder takes them. */
export function rgbaToNchw(images: readonly Uint8Array[], size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((rgba, b) => {
    if (rgba.length !== plane * 4) {
      throw new RangeError(`image ${b} has ${rgba.length / 4} pixels, expected ${size}×${size}`);
    }
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) out[(b * 3 + c) * plane + i] = rgba[i * 4 + c] / 255;
    }
  });
  return out;
}

/** What the tracker needs from its caller. */
export interface IdentityHost {
  /** The run folder. */
  dir: string;
  /** The spec's seed and injection. */
  spec: IdentitySpec;
  /** The model's key inputs (model.json: file hashes, scheduler, latent scale). */
  keyModel: KeyModel;
  /** The loaded embedder. */
  embedder: FaceEmbedder;
  /** Renders the reference image of `seed` (no injection); RGBA of a size × size image. */
  renderReference(seed: string): Promise<{ rgba: Uint8Array; size: number }>;
  /** RGBA → PNG bytes (deterministic). */
  encodePng(rgba: Uint8Array, width: number, height: number): Promise<Uint8Array>;
  /** PNG bytes → RGBA. */
  decodePng(
    bytes: Uint8Array,
    source: string,
  ): Promise<{ width: number; height: number; rgba: Uint8Array }>;
  /** Writes a file atomically. */
  write(path: string, data: Uint8Array): Promise<void>;
  /** Messages. */
  log(message: string): void;
}

/** Reads a frame PNG, checking its SHA-256; the error names the file and what to do. */
export async function readFramePixels(
  dir: string,
  frame: { file: string; sha256: string; index?: number },
  decodePng: IdentityHost["decodePng"],
): Promise<Uint8Array> {
  const path = join(dir, frame.file);
  if (!/^frames\/[0-9a-f]{64}\.png$/.test(frame.file)) {
    throw new Error(`frame file "${frame.file}" is not a frames/<sha256>.png of this run folder`);
  }
  const bytes = await Deno.readFile(path).catch((e) => {
    throw new Error(
      `cannot read ${path} (${(e as Error).message}); run the experiment again to recompute it`,
    );
  });
  if (sha256Hex(bytes) !== frame.sha256) {
    throw new Error(
      `${path} does not have the SHA-256 recorded in the manifest (damaged or altered); run the ` +
        "experiment again to recompute it",
    );
  }
  return (await decodePng(bytes, path)).rgba;
}

/** Identity state of one run folder (see the module comment). */
export class IdentityTracker {
  /** Reference faces by seed. */
  readonly references: Map<string, IdentityReference> = new Map();
  readonly #host: IdentityHost;
  /** Descriptors of an earlier manifest by PNG SHA-256 (same embedder only). */
  readonly #known = new Map<string, number[]>();
  readonly #previousReferences: IdentityReference[];
  /** Images embedded so far, and the time the embedder took for them (milliseconds). */
  readonly cost = { images: 0, ms: 0 };

  /** @param previous the folder's earlier manifest, whose descriptors are reused if they apply */
  constructor(host: IdentityHost, previous: Manifest | null) {
    this.#host = host;
    const same = previous?.identity?.embedder.sha256 === host.embedder.info.sha256;
    this.#previousReferences = previous?.identity?.references ?? [];
    if (same && previous) {
      for (const frame of previous.frames) {
        const d = frame.identity?.descriptor;
        if (Array.isArray(d) && d.length === host.embedder.info.dimension) {
          this.#known.set(frame.sha256, d);
        }
      }
      for (const ref of this.#previousReferences) this.#known.set(ref.sha256, ref.descriptor);
    }
  }

  /** Content key of the reference face of `seed` in this run. */
  referenceKey(seed: string): string {
    return referenceKey(this.#host.spec, this.#host.keyModel, seed);
  }

  /**
   * Makes sure every seed has its reference face: reused from the earlier manifest when its PNG
   * is intact, taken from a frame of the run with the reference's key (e.g. colors.ts's "none"),
   * else rendered once and stored in `frames/`; seeds whose reference key is in `later` (a frame
   * of the run still to be computed) wait for that frame. Returns how many were rendered.
   */
  async prepareReferences(
    seeds: readonly string[],
    frames: readonly ManifestFrame[],
    pixels: ReadonlyMap<number, Uint8Array> = new Map(),
    later: ReadonlySet<string> = new Set(),
  ): Promise<number> {
    let rendered = 0;
    for (const seed of seeds) {
      if (this.references.has(seed)) continue;
      const key = this.referenceKey(seed);
      const { dir, decodePng } = this.#host;
      let found: { file: string; sha256: string; rgba?: Uint8Array } | undefined;
      for (const ref of this.#previousReferences) {
        if (ref.key !== key || ref.seed !== seed) continue;
        const actual = await sha256File(join(dir, ref.file)).catch(() => null);
        if (actual === ref.sha256) found = { file: ref.file, sha256: ref.sha256 };
        break;
      }
      const frame = found ? undefined : frames.find((f) => f.key === key);
      if (frame) found = { file: frame.file, sha256: frame.sha256, rgba: pixels.get(frame.index) };
      // A frame of the run is this very image and is still to be made: wait for it.
      if (!found && later.has(key)) continue;
      if (!found) {
        this.#host.log(`identity: rendering the reference face of seed ${seed} (no injection)`);
        const { rgba, size } = await this.#host.renderReference(seed);
        const png = await this.#host.encodePng(rgba, size, size);
        const sha256 = sha256Hex(png);
        const file = `frames/${sha256}.png`;
        await this.#host.write(join(dir, file), png);
        found = { file, sha256, rgba };
        rendered++;
      }
      let descriptor = this.#known.get(found.sha256);
      if (!descriptor) {
        const rgba = found.rgba ?? await readFramePixels(dir, found, decodePng);
        descriptor = (await this.#embed([rgba]))[0];
        this.#known.set(found.sha256, descriptor);
      }
      this.references.set(seed, { seed, key, file: found.file, sha256: found.sha256, descriptor });
    }
    return rendered;
  }

  async #embed(images: Uint8Array[]): Promise<number[][]> {
    const size = Math.round(Math.sqrt(images[0].length / 4));
    const { embedder } = this.#host;
    const dimension = embedder.info.dimension;
    const started = performance.now();
    const out = await embedder.embed(rgbaToNchw(images, size), images.length, size);
    this.cost.ms += performance.now() - started;
    this.cost.images += images.length;
    if (out.length !== images.length * dimension) {
      throw new Error(
        `${embedder.info.name} returned ${out.length} values for ${images.length} image(s) of ` +
          `${dimension} (expected ${images.length * dimension})`,
      );
    }
    return images.map((_, i) => stored(out, i, dimension));
  }

  /** Frames that still need a descriptor (none known for their PNG). */
  missing(frames: readonly ManifestFrame[]): ManifestFrame[] {
    const seen = new Set<string>();
    return frames.filter((f) => {
      if (this.#known.has(f.sha256) || seen.has(f.sha256)) return false;
      seen.add(f.sha256);
      return true;
    });
  }

  /**
   * Computes the descriptors of the frames that have none yet (one per distinct PNG),
   * `EMBED_CHUNK` images per `embed` call, from `pixelsOf`, then fills the frames' `identity`
   * ({@link apply}). `afterChunk` runs after each chunk, with the frames already filled, e.g. to
   * save the manifest.
   */
  async describe(
    frames: readonly ManifestFrame[],
    pixelsOf: (frame: ManifestFrame) => Promise<Uint8Array> | Uint8Array,
    afterChunk?: (done: number, total: number) => Promise<void> | void,
  ): Promise<void> {
    const todo = this.missing(frames);
    for (let start = 0; start < todo.length; start += EMBED_CHUNK) {
      const chunk = todo.slice(start, start + EMBED_CHUNK);
      const images = await Promise.all(chunk.map((f) => pixelsOf(f)));
      const descriptors = await this.#embed(images);
      chunk.forEach((frame, i) => this.#known.set(frame.sha256, descriptors[i]));
      this.apply(frames);
      await afterChunk?.(Math.min(start + EMBED_CHUNK, todo.length), todo.length);
    }
    this.apply(frames);
  }

  #points(frames: readonly ManifestFrame[]): { frame: ManifestFrame; point: IdentityPoint }[] {
    const seed = this.#host.spec.seed;
    return frames
      .filter((f) => this.#known.has(f.sha256) && this.references.has(frameSeed(f, seed)))
      .map((frame) => {
        const colorIndex = (frame as { colorIndex?: unknown }).colorIndex;
        return {
          frame,
          point: {
            index: frame.index,
            seed: frameSeed(frame, seed),
            ...(typeof colorIndex === "number" ? { colorIndex } : {}),
            color: frame.color,
            descriptor: this.#known.get(frame.sha256)!,
          },
        };
      });
  }

  /**
   * Sets `identity` (descriptor, `toReference`, `toPrevious`) of every frame whose descriptor
   * and reference face are known, recomputing the distances (a neighbour may have arrived since:
   * frames of a resumed run come out of order); other frames get none yet.
   */
  apply(frames: readonly ManifestFrame[]): void {
    for (const frame of frames) delete frame.identity;
    const pairs = this.#points(frames);
    const refs = new Map([...this.references].map(([seed, r]) => [seed, r.descriptor]));
    const distances = frameDistances(pairs.map((p) => p.point), refs);
    pairs.forEach(({ frame, point }, i) => {
      frame.identity = { descriptor: point.descriptor as number[], ...distances[i] };
    });
  }

  /** The manifest's top-level `identity`. */
  field(): ManifestIdentity {
    return { embedder: this.#host.embedder.info, references: [...this.references.values()] };
  }

  /** `summary.identity`, or null when no frame has a descriptor. */
  summary(frames: readonly ManifestFrame[]): IdentitySummary | null {
    const pairs = this.#points(frames);
    if (pairs.length === 0) return null;
    return identitySummary(
      pairs.map(({ frame, point }) => ({
        ...point,
        toReference: frame.identity!.toReference,
        toPrevious: frame.identity!.toPrevious,
      })),
      this.#host.embedder.info.threshold,
    );
  }
}

/** Seeds of the frames, in order of first appearance. */
export function seedsOf(
  frames: readonly object[],
  specSeed: number | string | undefined,
): string[] {
  return [...new Set(frames.map((f) => frameSeed(f, specSeed)))];
}

/** Content keys of the reference faces of the planned frames' seeds. */
export function referenceKeys(
  spec: IdentitySpec,
  model: KeyModel,
  planned: readonly object[],
): Set<string> {
  return new Set(seedsOf(planned, spec.seed).map((s) => referenceKey(spec, model, s)));
}
