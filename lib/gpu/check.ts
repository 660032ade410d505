/**
 * `deno task gpu-check`: one command for someone with an NVIDIA GPU that says whether the CUDA
 * path works and produces what a bug report needs.
 *
 * Steps: the environment (versions, `nvidia-smi`), the provider (files, missing shared
 * libraries, a one-node session on CUDA), the static kernel check of freshly built graphs
 * (`cuda_kernels.ts`), then for the tiny test model and the full-size random-weights UNet, in
 * fp32 and fp16: onnxruntime's placement of every node (`placement.ts`), one UNet evaluation and
 * a fused-loop sampling on the device compared with the CPU's fp32 result (`compare.ts`), and
 * the fused loop's throughput at several batch sizes. Provider work runs in child processes
 * (`worker.ts`). With `device: "cpu"` the same code checks the CPU against itself (and its fp16
 * graphs against fp32): the self-test the tests use.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { arch, platform, release } from "node:os";
import { buildRandomModel, convertDiffusers } from "../convert/convert.ts";
import {
  buildDenoiseLoopGraph,
  buildUnetGraph,
  buildVqDecoderGraph,
  LDM_CELEBAHQ_UNET_CONFIG,
  LDM_CELEBAHQ_VQVAE_CONFIG,
  parseUnetConfig,
  parseVqModelConfig,
  type Precision,
  randomWeights,
  unetParameterShapes,
  vqDecoderParameterShapes,
} from "../models/mod.ts";
import { machineInfo } from "../bench/machine.ts";
import { Progress } from "../hub/progress.ts";
import {
  CUDA_INSTALL_COMMAND,
  type CudaProviderStatus,
  cudaProviderStatus,
} from "../pipelines/cuda.ts";
import { FUSED_LOOP_FILE } from "../pipelines/model.ts";
import type { OnnxGraph } from "../onnx/graph.ts";
import { checkCudaCoverage } from "./cuda_kernels.ts";
import { compareToReference, type Comparison, TOLERANCES } from "./compare.ts";
import { nodeSignatures } from "./node_types.ts";
import {
  type CpuPlacementSummary,
  ortErrors,
  parsePlacementLog,
  summarizeCpuPlacement,
} from "./placement.ts";
import { RESULT_PREFIX } from "./worker.ts";

/** Exit codes of `deno task gpu-check`. */
export const GPU_CHECK_EXIT: Readonly<{
  ok: 0;
  failed: 1;
  usage: 2;
  providerNotFound: 3;
}> = Object.freeze(
  {
    /** Everything ran and matched. */
    ok: 0,
    /** A check failed: a result outside tolerance, real work on the CPU, or an error on the device. */
    failed: 1,
    /** Bad command line. */
    usage: 2,
    /** The CUDA provider is not installed, or installed but cannot start (nothing ran on a GPU). */
    providerNotFound: 3,
  } as const,
);

const WORKER = fileURLToPath(new URL("./worker.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TINY_SOURCE = fileURLToPath(new URL("../testdata/ldm-reference/tiny-ldm/", import.meta.url));
const MODEL_FILES = [FUSED_LOOP_FILE, "unet.onnx", "vqvae_decoder.onnx"] as const;

/** Options of {@link runGpuCheck}. */
export interface GpuCheckOptions {
  /** The device under test: `cuda`, or `cpu` for the self-test. */
  device: "cuda" | "cpu";
  /** Also check the full-size random-weights UNet (default: on for cuda, off for cpu). */
  full?: boolean;
  /** Batch sizes of the throughput measurement (default 1,2,4,8,16 on cuda; 1,2 on cpu). */
  batches?: number[];
  /** Steps per timed fused-loop run (default 20 on cuda, 2 on cpu). */
  benchSteps?: number;
  /** Steps of the compared fused-loop sampling (default 4). */
  compareSteps?: number;
  /** CPU threads (default: all cores). */
  threads?: number;
  /** Folder for the built models; created and removed by the caller. */
  workDir: string;
  /** Stops the check (the running child is killed). */
  signal?: AbortSignal;
  /** Progress and log lines (default: stderr). */
  log?: (line: string) => void;
  /** Show a progress line with ETA (default true). */
  progress?: boolean;
  /** The provider status to act on (default: {@link cudaProviderStatus}); for tests. */
  providerStatus?: CudaProviderStatus;
}

/** The versions and hardware a report names. */
export interface Environment {
  /** Deno, onnxruntime-node and onnxruntime-common versions. */
  versions: Record<string, string>;
  /** `linux x64 6.1.0` style. */
  os: string;
  /** CPU model and core count. */
  cpu: string;
  /** From `nvidia-smi`, when present. */
  gpu?: { name: string; driver: string; memory: string; cuda?: string };
  /** Why there is no GPU information. */
  gpuNote?: string;
}

/** One model × precision: placement on the device and agreement with the CPU. */
export interface ModelCheck {
  /** `tiny` or `full`. */
  model: "tiny" | "full";
  /** Graph precision on the device (the reference is always fp32 on the CPU). */
  precision: Precision;
  /** Per model file: what onnxruntime placed where. */
  placement: Record<string, CpuPlacementSummary | { error: string }>;
  /** UNet ε, final latents and decoded images compared with the CPU's fp32 result. */
  comparisons: Record<string, Comparison>;
  /** The tolerance applied. */
  tolerance: { maxRel: number; meanRel: number };
  /** Device milliseconds: one UNet evaluation, the fused-loop run. */
  timings?: { unetMs: number; loopRunMs: number };
  /** A failure of the device run. */
  error?: string;
  /** Whether this entry passed. */
  ok: boolean;
}

/** Throughput of the fused loop on the device. */
export interface ThroughputCheck {
  /** `tiny` or `full`. */
  model: "tiny" | "full";
  /** Graph precision. */
  precision: Precision;
  /** Steps per timed run. */
  steps: number;
  /** Per batch size. */
  rows: { batch: number; runMs?: number; frameStepsPerSecond?: number; error?: string }[];
  /** The best batch, its frame-steps/s and the time of one frame at 1000 steps. */
  best?: { batch: number; frameStepsPerSecond: number; msPer1000StepFrame: number };
}

/** Everything gpu-check found. */
export interface GpuCheckReport {
  /** `ok`, `failed` or `provider-not-found`. */
  status: "ok" | "failed" | "provider-not-found";
  /** Process exit code for this status ({@link GPU_CHECK_EXIT}). */
  exitCode: number;
  /** The device under test. */
  device: "cuda" | "cpu";
  /** Versions and hardware. */
  environment: Environment;
  /** The CUDA provider: found or not, why, what to run. */
  provider: {
    found: boolean;
    reason?: string;
    installCommand: string;
    files: { path: string; present: boolean }[];
    /** Whether Deno ran onnxruntime-node's install script (see `CudaProviderStatus`). */
    installScript: CudaProviderStatus["installScript"];
    missingSharedLibraries?: string[];
    probe?: string;
  };
  /** Static check: distinct (op, type) of the fresh graphs and the nodes without CUDA kernel. */
  kernels: { signatures: number; uncovered: string[] };
  /** Per model × precision. */
  models: ModelCheck[];
  /** Per model × precision. */
  throughput: ThroughputCheck[];
  /** The failures, one line each. */
  problems: string[];
  /** Wall time in seconds. */
  seconds: number;
}

async function commandOutput(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/** Parses `nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader`. */
export function parseNvidiaSmi(csv: string, banner = ""): Environment["gpu"] | undefined {
  const line = csv.split("\n").map((l) => l.trim()).find((l) => l !== "");
  if (!line) return undefined;
  const [name, driver, memory] = line.split(",").map((s) => s.trim());
  const cuda = /CUDA Version:\s*([\d.]+)/.exec(banner)?.[1];
  return { name, driver: driver ?? "?", memory: memory ?? "?", ...(cuda ? { cuda } : {}) };
}

/** Versions, OS, CPU and (via `nvidia-smi`) GPU. */
export async function collectEnvironment(): Promise<Environment> {
  const machine = machineInfo();
  const env: Environment = {
    versions: {
      deno: Deno.version.deno,
      "onnxruntime-node": ort.env.versions.node ?? "?",
      "onnxruntime-common": ort.env.versions.common ?? "?",
    },
    os: `${platform()} ${arch()} ${release()}`,
    cpu: `${machine.cpu} (${machine.cores} cores)`,
  };
  const csv = await commandOutput("nvidia-smi", [
    "--query-gpu=name,driver_version,memory.total",
    "--format=csv,noheader",
  ]);
  if (csv === undefined) {
    env.gpuNote = "nvidia-smi not found or failed (no NVIDIA driver?)";
  } else {
    env.gpu = parseNvidiaSmi(csv, (await commandOutput("nvidia-smi", [])) ?? "");
  }
  return env;
}

/** Parses `ldd` output: the libraries it could not find. */
export function missingFromLdd(output: string): string[] {
  return output.split("\n")
    .map((line) => /^\s*(\S+)\s+=>\s+not found/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** What a worker child printed and returned. */
export interface WorkerOutput {
  /** The parsed `@@result` line. */
  result: { ok: boolean; error?: string; [key: string]: unknown };
  /** Everything the child wrote to stderr (onnxruntime's native log among it). */
  stderr: string;
}

/** Runs `worker.ts <mode> <args>` in a child Deno and returns its result and stderr. */
export async function runWorker(
  mode: string,
  args: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<WorkerOutput> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--config",
      join(ROOT, "deno.json"),
      WORKER,
      mode,
      JSON.stringify(args),
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  const decoder = new TextDecoder();
  const stdout = decoder.decode(output.stdout);
  const stderr = decoder.decode(output.stderr);
  const line = stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
  if (!line) {
    const tail = stderr.trim().split("\n").slice(-3).join(" / ");
    return {
      result: {
        ok: false,
        error: `worker ${mode} exited with code ${output.code} without a result${
          tail ? `: ${tail}` : ""
        }`,
      },
      stderr,
    };
  }
  return { result: JSON.parse(line.slice(RESULT_PREFIX.length)), stderr };
}

async function readF32(path: string): Promise<Float32Array> {
  const bytes = await Deno.readFile(path);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** The three graphs of the tiny model as the converter builds them, fp32 and fp16. */
async function tinyGraphs(): Promise<{ precision: Precision; file: string; graph: OnnxGraph }[]> {
  const read = async (path: string) => JSON.parse(await Deno.readTextFile(join(TINY_SOURCE, path)));
  const unetConfig = parseUnetConfig(await read("unet/config.json"));
  const vqConfig = parseVqModelConfig(await read("vqvae/config.json"));
  const out: { precision: Precision; file: string; graph: OnnxGraph }[] = [];
  for (const precision of ["fp32", "fp16"] as const) {
    const unet = buildUnetGraph(unetConfig, randomWeights(unetParameterShapes(unetConfig), 1), {
      precision,
    });
    const vq = buildVqDecoderGraph(vqConfig, randomWeights(vqDecoderParameterShapes(vqConfig), 2), {
      precision,
    });
    out.push(
      { precision, file: "unet.onnx", graph: unet },
      { precision, file: FUSED_LOOP_FILE, graph: buildDenoiseLoopGraph(unet) },
      { precision, file: "vqvae_decoder.onnx", graph: vq },
    );
  }
  return out;
}

/** Distinct (op, type) signatures and uncovered nodes of the tiny graphs, fp32 and fp16. */
export async function staticKernelCheck(): Promise<GpuCheckReport["kernels"]> {
  const signatures = new Set<string>();
  const uncovered: string[] = [];
  for (const { precision, file, graph } of await tinyGraphs()) {
    const coverage = checkCudaCoverage(graph);
    for (const op of coverage.ops) signatures.add(`${op.domain}:${op.op}:${op.inputType}`);
    for (const u of coverage.uncovered) {
      uncovered.push(`${precision} ${file} ${u.node.path}: ${u.reason}`);
    }
  }
  return { signatures: signatures.size, uncovered };
}

/**
 * Node name → whether the node reads int64 (shape data), from the tiny graphs in both precisions
 * (our builder's names; onnxruntime keeps them for nodes it does not fuse).
 */
async function int64InputTable(): Promise<(name: string) => boolean | undefined> {
  const table = new Map<string, boolean>();
  for (const graph of await tinyGraphs()) {
    for (const sig of nodeSignatures(graph.graph)) {
      table.set(sig.path.split(">").pop()!, sig.inputType === "int64");
    }
  }
  return (name) => table.get(name);
}

/**
 * What is wrong with a session's placement on the device under test: on CUDA, any node on the CPU
 * that is not a shape computation, any node the CUDA provider has no kernel for, or the whole
 * session on the CPU. The CPU self-test has nothing to judge.
 */
export function placementProblem(
  summary: CpuPlacementSummary,
  device: "cuda" | "cpu",
): string | undefined {
  if (device !== "cuda") return undefined;
  if (summary.onlyProvider === "CPUExecutionProvider") {
    return `all ${summary.total} nodes on the CPU`;
  }
  const parts: string[] = [];
  if (summary.cpuCompute.length > 0) {
    const some = summary.cpuCompute.slice(0, 5).join(", ");
    parts.push(
      `${summary.cpuCompute.length} compute nodes on the CPU (${some}${
        summary.cpuCompute.length > 5 ? ", …" : ""
      })`,
    );
  }
  if (summary.noCudaKernel.length > 0) {
    parts.push(`no CUDA kernel for ${summary.noCudaKernel.join(", ")}`);
  }
  return parts.length ? parts.join("; ") : undefined;
}

/** Runs the whole check; never throws for a device failure (it is reported). */
export async function runGpuCheck(options: GpuCheckOptions): Promise<GpuCheckReport> {
  const started = performance.now();
  const device = options.device;
  const log = options.log ?? ((line: string) => console.error(line));
  const signal = options.signal;
  const full = options.full ?? device === "cuda";
  const threads = options.threads ?? navigator.hardwareConcurrency;
  const batches = options.batches ?? (device === "cuda" ? [1, 2, 4, 8, 16] : [1, 2]);
  const benchSteps = options.benchSteps ?? (device === "cuda" ? 20 : 2);
  const compareSteps = options.compareSteps ?? 4;
  const problems: string[] = [];

  const environment = await collectEnvironment();
  const status = options.providerStatus ?? cudaProviderStatus();
  const provider: GpuCheckReport["provider"] = {
    found: status.available,
    reason: status.reason,
    installCommand: CUDA_INSTALL_COMMAND,
    files: status.files,
    installScript: status.installScript,
  };
  const kernels = await staticKernelCheck();
  for (const u of kernels.uncovered) problems.push(`no CUDA kernel: ${u}`);
  const report = (
    models: ModelCheck[],
    throughput: ThroughputCheck[],
    forced?: GpuCheckReport["status"],
  ): GpuCheckReport => {
    const state = forced ?? (problems.length === 0 ? "ok" : "failed");
    return {
      status: state,
      exitCode: state === "ok"
        ? GPU_CHECK_EXIT.ok
        : state === "failed"
        ? GPU_CHECK_EXIT.failed
        : GPU_CHECK_EXIT.providerNotFound,
      device,
      environment,
      provider,
      kernels,
      models,
      throughput,
      problems,
      seconds: (performance.now() - started) / 1000,
    };
  };

  if (device === "cuda") {
    if (!status.available) {
      problems.push(`CUDA provider not found: ${status.reason}`);
      return report([], [], "provider-not-found");
    }
    const ldd = await commandOutput("ldd", [status.libraryPath]);
    if (ldd !== undefined) {
      provider.missingSharedLibraries = missingFromLdd(ldd);
    }
    const probe = await runWorker("probe", { device: "cuda" }, signal);
    if (!probe.result.ok) {
      provider.found = false;
      const missing = provider.missingSharedLibraries?.length
        ? ` (shared libraries not found: ${
          provider.missingSharedLibraries.join(", ")
        }; CUDA 12 and cuDNN 9 must be on LD_LIBRARY_PATH)`
        : "";
      const native = ortErrors(probe.stderr);
      provider.probe = [probe.result.error, ...native].join("\n");
      provider.reason = `the CUDA provider is installed but could not start: ${
        (probe.result.error ?? "").split("\n")[0]
      }${native.length ? ` (onnxruntime: ${native.join("; ")})` : ""}${missing}`;
      problems.push(`CUDA provider not found: ${provider.reason}`);
      return report([], [], "provider-not-found");
    }
    const placed = parsePlacementLog(probe.stderr).at(-1)?.providers ?? [];
    if (!placed.some((p) => p.provider === "CUDAExecutionProvider")) {
      provider.found = false;
      provider.reason =
        "the CUDA provider was registered but onnxruntime placed the probe's node " +
        `on ${placed.map((p) => p.provider).join(", ") || "no provider it reported"}`;
      problems.push(`CUDA provider not found: ${provider.reason}`);
      return report([], [], "provider-not-found");
    }
    provider.probe = "a one-node session ran on CUDAExecutionProvider";
  }

  // Plan: weights are rough relative costs, for the progress line's ETA.
  const variants: { model: "tiny" | "full"; precision: Precision }[] = [];
  for (const model of full ? ["tiny", "full"] as const : ["tiny"] as const) {
    for (const precision of ["fp32", "fp16"] as const) variants.push({ model, precision });
  }
  const weight = (model: "tiny" | "full", task: "build" | "reference" | "device" | "bench") =>
    model === "tiny" ? 1 : { build: 8, reference: 25, device: 6, bench: 10 }[task];
  const total = variants.reduce(
    (sum, v) =>
      sum + weight(v.model, "build") + weight(v.model, "device") + weight(v.model, "bench"),
    0,
  ) + (full ? weight("full", "reference") : 0) + weight("tiny", "reference");
  const progress = options.progress === false
    ? undefined
    : new Progress({ total, label: "gpu-check", unit: "", rateWindowMs: 3_600_000 });
  const say = (line: string) => {
    signal?.throwIfAborted();
    if (progress) progress.log(line);
    else log(line);
  };
  const advance = (model: "tiny" | "full", task: Parameters<typeof weight>[1]) => {
    signal?.throwIfAborted();
    progress?.increment(weight(model, task));
  };

  const build = async (model: "tiny" | "full", precision: Precision) => {
    const dir = join(options.workDir, `${model}-${precision}`);
    say(`gpu-check: building the ${model} model (${precision}) in ${dir}`);
    if (model === "tiny") {
      await convertDiffusers(TINY_SOURCE, dir, { precision, sourceId: "fluidity tiny test model" });
    } else {
      await buildRandomModel(dir, {
        seed: 7,
        unetConfig: { ...LDM_CELEBAHQ_UNET_CONFIG },
        vqvaeConfig: { ...LDM_CELEBAHQ_VQVAE_CONFIG },
        schedulerConfig: JSON.parse(
          await Deno.readTextFile(join(TINY_SOURCE, "scheduler/scheduler_config.json")),
        ),
        precision,
      });
    }
    advance(model, "build");
    return dir;
  };

  const runArgs = (dir: string, on: "cpu" | "cuda", out: string) => ({
    dir,
    device: on,
    threads,
    batch: 2,
    steps: compareSteps,
    seed: 1234,
    out,
  });
  const int64Inputs = await int64InputTable();
  const models: ModelCheck[] = [];
  const throughput: ThroughputCheck[] = [];
  try {
    for (const model of full ? ["tiny", "full"] as const : ["tiny"] as const) {
      const fp32Dir = await build(model, "fp32");
      say(`gpu-check: ${model} model, fp32 reference on the CPU`);
      const ref = await runWorker(
        "run",
        runArgs(fp32Dir, "cpu", join(options.workDir, `${model}-ref`)),
        signal,
      );
      advance(model, "reference");
      if (!ref.result.ok) {
        problems.push(`${model}: the CPU reference failed: ${ref.result.error}`);
        continue;
      }
      const refFiles = ref.result.files as Record<string, string>;
      for (const precision of ["fp32", "fp16"] as const) {
        const dir = precision === "fp32" ? fp32Dir : await build(model, precision);
        const entry: ModelCheck = {
          model,
          precision,
          placement: {},
          comparisons: {},
          tolerance: TOLERANCES[precision],
          ok: true,
        };
        models.push(entry);
        say(`gpu-check: ${model} ${precision} on ${device}: placement, UNet, fused loop`);
        for (const file of MODEL_FILES) {
          const placed = await runWorker(
            "placement",
            { path: join(dir, file), device, threads: 1 },
            signal,
          );
          const sessions = parsePlacementLog(placed.stderr);
          if (!placed.result.ok || sessions.length === 0) {
            entry.placement[file] = {
              error: placed.result.error ?? "onnxruntime printed no node placement",
            };
            problems.push(
              `${model} ${precision} ${file}: placement not read: ${
                (entry.placement[file] as { error: string }).error
              }`,
            );
            entry.ok = false;
            continue;
          }
          const summary = summarizeCpuPlacement(sessions[sessions.length - 1], int64Inputs);
          entry.placement[file] = summary;
          const problem = placementProblem(summary, device);
          if (problem) {
            entry.ok = false;
            problems.push(`${model} ${precision} ${file}: ${problem}`);
          }
        }
        const run = await runWorker(
          "run",
          runArgs(dir, device, join(options.workDir, `${model}-${precision}-${device}`)),
          signal,
        );
        if (!run.result.ok) {
          entry.ok = false;
          entry.error = run.result.error;
          problems.push(`${model} ${precision} on ${device}: ${run.result.error}`);
        } else {
          const files = run.result.files as Record<string, string>;
          const timings = run.result.timings as { runMs: number };
          entry.timings = { unetMs: run.result.unetMs as number, loopRunMs: timings.runMs };
          for (const key of ["eps", "latents", "images"]) {
            const c = compareToReference(
              await readF32(files[key]),
              await readF32(refFiles[key]),
              TOLERANCES[precision],
            );
            entry.comparisons[key] = c;
            if (!c.ok) {
              entry.ok = false;
              problems.push(`${model} ${precision} ${key} on ${device} vs CPU fp32: ${c.reason}`);
            }
          }
        }
        advance(model, "device");
        say(
          `gpu-check: ${model} ${precision} on ${device}: throughput at batch ${
            batches.join(", ")
          }`,
        );
        const timed = await runWorker("bench", {
          dir,
          device,
          threads,
          batches,
          steps: benchSteps,
          seed: 1,
        }, signal);
        advance(model, "bench");
        const rows = (timed.result.rows ?? []) as ThroughputCheck["rows"];
        if (!timed.result.ok) {
          problems.push(`${model} ${precision} throughput: ${timed.result.error}`);
        }
        const measured = rows.filter((r) => r.frameStepsPerSecond !== undefined);
        const best = measured.sort((a, b) => b.frameStepsPerSecond! - a.frameStepsPerSecond!)[0];
        throughput.push({
          model,
          precision,
          steps: benchSteps,
          rows: rows.sort((a, b) => a.batch - b.batch),
          best: best && {
            batch: best.batch,
            frameStepsPerSecond: best.frameStepsPerSecond!,
            msPer1000StepFrame: 1e6 / best.frameStepsPerSecond!,
          },
        });
      }
    }
  } catch (e) {
    progress?.stop();
    throw e;
  }
  progress?.finish();
  return report(models, throughput);
}

function num(x: number | undefined, digits = 3): string {
  if (x === undefined || !Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-2 && x !== 0)
    ? x.toExponential(2)
    : x.toPrecision(digits);
}

/** The human-readable report, ending with the block a bug report should contain. */
export function formatGpuCheck(report: GpuCheckReport): string {
  const lines: string[] = [];
  const e = report.environment;
  if (report.device === "cuda") {
    lines.push(
      report.provider.found
        ? `CUDA provider: found (${report.provider.probe ?? ""})`
        : `CUDA provider not found: ${report.provider.reason}\n` +
          `  install (Linux x64): ${report.provider.installCommand}\n` +
          "  self-test this checker without a GPU: deno task gpu-check --device cpu",
    );
  } else {
    lines.push("self-test on the CPU (device cpu): the checker's own code, no GPU involved");
  }
  lines.push(
    `kernels: ${report.kernels.signatures} distinct (op, input type) in the fp32/fp16 graphs, ` +
      (report.kernels.uncovered.length === 0
        ? "all registered by the CUDA provider"
        : `${report.kernels.uncovered.length} without CUDA kernel`),
  );
  for (const m of report.models) {
    lines.push(
      `${m.model} ${m.precision}: ${m.ok ? "ok" : "FAILED"}${m.error ? ` (${m.error})` : ""}`,
    );
    for (const [file, p] of Object.entries(m.placement)) {
      lines.push(
        "error" in p
          ? `  ${file}: placement not read: ${p.error}`
          : p.onlyProvider
          ? `  ${file}: all ${p.total} nodes on ${p.onlyProvider}`
          : `  ${file}: ${p.total} nodes, ${p.cpu} on the CPU (${p.cpuShapeOnly} shape ` +
            `computations, ${p.cpuCompute.length} compute), ${p.memcpy} host↔device copies`,
      );
    }
    for (const [key, c] of Object.entries(m.comparisons)) {
      lines.push(
        `  ${key} vs CPU fp32: max|Δ| ${num(c.maxRel)}·max|ref| (≤ ${num(m.tolerance.maxRel)}), ` +
          `mean ${num(c.meanRel)} (≤ ${num(m.tolerance.meanRel)})${
            c.ok ? "" : `  FAILED: ${c.reason}`
          }`,
      );
    }
  }
  for (const t of report.throughput) {
    const rows = t.rows.map((r) =>
      r.error ? `b${r.batch}: ${r.error}` : `b${r.batch} ${num(r.frameStepsPerSecond)}`
    ).join(", ");
    lines.push(
      `throughput ${t.model} ${t.precision} (frame-steps/s, ${t.steps} steps per run): ${rows}`,
    );
    if (t.best) {
      lines.push(
        `  best: batch ${t.best.batch}, ${num(t.best.frameStepsPerSecond)} frame-steps/s = ` +
          `${num(t.best.msPer1000StepFrame)} ms per 1000-step frame (${
            num(t.best.msPer1000StepFrame / 60000)
          } min)`,
      );
    }
  }
  if (report.problems.length && report.status !== "provider-not-found") {
    lines.push("problems:", ...report.problems.map((p) => `  - ${p}`));
  }
  lines.push(
    "",
    "----- fluidity gpu-check report (paste this into a bug report) -----",
    `status: ${report.status} (exit ${report.exitCode}), device ${report.device}, ${
      num(report.seconds)
    } s`,
    `versions: ${Object.entries(e.versions).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `os: ${e.os}; cpu: ${e.cpu}`,
    e.gpu
      ? `gpu: ${e.gpu.name}, driver ${e.gpu.driver}, ${e.gpu.memory}${
        e.gpu.cuda ? `, CUDA ${e.gpu.cuda}` : ""
      }`
      : `gpu: ${e.gpuNote}`,
    `provider: ${report.provider.found ? "found" : `not found: ${report.provider.reason}`} ` +
      `(install script: ${report.provider.installScript})`,
    ...report.provider.files.map((f) => `  ${f.present ? "present" : "missing"} ${f.path}`),
    ...(report.provider.missingSharedLibraries?.length
      ? [`  shared libraries not found: ${report.provider.missingSharedLibraries.join(", ")}`]
      : []),
    `kernels: ${report.kernels.signatures} signatures, ${report.kernels.uncovered.length} uncovered`,
    ...report.models.map((m) => {
      const cpu = Object.values(m.placement).map((p) => "error" in p ? "?" : `${p.cpu}/${p.total}`)
        .join(" ");
      const cmp = Object.entries(m.comparisons).map(([k, c]) => `${k} ${num(c.maxRel)}`).join(" ");
      return `${m.model} ${m.precision}: ${
        m.ok ? "ok" : "FAILED"
      }; cpu nodes (loop unet vq) ${cpu}; max rel ${cmp}`;
    }),
    ...report.throughput.map((t) =>
      `throughput ${t.model} ${t.precision}: ${
        t.best
          ? `best batch ${t.best.batch} ${num(t.best.frameStepsPerSecond)} frame-steps/s, ${
            num(t.best.msPer1000StepFrame)
          } ms/1000-step frame`
          : "none"
      }`
    ),
    ...report.problems.map((p) => `problem: ${p}`),
    "----- end of report -----",
  );
  return lines.join("\n");
}
