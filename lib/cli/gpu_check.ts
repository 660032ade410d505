/**
 * `deno task gpu-check [--device cuda|cpu] [--tiny-only|--full] [--batches 1,2,4,8,16]
 * [--bench-steps N] [--threads N] [--json]`: checks the CUDA path end to end (see
 * `lib/gpu/check.ts`) and prints a report whose last block is what a bug report should contain.
 *
 * Exit codes: 0 all checks passed; 1 a check failed (result outside tolerance, compute nodes on
 * the CPU, an error on the device); 2 bad command line; 3 CUDA provider not found or unable to
 * start; 130/143 stopped by SIGINT/SIGTERM (the temporary models are removed first).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { makeBenchTempDir } from "../bench/temp_models.ts";
import { formatGpuCheck, GPU_CHECK_EXIT, type GpuCheckOptions, runGpuCheck } from "../gpu/check.ts";
import { SIGNAL_EXIT_CODES, type StopSignal, watchSignals } from "../experiments/interrupt.ts";

const USAGE = `usage: deno task gpu-check [--device cuda|cpu] [--tiny-only|--full]
                           [--batches 1,2,4,8,16] [--bench-steps N] [--threads N] [--json]
  --device cpu   self-test: the same checks with the CPU as the device (no GPU needed)
  --tiny-only    skip the full-size random-weights UNet (default on cuda: tiny and full)
  --full         include the full-size UNet also with --device cpu (slow)
exit codes: 0 ok, 1 a check failed, 2 bad command line, 3 CUDA provider not found, 130/143 signal`;

/** What the command line asks for. */
export type GpuCheckArgs = Omit<GpuCheckOptions, "workDir" | "signal" | "log"> & {
  json: boolean;
  help: boolean;
};

/** Parses the command line; throws a RangeError naming the field, the value and what is allowed. */
export function parseGpuCheckArgs(args: string[]): GpuCheckArgs {
  const { values } = parseArgs({
    args,
    options: {
      device: { type: "string", default: "cuda" },
      "tiny-only": { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      batches: { type: "string" },
      "bench-steps": { type: "string" },
      threads: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.device !== "cuda" && values.device !== "cpu") {
    throw new RangeError(`--device: expected cuda or cpu, got ${JSON.stringify(values.device)}`);
  }
  if (values["tiny-only"] && values.full) {
    throw new RangeError("--tiny-only and --full exclude each other");
  }
  const integer = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`--${name}: expected a positive integer, got ${JSON.stringify(text)}`);
    }
    return n;
  };
  return {
    device: values.device,
    full: values.full ? true : values["tiny-only"] ? false : undefined,
    batches: values.batches?.split(",").map((s) => integer("batches", s.trim())),
    benchSteps: values["bench-steps"] === undefined
      ? undefined
      : integer("bench-steps", values["bench-steps"]),
    threads: values.threads === undefined ? undefined : integer("threads", values.threads),
    json: values.json,
    help: values.help,
  };
}

if (import.meta.main) {
  let args: GpuCheckArgs;
  try {
    args = parseGpuCheckArgs(Deno.args);
  } catch (e) {
    console.error(`gpu-check: ${(e as Error).message}\n${USAGE}`);
    Deno.exit(GPU_CHECK_EXIT.usage);
  }
  if (args.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const { json, help: _help, ...options } = args;
  // The benchmark's locked temporary folder: removed however this ends, and by the next bench or
  // gpu-check if this process is killed outright (its models are ~2.3 GB at full size).
  const temp = await makeBenchTempDir((m) => console.error(`gpu-check: ${m}`));
  const workDir = temp.path;
  const controller = new AbortController();
  let stoppedBy: StopSignal | undefined;
  const unwatch = watchSignals((signal) => {
    if (stoppedBy) Deno.exit(SIGNAL_EXIT_CODES[signal]); // a second signal: quit at once
    stoppedBy = signal;
    console.error(`gpu-check: ${signal}: stopping, removing ${workDir}`);
    controller.abort();
  });
  let code: number;
  try {
    const report = await runGpuCheck({ ...options, workDir, signal: controller.signal });
    console.log(json ? JSON.stringify(report, null, 2) : formatGpuCheck(report));
    code = report.exitCode;
  } catch (e) {
    if (stoppedBy) {
      code = SIGNAL_EXIT_CODES[stoppedBy];
    } else {
      console.error(`gpu-check: ${(e as Error).stack ?? e}`);
      code = GPU_CHECK_EXIT.failed;
    }
  } finally {
    unwatch();
    await temp.remove().catch(() => {});
  }
  Deno.exit(code);
}
