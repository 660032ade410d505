/**
 * The performance benchmark behind `deno task bench`: builds the CompVis/ldm-celebahq-256 UNet
 * and VQ decoder (or the tiny test models) with random weights, writes them with external data
 * to a temporary folder, and measures each figure in a child process (see `worker.ts`): UNet
 * step latency and throughput per batch size, achieved GFLOP/s next to a 2048³ MatMul measured
 * in the same run, VQ decode time, the sampler's overhead outside `session.run`, step-by-step
 * against fused-loop sampling on the CPU, peak memory, and — where onnxruntime-node's CUDA
 * provider is installed — UNet steps on the GPU through the fused loop, fp32 and fp16.
 *
 * The temporary folder (about 1.2 GB at full size) is removed however the benchmark ends: done,
 * failed, or stopped through {@link BenchOptions.signal} (the CLI aborts it on SIGINT/SIGTERM),
 * which also kills the measuring child process; folders of benchmarks killed outright are removed
 * by the next one (see `temp_models.ts`).
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildDenoiseLoopGraph,
  buildUnetGraph,
  buildVqDecoderGraph,
  LDM_CELEBAHQ_UNET_CONFIG,
  LDM_CELEBAHQ_VQVAE_CONFIG,
  parseUnetConfig,
  parseVqModelConfig,
  randomWeights,
  unetParameterShapes,
  vqDecoderParameterShapes,
} from "../models/mod.ts";
import type { AttentionImpl } from "../models/mod.ts";
import { GraphBuilder } from "../onnx/graph_builder.ts";
import { saveModel } from "../onnx/serialize.ts";
import type { OnnxGraph } from "../onnx/graph.ts";
import { cudaProviderStatus } from "../pipelines/cuda.ts";
import { InterruptedError, throwIfInterrupted } from "../experiments/interrupt.ts";
import { countFlops } from "./flops.ts";
import { makeBenchTempDir } from "./temp_models.ts";
import { type MachineInfo, machineInfo } from "./machine.ts";
import { MATMUL_SIZE, type WorkerResult, type WorkerTask } from "./worker.ts";
import { type FaceEmbeddingBench, measureFaceEmbedding } from "./identity.ts";

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Use the tiny test models instead of the full-size CompVis ones (fast, for CI). */
  small?: boolean;
  /** UNet batch sizes to measure (default 1, 2, 4, 8). */
  batches?: readonly number[];
  /** Timed runs per measurement, after one warm-up (default 5; the median is reported). */
  runs?: number;
  /** Intra-op threads (default: all cores). */
  threads?: number;
  /** Attention implementation of the graphs (default: the builders' default). */
  attention?: AttentionImpl;
  /** Denoising steps of the sampler-overhead measurement (default 10 small, 3 full). */
  samplerSteps?: number;
  /** UNet steps per `session.run` of the fused loop on the GPU (default 20). */
  gpuLoopSteps?: number;
  /** Progress messages (default: none). */
  log?: (message: string) => void;
  /**
   * Stops the benchmark: the measuring child is killed, the temporary models are removed and
   * the abort reason is thrown (an `InterruptedError` from the CLI's signal handler).
   */
  signal?: AbortSignal;
}

/** The UNet figures at one batch size. */
export interface UnetBatchResult {
  /** Batch size. */
  batch: number;
  /** Median milliseconds of one UNet evaluation of the whole batch. */
  msPerStep: number;
  /** Every timed run, milliseconds. */
  runsMs: number[];
  /** Frames advanced by one denoising step per second: batch / step time. */
  frameStepsPerSec: number;
  /** Achieved GFLOP/s (graph FLOPs / median time). */
  gflops: number;
  /** `gflops` divided by the MatMul GFLOP/s of the same run. */
  ratioToMatmul: number;
  /** Peak RSS of the process that measured it (session, weights, activations), bytes. */
  peakRssBytes: number;
}

/** Everything `deno task bench` reports; written as JSON by the CLI. */
export interface BenchResult {
  /** Format version of this JSON. */
  version: 1;
  /** ISO time the benchmark started. */
  date: string;
  /** `full` (CompVis/ldm-celebahq-256 architecture) or `small` (tiny test models). */
  mode: "full" | "small";
  /** Where it ran; the load average is read before the measurements start. */
  machine: MachineInfo;
  /** Load averages after the measurements. */
  loadAverageAfter: [number, number, number];
  /** Settings used. */
  settings: { runs: number; threads: number; attention: string; latentSize: number };
  /**
   * The reference MatMul: one [2048, 2048] @ [2048, 2048] float32 node, measured before and
   * after the UNet; `msMedian` and `gflops` are those of the faster of the two.
   */
  matmul: {
    size: number;
    msMedian: number;
    gflops: number;
    msMedianBefore: number;
    msMedianAfter: number;
  };
  /** UNet figures. */
  unet: {
    /** Parameter count. */
    parameters: number;
    /** FLOPs (2 × multiply-adds of Conv, MatMul, Gemm) of one step of one frame. */
    flopsPerFrameStep: number;
    /** Per batch size. */
    batches: UnetBatchResult[];
    /** The batch with the highest GFLOP/s. */
    best: { batch: number; gflops: number; ratioToMatmul: number };
  };
  /** Frame-steps per second by batch size (key: the batch size). */
  frameStepsPerSec: Record<string, number>;
  /** VQ decoder: one image (batch 1), median. */
  vqDecode: { msPerImage: number; flopsPerImage: number; gflops: number; peakRssBytes: number };
  /** Time the sampler loop spends outside `session.run`, at batch 1. */
  samplerOverhead: { steps: number; msPerStep: number; overheadMsPerStep: number; share: number };
  /** Step-by-step against fused-loop sampling on the CPU, at batch 1 (for information). */
  fusedCpu: { steps: number; stepwiseMsPerStep: number; fusedMsPerStep: number };
  /** UNet steps on CUDA through the fused loop, or why there are none. */
  gpu: GpuResult;
  /** The largest peak RSS of all measurements, bytes. */
  peakRssBytes: number;
  /** Cost of one frame's face descriptor (absent in records written before it was measured). */
  identity?: FaceEmbeddingBench;
}

/** The CUDA figures at one batch size and precision. */
export interface GpuBatchResult {
  /** Batch size. */
  batch: number;
  /** Median milliseconds per UNet step of the whole batch (one loop run / its steps). */
  msPerStep: number;
  /** Frames advanced by one denoising step per second. */
  frameStepsPerSec: number;
  /** Every timed loop run, milliseconds. */
  runsMs: number[];
}

/** The GPU section of {@link BenchResult}. */
export type GpuResult =
  | { available: false; reason: string }
  | {
    available: true;
    /** UNet steps per `session.run`. */
    loopSteps: number;
    /** Per precision, per batch size. */
    fp32: GpuBatchResult[];
    /** fp16 weights and arithmetic. */
    fp16: GpuBatchResult[];
  };

const WORKER = fileURLToPath(new URL("./worker.ts", import.meta.url));
const TINY = new URL("../testdata/ldm-reference/tiny-ldm/", import.meta.url);

/** DDIM settings of CompVis/ldm-celebahq-256 (only the loop's cost matters here). */
const SCHEDULER_CONFIG = {
  num_train_timesteps: 1000,
  beta_schedule: "scaled_linear",
  beta_start: 0.0015,
  beta_end: 0.0195,
  clip_sample: false,
  set_alpha_to_one: true,
};

/** Builds the models, runs every measurement and returns the figures. */
export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  const small = options.small ?? false;
  const batches = [...(options.batches ?? [1, 2, 4, 8])];
  const runs = options.runs ?? 5;
  const threads = options.threads ?? navigator.hardwareConcurrency;
  const log = options.log ?? (() => {});
  for (const b of batches) {
    if (!Number.isInteger(b) || b < 1) throw new RangeError(`batch sizes must be ≥ 1, got ${b}`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be ≥ 1, got ${runs}`);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`threads must be ≥ 1, got ${threads}`);
  }
  const date = new Date().toISOString();
  const machine = machineInfo();

  const unetConfig = parseUnetConfig(
    small ? await readJson(new URL("unet/config.json", TINY)) : LDM_CELEBAHQ_UNET_CONFIG,
    small ? "tiny-ldm unet" : "CompVis/ldm-celebahq-256 unet",
  );
  const vqConfig = parseVqModelConfig(
    small ? await readJson(new URL("vqvae/config.json", TINY)) : LDM_CELEBAHQ_VQVAE_CONFIG,
    small ? "tiny-ldm vqvae" : "CompVis/ldm-celebahq-256 vqvae",
  );
  const size = small ? 16 : 64;
  const channels = unetConfig.inChannels;

  const signal = options.signal;
  throwIfInterrupted(signal);
  const temp = await makeBenchTempDir(log);
  const dir = temp.path;
  log(`temporary models in ${dir} (removed at the end, also on Ctrl-C)`);
  // Every measurement runs in a child; `signal` kills it, and a check between stages stops the
  // building and writing of the graphs.
  const runWorker = (task: WorkerTask) => {
    throwIfInterrupted(signal);
    return runWorkerProcess(task, signal);
  };
  try {
    log("building the UNet graph");
    const unetShapes = unetParameterShapes(unetConfig);
    const parameters = [...unetShapes.values()].reduce(
      (n, s) => n + s.reduce((a, b) => a * b, 1),
      0,
    );
    let unetGraph = buildUnetGraph(unetConfig, randomWeights(unetShapes, 1), {
      attention: options.attention,
    });
    const attention = unetGraph.metadata.attention ?? "matmul";
    const flopsPerFrameStep =
      countFlops(unetGraph, { sample: [1, channels, size, size], timestep: [1] }).total;
    const unetPath = join(dir, "unet.onnx");
    throwIfInterrupted(signal);
    const loopPath = await saveUnetAndLoop(dir, unetGraph);
    unetGraph = undefined as never; // let the weights go before the workers start

    throwIfInterrupted(signal);
    log("building the VQ decoder graph");
    let vqGraph = buildVqDecoderGraph(
      vqConfig,
      randomWeights(vqDecoderParameterShapes(vqConfig), 2),
      { attention: options.attention },
    );
    const flopsPerImage = countFlops(vqGraph, { latents: [1, vqConfig.vqEmbedDim, size, size] })
      .total;
    const vqPath = join(dir, "vq_decoder.onnx");
    throwIfInterrupted(signal);
    await saveModel(vqPath, vqGraph, { externalData: true });
    vqGraph = undefined as never;

    const matmulPath = join(dir, "matmul.onnx");
    await saveModel(matmulPath, matmulGraph(), { externalData: true });

    const common = { runs, threads };
    // The MatMul is short (~70 ms), so it gets more warm-up and runs, and is measured before and
    // after the UNet; the faster of the two medians is the reference (the conservative choice
    // for the UNet/MatMul ratio on a shared machine).
    const matmulTask: WorkerTask = {
      kind: "matmul",
      model: matmulPath,
      threads,
      runs: Math.max(10, 3 * runs),
      warmups: 5,
    };
    log(`MatMul ${MATMUL_SIZE}³ (before)`);
    const mmBefore = await runWorker(matmulTask);
    let matmulGflops = 2 * MATMUL_SIZE ** 3 / (mmBefore.medianMs * 1e6);

    const unetBatches: UnetBatchResult[] = [];
    for (const batch of batches) {
      log(`UNet batch ${batch}`);
      const r = await runWorker({
        kind: "unet",
        model: unetPath,
        batch,
        channels,
        size,
        ...common,
      });
      const gflops = batch * flopsPerFrameStep / (r.medianMs * 1e6);
      unetBatches.push({
        batch,
        msPerStep: r.medianMs,
        runsMs: r.runsMs,
        frameStepsPerSec: batch * 1000 / r.medianMs,
        gflops,
        ratioToMatmul: gflops / matmulGflops,
        peakRssBytes: r.peakRssBytes,
      });
    }
    log(`MatMul ${MATMUL_SIZE}³ (after)`);
    const mmAfter = await runWorker(matmulTask);
    const mm = mmAfter.medianMs < mmBefore.medianMs ? mmAfter : mmBefore;
    matmulGflops = 2 * MATMUL_SIZE ** 3 / (mm.medianMs * 1e6);
    for (const b of unetBatches) b.ratioToMatmul = b.gflops / matmulGflops;
    const best = unetBatches.reduce((a, b) => (b.gflops > a.gflops ? b : a));

    log("VQ decode");
    const vq = await runWorker({
      kind: "vq",
      model: vqPath,
      channels: vqConfig.vqEmbedDim,
      size,
      ...common,
    });

    const steps = options.samplerSteps ?? (small ? 10 : 3);
    log(`sampler overhead (${steps} steps)`);
    const sampler = await runWorker({
      kind: "sampler",
      model: unetPath,
      loopModel: loopPath,
      channels,
      size,
      steps,
      scheduler: SCHEDULER_CONFIG,
      ...common,
    });
    const fusedCpu = {
      steps,
      stepwiseMsPerStep: sampler.fusedComparison?.stepwiseMsPerStep ?? NaN,
      fusedMsPerStep: sampler.fusedComparison?.fusedMsPerStep ?? NaN,
    };

    const gpu = await measureGpu({
      dir,
      runWorker,
      build: (precision) =>
        buildUnetGraph(unetConfig, randomWeights(unetShapes, 1), {
          attention: options.attention,
          precision,
        }),
      batches,
      runs,
      threads,
      channels,
      size,
      loopSteps: options.gpuLoopSteps ?? 20,
      log,
      signal,
    });

    const identity = await measureFaceEmbedding({ threads, runs, log });

    return {
      version: 1,
      date,
      mode: small ? "small" : "full",
      machine,
      loadAverageAfter: machineInfo().loadAverage,
      settings: { runs, threads, attention, latentSize: size },
      matmul: {
        size: MATMUL_SIZE,
        msMedian: mm.medianMs,
        gflops: matmulGflops,
        msMedianBefore: mmBefore.medianMs,
        msMedianAfter: mmAfter.medianMs,
      },
      unet: {
        parameters,
        flopsPerFrameStep,
        batches: unetBatches,
        best: { batch: best.batch, gflops: best.gflops, ratioToMatmul: best.ratioToMatmul },
      },
      frameStepsPerSec: Object.fromEntries(
        unetBatches.map((b) => [String(b.batch), b.frameStepsPerSec]),
      ),
      vqDecode: {
        msPerImage: vq.medianMs,
        flopsPerImage,
        gflops: flopsPerImage / (vq.medianMs * 1e6),
        peakRssBytes: vq.peakRssBytes,
      },
      samplerOverhead: {
        steps,
        msPerStep: sampler.medianMs + (sampler.overheadMsPerStep ?? 0),
        overheadMsPerStep: sampler.overheadMsPerStep ?? NaN,
        share: sampler.overheadShare ?? NaN,
      },
      fusedCpu,
      gpu,
      identity,
      peakRssBytes: Math.max(
        mmBefore.peakRssBytes,
        mmAfter.peakRssBytes,
        vq.peakRssBytes,
        sampler.peakRssBytes,
        ...unetBatches.map((b) => b.peakRssBytes),
      ),
    };
  } finally {
    await temp.remove();
  }
}

/** Writes `unet.onnx` (+ data) and the fused loop sharing its data file; returns the loop path. */
async function saveUnetAndLoop(dir: string, unet: OnnxGraph): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const saved = await saveModel(join(dir, "unet.onnx"), unet, { externalData: true });
  const loopPath = join(dir, "unet_loop.onnx");
  await saveModel(loopPath, buildDenoiseLoopGraph(unet), {
    sharedData: { file: "unet.onnx.data", layout: saved.layout },
  });
  return loopPath;
}

/**
 * UNet steps on CUDA through the fused loop, fp32 and fp16, per batch size; "not available"
 * with the reason when the CUDA provider is not installed or cannot start.
 */
async function measureGpu(o: {
  dir: string;
  runWorker: (task: WorkerTask) => Promise<WorkerResult>;
  build: (precision: "fp32" | "fp16") => OnnxGraph;
  batches: number[];
  runs: number;
  threads: number;
  channels: number;
  size: number;
  loopSteps: number;
  log: (message: string) => void;
  signal?: AbortSignal;
}): Promise<GpuResult> {
  const status = cudaProviderStatus();
  if (!status.available) return { available: false, reason: status.reason ?? "unknown" };
  const results: Record<"fp32" | "fp16", GpuBatchResult[]> = { fp32: [], fp16: [] };
  try {
    for (const precision of ["fp32", "fp16"] as const) {
      throwIfInterrupted(o.signal);
      o.log(`GPU: building the ${precision} fused loop`);
      const loopPath = await saveUnetAndLoop(join(o.dir, `gpu-${precision}`), o.build(precision));
      for (const batch of o.batches) {
        o.log(`GPU ${precision}: UNet batch ${batch}, ${o.loopSteps} steps per run`);
        const r = await o.runWorker({
          kind: "loop",
          model: loopPath,
          device: "cuda",
          batch,
          channels: o.channels,
          size: o.size,
          steps: o.loopSteps,
          runs: o.runs,
          threads: o.threads,
        });
        const msPerStep = r.medianMs / o.loopSteps;
        results[precision].push({
          batch,
          msPerStep,
          frameStepsPerSec: batch * 1000 / msPerStep,
          runsMs: r.runsMs,
        });
      }
    }
  } catch (e) {
    throwIfInterrupted(o.signal);
    const first = (e as Error).message.split("\n").find((l) => /error/i.test(l)) ??
      (e as Error).message.split("\n")[0];
    return { available: false, reason: `the CUDA provider is installed but failed: ${first}` };
  }
  return { available: true, loopSteps: o.loopSteps, ...results };
}

/** A one-node graph: input `a` [n, n] times a constant [n, n] (prepacked, like weights). */
function matmulGraph() {
  const n = MATMUL_SIZE;
  const b = new GraphBuilder({ name: "matmul" });
  const a = b.input("a", "float32", [n, n]);
  const w = b.initializer(
    "w",
    Float32Array.from({ length: n * n }, (_, i) => Math.cos(i * 0.13)),
    [n, n],
  );
  b.output(b.matmul(a, w), "y", "float32", [n, n]);
  return b.build();
}

/** Runs one measurement in a child process; `signal` kills the child. */
async function runWorkerProcess(task: WorkerTask, signal?: AbortSignal): Promise<WorkerResult> {
  let output;
  try {
    output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", WORKER, JSON.stringify(task)],
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
  } catch (e) {
    throwIfInterrupted(signal);
    throw e;
  }
  // A child killed by the signal is no failure of the measurement: the benchmark was stopped.
  throwIfInterrupted(signal);
  // Ctrl-C in a terminal reaches the whole process group: the child may die of it first.
  if (output.signal === "SIGINT" || output.signal === "SIGTERM") {
    throw new InterruptedError(output.signal);
  }
  const { code, stdout, stderr } = output;
  const out = new TextDecoder().decode(stdout).trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !out.startsWith("{")) {
    throw new Error(
      `benchmark worker (${task.kind}) failed with exit code ${code}:\n${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return JSON.parse(out) as WorkerResult;
}

async function readJson(url: URL): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(url));
}
