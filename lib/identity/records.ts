/**
 * What identity analysis writes into `manifest.json` (the shared contract): per frame
 * `identity`, at the top level `identity` (the embedder and the reference faces), and
 * `summary.identity`.
 *
 * @module
 */

import type { EmbedderInfo } from "./embedder.ts";

export type { IdentitySummary } from "./analysis.ts";

/** A frame's identity numbers (manifest `frames[i].identity`). */
export interface FrameIdentity {
  /** The face descriptor, float32 values (128 for face-api's net). */
  descriptor: number[];
  /** Euclidean distance to the reference face of the frame's seed. */
  toReference: number;
  /** Euclidean distance to the previous frame of the same seed along the path; null for the first. */
  toPrevious: number | null;
}

/** The reference face of one seed: the same noise with no injection. */
export interface IdentityReference {
  /** Decimal seed. */
  seed: string;
  /** Content key of the reference image (scale 0, colour black, the run's window and mode). */
  key: string;
  /** PNG path relative to the run folder: `frames/<sha256>.png`. */
  file: string;
  /** SHA-256 of the PNG bytes. */
  sha256: string;
  /** Its descriptor. */
  descriptor: number[];
}

/** Manifest top-level `identity`. */
export interface ManifestIdentity {
  /** The network every descriptor of this manifest was computed with. */
  embedder: EmbedderInfo;
  /** One reference face per seed. */
  references: IdentityReference[];
}
