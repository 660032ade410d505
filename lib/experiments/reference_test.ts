/**
 * The runner with the real pipeline on the tiny checkpoint reproduces diffusers: frames written
 * by an experiment match `pipeline.safetensors` (lib/testdata/ldm-reference) pixel for pixel up
 * to the float32 tolerance of the reference README (≤ 2e-3 on ≥ 99.9 % of values, i.e. at most
 * one 8-bit step).
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensors } from "../io/safetensors.ts";
import { toFloat32 } from "../io/tensor.ts";
import { decodePng, imageToRgba } from "../render/mod.ts";
import { quietWriter } from "./_fakes.ts";
import { runExperiment } from "./runner.ts";

const reference = join(
  dirname(fileURLToPath(import.meta.url)),
  "../testdata/ldm-reference/pipeline.safetensors",
);

Deno.test("experiment frames match the diffusers reference images", async () => {
  const { tensors } = await readSafetensors(reference);
  const expected = (name: string, index: number) =>
    imageToRgba(toFloat32(tensors.get(`${name}/image`)!), index, 64, 64);

  const out = await Deno.makeTempDir({ prefix: "reference_test_" });
  try {
    const { manifest } = await runExperiment({
      name: "reference",
      model: "tiny",
      seed: 0,
      steps: 50,
      frames: [
        { color: [0, 0, 0], injection: { scale: 0 }, label: "plain_seed0_50" },
        { color: [1, 0, 0], label: "red_seed0_50" },
        // One sampler call of three, as the reference computed them.
        { color: [1, 0, 0], injection: { scale: 0.5 }, label: "batch3_seed0_50_s0.5" },
        { color: [0, 1, 0], injection: { scale: 0.5 }, label: "batch3_seed0_50_s0.5" },
        { color: [0.2, 0.5, 0.9], injection: { scale: 0.5 }, label: "batch3_seed0_50_s0.5" },
      ],
      batch: 4,
      outputs: { contactSheet: false, pathPlot: false, video: false },
    }, { out, threads: 1, log: () => {}, progressWriter: quietWriter });

    const cases = [
      ["plain_seed0_50", 0],
      ["red_seed0_50", 0],
      ["batch3_seed0_50_s0.5", 0],
      ["batch3_seed0_50_s0.5", 1],
      ["batch3_seed0_50_s0.5", 2],
    ] as const;
    let worst = 0;
    for (const [i, [name, index]] of cases.entries()) {
      const frame = manifest.frames[i];
      const ours = (await decodePng(await Deno.readFile(join(out, frame.file)))).rgba;
      const theirs = expected(name, index);
      let off = 0;
      for (let j = 0; j < ours.length; j++) {
        const d = Math.abs(ours[j] - theirs[j]);
        worst = Math.max(worst, d);
        if (d > 1) off++;
      }
      assert.ok(off <= ours.length * 0.001, `${name}[${index}]: ${off} values off by > 1/255`);
    }
    assert.ok(worst <= 2, `largest difference ${worst}/255`);
    console.log(`largest difference to diffusers over 5 frames: ${worst}/255`);
    // The red frame differs from the plain one: the injection reached the pixels.
    assert.notEqual(manifest.frames[0].sha256, manifest.frames[1].sha256);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
