/**
 * The child process of `deno task gpu-check`: everything that touches an execution provider
 * runs here, so that onnxruntime's native log (written to this process's stderr) can be read by
 * the parent, and a provider that crashes takes only this process down.
 *
 * `deno run -A lib/gpu/worker.ts <mode> <json>` prints one line `@@result <json>` on stdout.
 * Modes:
 * - `probe {device}`: creates a one-node session on the device (does the provider load?);
 * - `placement {path, device, threads}`: creates the model's session with onnxruntime's verbose
 *   log on, for its `Node placements` (see `placement.ts`), and releases it;
 * - `run {dir, device, threads, batch, steps, seed, out}`: one UNet evaluation and a fused-loop
 *   sampling of `steps` steps for `batch` colours, arrays written to `out` as raw float32;
 * - `bench {dir, device, threads, batches, steps, seed}`: fused-loop throughput per batch size.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { TorchGenerator } from "../noise/mod.ts";
import { GraphBuilder } from "../onnx/graph_builder.ts";
import { serializeModel } from "../onnx/serialize.ts";
import { type LoadedModel, loadModel, sessionOptions } from "../pipelines/model.ts";
import { sample } from "../pipelines/sample.ts";

/** Marks the worker's result line on stdout. */
export const RESULT_PREFIX = "@@result ";

type Device = "cpu" | "cuda";

/** Timestep of the single UNet evaluation compared between devices. */
export const CHECK_TIMESTEP = 500;

/** Colours of a batch of `n` (distinct, so that images of a batch differ). */
export function checkColors(n: number): string[] {
  const hex = (v: number) => (v % 256).toString(16).padStart(2, "0");
  return Array.from(
    { length: n },
    (_, i) => `#${hex(i * 97)}${hex(i * 61 + 128)}${hex(255 + i * 219)}`,
  );
}

/** The injection window of a short check run: the first two steps (as [1, 10] of 1000 is early). */
export function checkWindow(steps: number): [number, number] {
  return [1, Math.min(2, steps)];
}

async function probe(device: Device): Promise<unknown> {
  const b = new GraphBuilder({ name: "probe" });
  const x = b.input("x", "float32", [4]);
  b.output(b.add(x, x), "y", "float32", [4]);
  // Verbose, so that the parent can read where onnxruntime placed the node.
  ort.env.logLevel = "verbose";
  const session = await ort.InferenceSession.create(serializeModel(b.build()).model, {
    ...sessionOptions(device, 1),
    logSeverityLevel: 0,
  });
  const out = await session.run({ x: new ort.Tensor("float32", Float32Array.of(1, 2, 3, 4), [4]) });
  const y = Array.from(out.y.data as Float32Array);
  await session.release();
  if (y.join() !== "2,4,6,8") throw new Error(`the probe computed ${y}, expected 2,4,6,8`);
  return { ok: true };
}

async function placement(a: { path: string; device: Device; threads: number }): Promise<unknown> {
  // The default logger's level (onnxruntime-node: env.logLevel, lib/binding.ts:69-91) carries the
  // providers' INFO messages; the session's own severity carries `Node placements`.
  ort.env.logLevel = "verbose";
  const session = await ort.InferenceSession.create(a.path, {
    ...sessionOptions(a.device, a.threads),
    logSeverityLevel: 0,
  });
  await session.release();
  return { ok: true };
}

async function open(dir: string, device: Device, threads: number): Promise<LoadedModel> {
  const model = await loadModel(dir, { device, threads, warn: () => {} });
  if (model.device !== device) {
    await model.release();
    throw new Error(`the model opened on ${model.device}, not ${device}`);
  }
  return model;
}

async function run(a: {
  dir: string;
  device: Device;
  threads: number;
  batch: number;
  steps: number;
  seed: number;
  out: string;
}): Promise<unknown> {
  const model = await open(a.dir, a.device, a.threads);
  try {
    const c = model.latentChannels;
    const s = model.latentSize;
    const x = new TorchGenerator(a.seed).randn([a.batch, c, s, s]);
    const unet = await model.unet();
    const started = performance.now();
    const out = await unet.run({
      sample: new ort.Tensor("float32", x, [a.batch, c, s, s]),
      timestep: new ort.Tensor("float32", new Float32Array(a.batch).fill(CHECK_TIMESTEP), [
        a.batch,
      ]),
    });
    const unetMs = performance.now() - started;
    const eps = out.eps.data as Float32Array;
    const result = await sample(model, {
      seed: a.seed,
      steps: a.steps,
      colors: checkColors(a.batch),
      window: checkWindow(a.steps),
      fused: true,
      chunkSize: a.steps,
    });
    const files = {
      eps: join(a.out, "eps.f32"),
      latents: join(a.out, "latents.f32"),
      images: join(a.out, "images.f32"),
    };
    await Deno.mkdir(a.out, { recursive: true });
    await Deno.writeFile(files.eps, new Uint8Array(eps.buffer, eps.byteOffset, eps.byteLength));
    for (const key of ["latents", "images"] as const) {
      const v = result[key];
      await Deno.writeFile(files[key], new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    }
    return { ok: true, files, unetMs, timings: result.timings };
  } finally {
    await model.release();
  }
}

async function bench(a: {
  dir: string;
  device: Device;
  threads: number;
  batches: number[];
  steps: number;
  seed: number;
}): Promise<unknown> {
  const model = await open(a.dir, a.device, a.threads);
  const rows: { batch: number; runMs?: number; frameStepsPerSecond?: number; error?: string }[] =
    [];
  try {
    for (const batch of a.batches) {
      try {
        const options = {
          seed: a.seed,
          steps: a.steps,
          colors: checkColors(batch),
          window: checkWindow(a.steps),
          fused: true,
          chunkSize: a.steps,
        };
        // Warm-up (kernel choice, allocation), then the timed run.
        await sample(model, { ...options, steps: 2, chunkSize: 2, window: checkWindow(2) });
        const { timings } = await sample(model, options);
        rows.push({
          batch,
          runMs: timings.runMs,
          frameStepsPerSecond: (batch * a.steps) / (timings.runMs / 1000),
        });
      } catch (e) {
        rows.push({ batch, error: (e as Error).message.split("\n")[0] });
        break; // a larger batch will not fit either
      }
    }
    return { ok: true, rows };
  } finally {
    await model.release();
  }
}

const MODES: Record<string, (args: never) => Promise<unknown>> = {
  probe: (a: { device: Device }) => probe(a.device),
  placement,
  run,
  bench,
};

if (import.meta.main) {
  const [mode, json] = Deno.args;
  let result: unknown;
  try {
    const handler = MODES[mode];
    if (!handler) throw new Error(`unknown worker mode ${JSON.stringify(mode)}`);
    result = await handler(JSON.parse(json ?? "{}") as never);
  } catch (e) {
    result = { ok: false, error: (e as Error).message };
  }
  console.log(RESULT_PREFIX + JSON.stringify(result));
}
