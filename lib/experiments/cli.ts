/**
 * Command-line overrides for experiment files: `deno run -A experiments/path1.ts --frames 3`
 * and `deno task run experiments/path1.ts --frames 3` both end up in {@link runCli}.
 *
 * Overrides are parsed strictly (unknown flags are errors) and then go through the same checks
 * as the spec itself, so `--steps 5` against a spec whose window ends at step 10 fails before
 * any work with the same kind of message a bad spec file gets.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { z } from "zod";
import { InterruptedError, type StopSignal, watchSignals } from "./interrupt.ts";
import { runExperiment, type RunOptions } from "./runner.ts";
import { parseShard, type Shard, SHARD_ALLOWED } from "./shard.ts";
import {
  describeValue,
  MAX_GRID_FRAMES,
  resolveExperiment,
  SPEC_FIELDS,
  SpecError,
  type SpecOverrides,
} from "./spec.ts";

/** Exit code for a bad spec, flag or flag value. */
export const EXIT_USAGE = 2;

/** Usage text shared by `lib/cli/run.ts` and direct runs of experiment files. */
export const USAGE = `Usage:
  deno task run <experiment.ts> [options]
  deno run -A <experiment.ts> [options]

Runs an experiment spec (a file with \`export default defineExperiment({...})\`) and writes
manifest.json, frames/<sha256>.png, contact_sheet.png, path_plot.png and video.gif/.mp4 into
the run folder. Frames already in that folder (same content key, intact PNG) are reused.

Options (each replaces the spec's value for this run and is checked like the spec):
  --model <id|dir|tiny>    hub id (CompVis/ldm-celebahq-256), converted model folder, or
                           "tiny" (the bundled test checkpoint)
  --frames <n>             number of frames; for specs that list frames: the first n
  --steps <n>              DDIM steps (1–1000; injection windows must fit)
  --preview                fast preview: 50 steps, injection windows scaled to the same
                           fraction of the trajectory (marked in the manifest: not the paper's)
  --preview-steps <n>      the same with n steps
  --batch <n>              frames per sampler call (speed/memory only; images are the same)
  --seed <n>               seed of the initial noise (0 … 2**64-1); for a multi-seed spec:
                           a single-seed run of that seed (one row of its grid)
  --seeds <a..b|a,b,…>     several seeds, each crossed with every frame (a multi-seed run
                           writing grid.png): 0..7 is seeds 0 to 7, 1,5,9 a list; at most
                           ${MAX_GRID_FRAMES} frames (seeds × frames); not with --seed
  --device <cpu|cuda|auto> where the networks run (default cpu)
  --threads <n>            CPU threads for onnxruntime (default: all cores)
  --out <dir>              write this run exactly into <dir> (default:
                           results/<name>/<UTC time>-<spec hash>/, reused for the same spec)
  --shard <i/n>            render only the frames whose index mod n is i, into --out (required);
                           join the n shard folders with \`deno task merge OUT SHARD_DIR...\`
  --wait                   if another run is using the folder, wait for it instead of failing
  --no-identity            no face-descriptor identity numbers for this run (same folder;
                           \`deno task analyze DIR\` adds them later)
  -h, --help               show this help and the experiment's settings

Running the same command again resumes: frames already in the folder are reused. Ctrl-C or
SIGTERM stops cleanly (the batch in flight is dropped, manifest status "interrupted").

Exit codes: 0 done, 1 runtime failure (damaged file, folder in use, disk full), 2 bad spec,
flag or flag value, 130 stopped by SIGINT (Ctrl-C), 143 stopped by SIGTERM.`;

/** A bad command line (unknown flag, missing value). The CLI prints it and exits with 2. */
export class UsageError extends Error {
  /** The offending flag or argument. */
  readonly flag: string;

  constructor(flag: string, message: string) {
    super(message);
    this.name = "UsageError";
    this.flag = flag;
  }
}

/** Runtime options that are not part of the spec. */
export interface CliRunOptions {
  /** `--device`. */
  device?: "cpu" | "cuda" | "auto";
  /** `--threads`. */
  threads?: number;
  /** `--out`. */
  out?: string;
  /** `--shard i/n`. */
  shard?: Shard;
  /** `--wait`. */
  wait?: boolean;
  /** `--no-identity` (false). */
  identity?: boolean;
}

/** A parsed command line. */
export interface ParsedCli {
  /** Whether `--help` was given. */
  help: boolean;
  /** Spec overrides, still unchecked (checked by `resolveExperiment`). */
  overrides: SpecOverrides;
  /** Checked runtime options. */
  run: CliRunOptions;
}

const OPTIONS = {
  model: { type: "string" },
  frames: { type: "string" },
  steps: { type: "string" },
  batch: { type: "string" },
  seed: { type: "string" },
  seeds: { type: "string" },
  device: { type: "string" },
  threads: { type: "string" },
  out: { type: "string" },
  shard: { type: "string" },
  wait: { type: "boolean" },
  "no-identity": { type: "boolean" },
  preview: { type: "boolean" },
  "preview-steps": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Integers become numbers; anything else stays a string for the checks to reject by name. */
function integerOrText(text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined;
  return /^[+-]?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
}

const runSchemas = {
  device: z.enum(["cpu", "cuda", "auto"]),
  threads: z.number().int().min(1).max(1024),
  out: z.string().trim().min(1),
};
const runAllowed = {
  device: '"cpu", "cuda" or "auto"',
  threads: "an integer from 1 to 1024",
  out: "a folder path",
};

/**
 * Parses experiment flags (see {@link USAGE}).
 *
 * @throws {UsageError} for an unknown flag, a flag without its value, or a positional argument.
 * @throws {SpecError} for a bad `--device`, `--threads`, `--out` or `--shard` value, or
 *   `--shard` without `--out` (spec overrides are checked later, together with the spec).
 */
export function parseCliArgs(args: readonly string[]): ParsedCli {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...args], options: OPTIONS, strict: true }));
  } catch (e) {
    const message = (e as Error).message;
    const flag = /'([^']+)'/.exec(message)?.[1] ?? "";
    throw new UsageError(flag, `${message.split("\n")[0]}\nRun with --help for the options.`);
  }
  const run: CliRunOptions = {};
  for (const key of ["device", "threads", "out"] as const) {
    const raw = values[key] as string | undefined;
    if (raw === undefined) continue;
    const value = key === "threads" ? integerOrText(raw) : raw;
    const result = runSchemas[key].safeParse(value);
    if (!result.success) throw new SpecError(key, value, runAllowed[key], `--${key}`);
    (run as Record<string, unknown>)[key] = result.data;
  }
  if (values.shard !== undefined) {
    const shard = parseShard(values.shard as string);
    if (!shard) throw new SpecError("shard", values.shard, SHARD_ALLOWED, "--shard");
    if (run.out === undefined) {
      throw new SpecError(
        "out",
        undefined,
        "a folder path: --shard needs --out (one folder per shard, e.g. --out results/x/shard-0)",
        "required by --shard",
      );
    }
    run.shard = shard;
  }
  if (values.wait === true) run.wait = true;
  if (values["no-identity"] === true) run.identity = false;
  return {
    help: values.help === true,
    overrides: {
      model: values.model,
      frames: integerOrText(values.frames as string | undefined),
      steps: integerOrText(values.steps as string | undefined),
      batch: integerOrText(values.batch as string | undefined),
      // Seeds go up to 2**64-1: keep the digits, the seed check converts them exactly.
      seed: values.seed,
      // Parsed with the spec (`a..b` or `a,b,c`), so its errors name the seeds field.
      ...(values.seeds !== undefined ? { seeds: values.seeds } : {}),
      ...(values["preview-steps"] !== undefined
        ? { preview: integerOrText(values["preview-steps"] as string) }
        : values.preview === true
        ? { preview: true }
        : {}),
    },
    run,
  };
}

/** Where {@link main} writes: injectable for tests. */
export interface CliIo {
  /** Normal output (the run folder). Default: stdout. */
  out?: (line: string) => void;
  /** Messages and errors. Default: stderr. */
  err?: (line: string) => void;
  /** Extra options for the runner (deps, results folder...). */
  runner?: Omit<
    RunOptions,
    "out" | "device" | "threads" | "shard" | "wait" | "signal" | "identity"
  >;
  /**
   * Stops the run when aborted. Default: SIGINT and SIGTERM stop it (a second signal quits at
   * once).
   */
  signal?: AbortSignal;
}

function summaryOf(spec: unknown): string {
  const s = spec as Record<string, unknown>;
  // Outputs are long and say nothing about what is computed.
  return SPEC_FIELDS.filter((k) => k !== "outputs")
    .filter((k) => s[k] !== undefined)
    .map((k) => {
      const v = s[k];
      if (k === "frames" && Array.isArray(v)) {
        return `  frames: ${v.length} listed, first ${describeValue(v[0])}`;
      }
      // A seed list may hold bigints, which JSON cannot show.
      if (k === "seeds") return `  seeds: ${describeValue(v)}`;
      return `  ${k}: ${typeof v === "bigint" ? `${v}n` : JSON.stringify(v)}`;
    })
    .join("\n");
}

/**
 * Runs an experiment from command-line arguments and returns the exit code (0 done, 1 runtime
 * failure, 2 bad spec/flag/value). Nothing is loaded or written before the spec and the flags
 * have passed every check.
 */
export async function main(
  spec: unknown,
  args: readonly string[],
  io: CliIo = {},
): Promise<number> {
  const out = io.out ?? console.log;
  const err = io.err ?? console.error;
  try {
    const cli = parseCliArgs(args);
    if (cli.help) {
      out(`${USAGE}\n\nThis experiment:\n${summaryOf(spec)}`);
      return 0;
    }
    const createPath = io.runner?.deps?.paths?.createPath;
    const resolved = resolveExperiment(spec, cli.overrides, createPath ? { createPath } : {});
    const { dir, manifest } = await withStopSignal(
      io.signal,
      err,
      (signal) => runExperiment(resolved, { ...io.runner, ...cli.run, signal }),
    );
    const s = manifest.summary!;
    err(
      `${resolved.name}${
        cli.run.shard ? ` shard ${cli.run.shard.index}/${cli.run.shard.count}` : ""
      }: ` +
        `${s.frames} frames (${s.computed} computed, ${s.reused} reused) in ${dir}`,
    );
    for (const warning of manifest.warnings) err(`warning: ${warning}`);
    out(dir);
    return 0;
  } catch (e) {
    return reportError(e, err);
  }
}

/**
 * Prints an error the way every CLI of this project does and returns its exit code: 2 for a bad
 * spec, flag or value; 130/143 for SIGINT/SIGTERM; 1 for anything else. No stack trace unless
 * `FLUIDITY_DEBUG` is set: messages name the file or field and what to do.
 */
export function reportError(e: unknown, err: (line: string) => void): number {
  if (e instanceof SpecError || e instanceof UsageError) {
    err(`error: ${e.message}`);
    return EXIT_USAGE;
  }
  if (e instanceof InterruptedError) {
    err(`stopped: ${e.message}`);
    return e.exitCode;
  }
  err(`error: ${e instanceof Error ? e.message : String(e)}`);
  if (Deno.env.get("FLUIDITY_DEBUG") && e instanceof Error) err(e.stack ?? "");
  return 1;
}

/**
 * Runs `work` with an abort signal: `signal` if given, else one that SIGINT/SIGTERM abort. A
 * second signal quits at once (the manifest on disk is consistent at any moment).
 */
export async function withStopSignal<T>(
  signal: AbortSignal | undefined,
  err: (line: string) => void,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (signal) return await work(signal);
  const controller = new AbortController();
  const stop = watchSignals((name: StopSignal) => {
    const error = new InterruptedError(name);
    if (controller.signal.aborted) {
      err(`${name} again: quitting now`);
      Deno.exit(error.exitCode);
    }
    err(`${name}: stopping (the batch in flight is dropped; send ${name} again to quit at once)`);
    controller.abort(error);
  });
  try {
    return await work(controller.signal);
  } finally {
    stop();
  }
}

/**
 * Entry point of an experiment file: `if (import.meta.main) await runCli(spec, Deno.args)`.
 * Exits the process with {@link main}'s code.
 */
export async function runCli(spec: unknown, args: readonly string[]): Promise<never> {
  Deno.exit(await main(spec, args));
}
