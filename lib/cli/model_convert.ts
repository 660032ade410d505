/**
 * `deno task model:convert SRC OUT [--latent-scale X] [--source-id ID] [--precision fp16]`
 * `deno task model:convert --random [--seed N] [--precision fp16] OUT`
 *
 * Converts a diffusers LDM folder (unet/, vqvae/, scheduler/; safetensors or PyTorch .bin,
 * current or early-diffusers key names) into an ONNX model folder; with `--random`, writes the
 * full-size CompVis/ldm-celebahq-256 architecture with seeded random weights (no download).
 *
 * Exit codes: 0 done, 1 conversion failed, 2 bad usage.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { buildRandomModel, convertDiffusers } from "../convert/convert.ts";
import { LDM_CELEBAHQ_UNET_CONFIG, LDM_CELEBAHQ_VQVAE_CONFIG } from "../models/mod.ts";

const USAGE = `Usage:
  deno task model:convert SRC OUT [--latent-scale X] [--source-id ID] [--precision fp16]
  deno task model:convert --random [--seed N] [--precision fp16] OUT

SRC is a diffusers LDM folder (unet/, vqvae/, scheduler/), e.g. a hub snapshot folder.
OUT receives unet.onnx, unet_loop.onnx (the fused denoising loop, sharing unet.onnx's weights),
vqvae_decoder.onnx (with .data files for large weights) and model.json.

Options:
  --latent-scale X   divide latents by X before decoding (default: 1.0 for
                     CompVis/ldm-celebahq-256, else the vqvae config's scaling_factor)
  --source-id ID     where the checkpoint came from, recorded in model.json
  --precision P      fp32 (default) or fp16: half-size weights and float16 arithmetic, for
                     GPUs (--device cuda); onnxruntime's CPU float16 kernels are slow
  --random           full-size CompVis architecture with random weights (benchmarks)
  --seed N           seed of the random weights (default 0)
  -h, --help         show this help
`;

/** The DDIM settings of CompVis/ldm-celebahq-256 (scheduler/scheduler_config.json). */
const COMPVIS_SCHEDULER = {
  _class_name: "DDIMScheduler",
  beta_end: 0.0195,
  beta_schedule: "scaled_linear",
  beta_start: 0.0015,
  clip_sample: false,
  num_train_timesteps: 1000,
  set_alpha_to_one: true,
  steps_offset: 0,
  trained_betas: null,
};

/** Runs the command; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        "latent-scale": { type: "string" },
        "source-id": { type: "string" },
        random: { type: "boolean" },
        seed: { type: "string" },
        precision: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    console.error(`model:convert: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const usage = (message: string) => {
    console.error(`model:convert: ${message}\n\n${USAGE}`);
    return 2;
  };
  let latentScale: number | undefined;
  if (values["latent-scale"] !== undefined) {
    latentScale = Number(values["latent-scale"]);
    if (!Number.isFinite(latentScale) || latentScale <= 0) {
      return usage(`--latent-scale must be a number > 0, got "${values["latent-scale"]}"`);
    }
  }
  const precision = values.precision ?? "fp32";
  if (precision !== "fp32" && precision !== "fp16") {
    return usage(`--precision must be fp32 or fp16, got "${values.precision}"`);
  }
  const log = (line: string) => console.error(`model:convert: ${line}`);
  try {
    if (values.random) {
      if (positionals.length !== 1) return usage("--random takes exactly one argument, OUT");
      const seed = Number(values.seed ?? "0");
      if (!Number.isSafeInteger(seed) || seed < 0) {
        return usage(`--seed must be a non-negative integer, got "${values.seed}"`);
      }
      await buildRandomModel(positionals[0], {
        seed,
        unetConfig: { ...LDM_CELEBAHQ_UNET_CONFIG },
        vqvaeConfig: { ...LDM_CELEBAHQ_VQVAE_CONFIG },
        schedulerConfig: COMPVIS_SCHEDULER,
        latentScale,
        precision,
      }, log);
    } else {
      if (positionals.length !== 2) return usage("expected SRC and OUT");
      await convertDiffusers(positionals[0], positionals[1], {
        latentScale,
        sourceId: values["source-id"],
        precision,
        log,
      });
    }
    console.log(positionals.at(-1));
    return 0;
  } catch (e) {
    console.error(`model:convert: error: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
