/**
 * Content keys: the identity of a frame is everything that determines its pixels, and nothing
 * else. Two runs (or two experiments) asking for the same image get the same key, so a frame is
 * computed once; any change of model weights, seed, steps, injection, colour or scheduler gives a
 * new key. Batch size, device, threads and the frame's position are deliberately left out: the
 * sampler makes an image independent of the batch it is computed in.
 *
 * @module
 */

import { canonicalJson } from "../util/canonical.ts";
import { sha256Hex } from "../util/hash.ts";
import type { Injection } from "./spec.ts";

/** Bump when the meaning of a key's inputs changes, so old caches stop matching. */
export const KEY_VERSION = 1;

/** The inputs shared by every frame of a run. */
export interface KeyContext {
  /** SHA-256 of every converted model file (model.json's `sha256`). */
  modelHashes: Readonly<Record<string, string>>;
  /** The scheduler config the sampler builds its timesteps from. */
  scheduler: unknown;
  /** Seed as a decimal string (so 5, "5" and 5n agree). */
  seed: string;
  /** DDIM steps. */
  steps: number;
  /** Latents are divided by this before decoding. */
  latentScale: number;
  /** DDIM eta (0 in this project). */
  eta: number;
}

/** The parts of model.json a key depends on. */
export interface KeyModel {
  /** SHA-256 of every converted file. */
  sha256: Readonly<Record<string, string>>;
  /** Scheduler config. */
  scheduler?: unknown;
  /** The model's latent divisor (used unless the spec sets one). */
  latentScale: number;
}

/**
 * The key context of a run's frames of one seed: what they share on a model. Single runs and
 * merges build it here, so their keys cannot drift apart.
 *
 * @param seed the frames' seed (decimal); default the spec's `seed` (single-seed runs). A
 *   multi-seed run has one context per seed, equal to the single-seed run's of that seed, so
 *   both give a frame the same key.
 */
export function keyContextFor(
  spec: { seed?: number | string; steps: number; latentScale?: number },
  model: KeyModel,
  seed: number | string | undefined = spec.seed,
): KeyContext {
  if (seed === undefined) throw new Error("internal error: a key context without a seed");
  return {
    modelHashes: model.sha256,
    scheduler: model.scheduler ?? null,
    seed: String(seed),
    steps: spec.steps,
    latentScale: spec.latentScale ?? model.latentScale,
    eta: 0,
  };
}

/**
 * The content key of every given frame, each with its own seed's context. Returned indexed by
 * frame index (a shard's plan leaves the other slots empty).
 */
export function frameKeys(
  spec: { steps: number; latentScale?: number },
  model: KeyModel,
  frames: readonly (KeyFrame & { index: number; seed: string })[],
): string[] {
  const contexts = new Map<string, KeyContext>();
  const keys: string[] = [];
  for (const frame of frames) {
    let context = contexts.get(frame.seed);
    if (!context) contexts.set(frame.seed, context = keyContextFor(spec, model, frame.seed));
    keys[frame.index] = frameKey(context, frame);
  }
  return keys;
}

/** What varies per frame. */
export interface KeyFrame {
  /** The injected colour, [0, 1]. */
  color: readonly [number, number, number];
  /** Effective injection of the frame. */
  injection: Injection;
}

/** The exact object that is hashed; exposed so tests and manifests can show it. */
export function keyMaterial(context: KeyContext, frame: KeyFrame): Record<string, unknown> {
  return {
    version: KEY_VERSION,
    model: context.modelHashes,
    scheduler: context.scheduler,
    seed: context.seed,
    steps: context.steps,
    latentScale: context.latentScale,
    eta: context.eta,
    scale: frame.injection.scale,
    window: [frame.injection.window[0], frame.injection.window[1]],
    mode: frame.injection.mode,
    // The sampler works in float32: colours equal after rounding give identical images.
    color: frame.color.map((c) => Math.fround(c)),
  };
}

/** SHA-256 (hex) of the canonical JSON of {@link keyMaterial}. */
export function frameKey(context: KeyContext, frame: KeyFrame): string {
  return sha256Hex(canonicalJson(keyMaterial(context, frame)));
}
