/**
 * A results folder for the viewer's tests, made of synthetic runs (no model): a complete run
 * with a video, a second complete run whose frames differ, a running run, an invalid manifest,
 * and files the viewer must not serve.
 *
 * @module
 */

import { join } from "node:path";
import { gradientImage, writeTestRun } from "../compare/_test_util.ts";
import type { Manifest } from "../experiments/manifest.ts";

/** Bytes of the fake `video.mp4` (only its length and content matter to Range tests). */
export const VIDEO_BYTES: Uint8Array = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);

/** The folder and its runs' paths relative to it. */
export interface TestResults {
  /** The results folder (a temporary folder). */
  root: string;
  /** A complete 3-frame run with `video.mp4`, a `.lock` and a stray file. */
  complete: string;
  /** A complete 3-frame run with other pixels (another seed). */
  other: string;
  /** A running run: 2 of 5 frames. */
  running: string;
  /** A folder whose manifest.json is not a manifest. */
  invalid: string;
  /** The manifest of `complete`. */
  completeManifest: Manifest;
}

/** Rewrites a run's manifest with changes applied. */
export async function editManifest(
  dir: string,
  edit: (m: Record<string, unknown>) => void,
): Promise<void> {
  const path = join(dir, "manifest.json");
  const m = JSON.parse(await Deno.readTextFile(path));
  edit(m);
  await Deno.writeTextFile(path, JSON.stringify(m, null, 2));
}

const summary = {
  frames: 3,
  computed: 3,
  reused: 0,
  samplingMs: 10,
  correlation: { r: 0.5, g: 0.25, b: null },
  largestJump: { index: 2, value: 0.125 },
  meanDistanceToPrevious: 0.1,
};

/** Makes the folder; remove `root` when done. */
export async function makeTestResults(): Promise<TestResults> {
  const root = await Deno.makeTempDir({ prefix: "serve_" });
  const runs = {
    complete: "exp/20250101T000000Z-aaaa",
    other: "exp/20250102T000000Z-bbbb",
    running: "live/run",
    invalid: "broken/run",
  };
  const frames = (seed: number) =>
    [0, 1, 2].map((i) => ({ rgba: gradientImage(16, 16, seed + i), width: 16, height: 16 }));
  const completeManifest = await writeTestRun(join(root, runs.complete), frames(0));
  await writeTestRun(join(root, runs.other), frames(5), { seed: 2 });
  for (const path of [runs.complete, runs.other]) {
    await editManifest(join(root, path), (m) => {
      m.summary = summary;
      if (path === runs.complete) (m.outputs as Manifest["outputs"]).video.mp4 = "video.mp4";
    });
  }
  await Deno.writeFile(join(root, runs.complete, "video.mp4"), VIDEO_BYTES);
  await Deno.writeTextFile(join(root, runs.complete, ".lock"), '{"pid":1}');
  await Deno.writeTextFile(join(root, runs.complete, "notes.txt"), "not for the web");
  await Deno.writeTextFile(join(root, runs.complete, ".manifest.json.tmp"), "{}");

  const running = join(root, runs.running);
  await writeTestRun(running, frames(0).slice(0, 2));
  await editManifest(running, (m) => {
    m.status = "running";
    (m.spec as { frames: { count: number } }).frames.count = 5;
  });

  await Deno.mkdir(join(root, runs.invalid), { recursive: true });
  await Deno.writeTextFile(join(root, runs.invalid, "manifest.json"), '{"version": 1, "status"');
  return { root, ...runs, completeManifest: completeManifest };
}
