/**
 * Test helper: a real run folder made by the runner with the fake model (frames, manifest,
 * pictures and report.html in milliseconds).
 *
 * @module
 */

import { fakeDeps, quietWriter } from "../experiments/_fakes.ts";
import type { Manifest } from "../experiments/manifest.ts";
import { runExperiment } from "../experiments/runner.ts";

/** Runs a linear-path experiment of `count` frames into `dir` with the fake model. */
export async function fakeRun(
  dir: string,
  { name, seed, count }: { name: string; seed: number; count: number },
): Promise<Manifest> {
  const spec = {
    name,
    model: "tiny",
    seed,
    steps: 10,
    path: { type: "linear" },
    frames: { count },
  };
  return (await runExperiment(spec, {
    out: dir,
    deps: fakeDeps().deps,
    log: () => {},
    progressWriter: quietWriter,
  })).manifest;
}
