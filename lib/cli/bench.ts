/**
 * `deno task bench [--json FILE] [--small] [--batches 1,2,4,8] [--runs N] [--threads N]
 * [--attention fused|matmul]`: measures UNet step latency and throughput, achieved GFLOP/s
 * against a MatMul of the same run, VQ decode time, sampler overhead and peak memory with
 * random weights; prints a table and optionally writes the figures as JSON.
 *
 * Ctrl-C (SIGINT) or SIGTERM stops it: the measuring child is killed, the temporary models
 * (~1.2 GB at full size) are removed, and the exit code is 130 or 143. Exit codes otherwise: 0
 * done, 1 failure, 2 bad usage.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type BenchOptions, runBench } from "../bench/bench.ts";
import { formatBench } from "../bench/report.ts";
import { dirname } from "node:path";
import { benchRecordPath } from "../experiments/batch.ts";
import { writeTextFileAtomic } from "../util/atomic.ts";
import { InterruptedError, type StopSignal, watchSignals } from "../experiments/interrupt.ts";

const USAGE = `usage: deno task bench [--json FILE] [--small] [--batches 1,2,4,8] [--runs N]
                       [--threads N] [--attention fused|matmul]`;

/** Parses the command line into {@link BenchOptions} plus the JSON path. */
export function parseBenchArgs(args: string[]): BenchOptions & { json?: string; help: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "string" },
      small: { type: "boolean", default: false },
      batches: { type: "string" },
      runs: { type: "string" },
      threads: { type: "string" },
      attention: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  const integer = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`--${name}: expected a positive integer, got ${JSON.stringify(text)}`);
    }
    return n;
  };
  if (values.attention !== undefined && !["fused", "matmul"].includes(values.attention)) {
    throw new RangeError(`--attention: expected fused or matmul, got "${values.attention}"`);
  }
  return {
    help: values.help,
    json: values.json,
    small: values.small,
    batches: values.batches?.split(",").map((s) => integer("batches", s.trim())),
    runs: values.runs === undefined ? undefined : integer("runs", values.runs),
    threads: values.threads === undefined ? undefined : integer("threads", values.threads),
    attention: values.attention as BenchOptions["attention"],
  };
}

if (import.meta.main) {
  let options;
  try {
    options = parseBenchArgs(Deno.args);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const log = (m: string) => console.error(`bench: ${m}`);
  const controller = new AbortController();
  const stopWatching = watchSignals((name: StopSignal) => {
    const error = new InterruptedError(name);
    if (controller.signal.aborted) {
      log(`${name} again: quitting now (the temporary folder named above may be left behind)`);
      Deno.exit(error.exitCode);
    }
    log(`${name}: stopping and removing the temporary models (send ${name} again to quit at once)`);
    controller.abort(error);
  });
  let result;
  try {
    result = await runBench({ ...options, log, signal: controller.signal });
  } catch (e) {
    if (e instanceof InterruptedError) {
      log(`stopped: ${e.message}; nothing was recorded`);
      Deno.exit(e.exitCode);
    }
    log(`error: ${(e as Error).message}`);
    if (Deno.env.get("FLUIDITY_DEBUG")) console.error((e as Error).stack);
    Deno.exit(1);
  } finally {
    stopWatching();
  }
  console.log(formatBench(result));
  if (options.json) {
    await writeTextFileAtomic(options.json, JSON.stringify(result, null, 2) + "\n");
    console.error(`bench: wrote ${options.json}`);
  }
  if (!options.small && !options.batches && !options.attention) {
    // Runs with `batch: "auto"` take their batch size from the last full measurement of every
    // batch size with the graphs as converted (a partial bench says nothing about the best).
    const record = benchRecordPath();
    await Deno.mkdir(dirname(record), { recursive: true });
    await writeTextFileAtomic(record, JSON.stringify(result, null, 2) + "\n");
    console.error(`bench: best CPU batch ${result.unet.best.batch} recorded in ${record}`);
  }
}
