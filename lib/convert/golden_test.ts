import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveModel } from "../pipelines/resolve.ts";
import { main } from "../cli/model_verify.ts";
import { REAL_MODEL_GOLDEN, verifyGolden } from "./golden.ts";

Deno.test("the golden reference is the published CompVis UNet check", () => {
  assert.equal(REAL_MODEL_GOLDEN.model, "CompVis/ldm-celebahq-256");
  assert.equal(REAL_MODEL_GOLDEN.timestep, 10);
  assert.equal(REAL_MODEL_GOLDEN.values.length, 30);
  assert.equal(REAL_MODEL_GOLDEN.atol, 1e-3);
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
