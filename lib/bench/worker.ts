/**
 * One benchmark measurement, run in a child process of its own so that its peak memory (the
 * kernel's RSS high-water mark) covers only that measurement: the parent's graph building and
 * serialisation never count. The parent passes a {@link WorkerTask} as JSON on the command line
 * and reads one {@link WorkerResult} JSON line from stdout.
 *
 * @module
 */

import ort from "onnxruntime-node";
import { sample } from "../pipelines/sample.ts";
import { type LoadedModel, type ModelInfo, sessionOptions } from "../pipelines/model.ts";
import { median, peakRssBytes } from "./machine.ts";

/** A measurement to make. */
export type WorkerTask =
  | { kind: "unet"; model: string; batch: number; channels: number; size: number } & Common
  | { kind: "vq"; model: string; channels: number; size: number } & Common
  | { kind: "matmul"; model: string } & Common
  | {
    kind: "sampler";
    model: string;
    channels: number;
    size: number;
    steps: number;
    scheduler: Record<string, unknown>;
    /** The fused loop beside `model`: also time the same sampling through it. */
    loopModel?: string;
  } & Common
  | {
    /** The fused denoising loop: `steps` UNet steps per `session.run`. */
    kind: "loop";
    model: string;
    batch: number;
    channels: number;
    size: number;
    steps: number;
  } & Common;

interface Common {
  /** Timed runs. */
  runs: number;
  /** Untimed runs before them (default 1). */
  warmups?: number;
  /** Intra-op threads. */
  threads: number;
  /** Execution provider (default `cpu`). */
  device?: "cpu" | "cuda";
}

/** What a worker reports. */
export interface WorkerResult {
  /** Duration of every timed run, in milliseconds. */
  runsMs: number[];
  /** Median of `runsMs`. */
  medianMs: number;
  /** Peak RSS of the worker process, in bytes. */
  peakRssBytes: number;
  /** Sampler task only: milliseconds per step spent outside `session.run`. */
  overheadMsPerStep?: number;
  /** Sampler task only: that overhead as a share of a whole step. */
  overheadShare?: number;
  /** Sampler task with `loopModel`: milliseconds per step of step-by-step and fused sampling. */
  fusedComparison?: { stepwiseMsPerStep: number; fusedMsPerStep: number };
}

/** The session options every measurement uses: exactly those of `loadModel`. */
export function benchSessionOptions(
  threads: number,
  device: "cpu" | "cuda" = "cpu",
): ort.InferenceSession.SessionOptions {
  return sessionOptions(device, threads);
}

/** Runs `task` in this process and returns its figures. */
export async function runTask(task: WorkerTask): Promise<WorkerResult> {
  const session = await ort.InferenceSession.create(
    task.model,
    benchSessionOptions(task.threads, task.device),
  );
  try {
    if (task.kind === "sampler") return await samplerOverhead(session, task);
    const feeds = feedsFor(task);
    // Warm-up: first-run allocations, weight prepacking, thread-pool start.
    for (let i = 0; i < (task.warmups ?? 1); i++) await session.run(feeds);
    const runsMs: number[] = [];
    for (let i = 0; i < task.runs; i++) {
      const started = performance.now();
      await session.run(feeds);
      runsMs.push(performance.now() - started);
    }
    return { runsMs, medianMs: median(runsMs), peakRssBytes: peakRssBytes() };
  } finally {
    await session.release();
  }
}

function feedsFor(task: WorkerTask): Record<string, ort.Tensor> {
  const wave = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
  switch (task.kind) {
    case "unet": {
      const shape = [task.batch, task.channels, task.size, task.size];
      return {
        sample: new ort.Tensor("float32", wave(shape.reduce((a, b) => a * b)), shape),
        timestep: new ort.Tensor("float32", new Float32Array(task.batch).fill(500), [task.batch]),
      };
    }
    case "vq": {
      const shape = [1, task.channels, task.size, task.size];
      return { latents: new ort.Tensor("float32", wave(shape.reduce((a, b) => a * b)), shape) };
    }
    case "matmul":
      return { a: new ort.Tensor("float32", wave(MATMUL_SIZE ** 2), [MATMUL_SIZE, MATMUL_SIZE]) };
    case "loop": {
      const shape = [task.batch, task.channels, task.size, task.size];
      const n = task.steps;
      // Timesteps spread over the schedule; coefficients of a plausible magnitude (only the
      // cost matters here, and it does not depend on the values).
      const table = (f: (j: number) => number) =>
        new ort.Tensor("float32", Float32Array.from({ length: n }, (_, j) => f(j)), [n]);
      return {
        latents: new ort.Tensor("float32", wave(shape.reduce((a, b) => a * b)), shape),
        trip_count: new ort.Tensor("int64", BigInt64Array.of(BigInt(n)), []),
        timesteps: table((j) => Math.round(999 * (1 - j / n))),
        inject_scale: table((j) => (j < 10 ? 0.01 : 0)),
        sqrt_alpha_prod: table(() => 0.5),
        sqrt_beta_prod: table(() => 0.86),
        sqrt_alpha_prod_prev: table(() => 0.52),
        direction_scale: table(() => 0.85),
        inject_field: new ort.Tensor(
          "float32",
          new Float32Array(shape.reduce((a, b) => a * b)),
          shape,
        ),
        inject_noise: new ort.Tensor("float32", new Float32Array(n).fill(1), [n, 1, 1, 1, 1]),
      };
    }
    default:
      throw new RangeError(`no feeds for task kind ${task.kind}`);
  }
}

/** Side of the square MatMul the UNet's GFLOP/s is compared with. */
export const MATMUL_SIZE = 2048;

/**
 * Runs the real sampler loop (`sample` of lib/pipelines) on the UNet session with every
 * `session.run` timed; what the loop spends beyond those calls is the sampler's overhead. The
 * decoder is a stub: decoding is measured separately and is not part of the loop.
 */
async function samplerOverhead(
  unet: ort.InferenceSession,
  task: Extract<WorkerTask, { kind: "sampler" }>,
): Promise<WorkerResult> {
  const runsMs: number[] = [];
  const timedUnet = {
    run: async (feeds: ort.InferenceSession.FeedsType) => {
      const started = performance.now();
      const out = await unet.run(feeds);
      runsMs.push(performance.now() - started);
      return out;
    },
  };
  const pixels = task.channels * task.size * task.size;
  const stubDecoder = {
    run: () => Promise.resolve({ image: { data: new Float32Array(pixels) } }),
  };
  const info = {
    scheduler: task.scheduler,
    latentScale: 1,
  } as unknown as ModelInfo;
  const model = {
    info,
    unet: () => Promise.resolve(timedUnet),
    decoder: stubDecoder,
    latentChannels: task.channels,
    latentSize: task.size,
    imageSize: task.size,
  } as unknown as LoadedModel;
  const run = () =>
    sample(model, {
      seed: 0,
      steps: task.steps,
      colors: ["#808080"],
      window: [1, Math.min(10, task.steps)],
    });
  await run(); // warm-up
  runsMs.length = 0;
  const { timings } = await run();
  const inside = runsMs.reduce((a, b) => a + b, 0);
  const overheadMsPerStep = (timings.denoiseMs - inside) / task.steps;
  let fusedComparison: WorkerResult["fusedComparison"];
  if (task.loopModel) {
    const loop = await ort.InferenceSession.create(
      task.loopModel,
      benchSessionOptions(task.threads, task.device),
    );
    try {
      Object.assign(model, { hasFusedLoop: true, fusedLoop: () => Promise.resolve(loop) });
      const fusedRun = () =>
        sample(model, {
          seed: 0,
          steps: task.steps,
          colors: ["#808080"],
          window: [1, Math.min(10, task.steps)],
          fused: true,
          chunkSize: task.steps,
        });
      await fusedRun(); // warm-up
      const fused = await fusedRun();
      fusedComparison = {
        stepwiseMsPerStep: timings.denoiseMs / task.steps,
        fusedMsPerStep: fused.timings.denoiseMs / task.steps,
      };
    } finally {
      await loop.release();
    }
  }
  return {
    runsMs,
    medianMs: median(runsMs),
    peakRssBytes: peakRssBytes(),
    overheadMsPerStep,
    overheadShare: (timings.denoiseMs - inside) / timings.denoiseMs,
    fusedComparison,
  };
}

if (import.meta.main) {
  const result = await runTask(JSON.parse(Deno.args[0]) as WorkerTask);
  console.log(JSON.stringify(result));
}
