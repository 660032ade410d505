import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveModel } from "../pipelines/resolve.ts";
import { main } from "../cli/model_verify.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { toFloat32 } from "../io/tensor.ts";
import { torchRandn } from "../noise/mod.ts";
import { convertDiffusers } from "./convert.ts";
import { type GoldenReference, verifyGolden } from "./golden.ts";

/**
 * A golden check for the tiny checkpoint from diffusers' own numbers: unet_io's `x` is
 * `torch.manual_seed(3); torch.randn(2, 3, 16, 16)`, whose first image equals
 * `torch.randn(1, 3, 16, 16)` from the same seed (the generator fills in blocks of 16).
 */
async function tinyGolden(): Promise<GoldenReference> {
  const io = await readSafetensors(
    new URL("../testdata/ldm-reference/unet_io.safetensors", import.meta.url).pathname,
  );
  const x = toFloat32(io.tensors.get("x")!);
  assert.deepEqual(torchRandn([1, 3, 16, 16], 3), x.subarray(0, 768), "unet_io x is randn(seed 3)");
  const eps = toFloat32(io.tensors.get("eps_t10")!);
  return {
    model: "tiny",
    seed: 3,
    shape: [1, 3, 16, 16],
    timestep: 10,
    values: Array.from(eps.subarray(0, 16)),
    atol: 1e-3,
  };
}

Deno.test("verifyGolden passes on a model that matches diffusers and fails on a wrong value", async () => {
  const tiny = await resolveModel("tiny");
  const reference = await tinyGolden();
  const good = await verifyGolden(tiny, reference);
  assert.equal(good.ok, true);
  assert.ok(good.maxAbsDiff < 1e-4, `max difference ${good.maxAbsDiff}`);
  const wrong = { ...reference, values: reference.values.map((v, i) => (i === 5 ? v + 0.01 : v)) };
  const bad = await verifyGolden(tiny, wrong);
  assert.equal(bad.ok, false);
  assert.ok(Math.abs(bad.maxAbsDiff - 0.01) < 1e-4, `max difference ${bad.maxAbsDiff}`);
});

Deno.test("model:verify skips with a clear message where the real model is absent", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    let code: number;
    try {
      code = await main([join(dir, "missing")]);
    } finally {
      console.log = log;
    }
    assert.equal(code, 0);
    assert.match(lines.join("\n"), /SKIPPED: no converted model at .*missing/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verifyGolden refuses an fp16 conversion instead of reporting a mismatch", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await convertDiffusers(
      new URL("../testdata/ldm-reference/tiny-ldm", import.meta.url).pathname,
      dir,
      {
        precision: "fp16",
      },
    );
    await assert.rejects(verifyGolden(dir, await tinyGolden()), /fp16 conversion/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verifyGolden refuses a model that is not shaped like the real one", async () => {
  const tiny = await resolveModel("tiny");
  await assert.rejects(verifyGolden(tiny), /3×16×16 latents; the golden values are for/);
  const error = console.error;
  console.error = () => {};
  try {
    assert.equal(await main([tiny]), 1);
  } finally {
    console.error = error;
  }
});
