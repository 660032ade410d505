/**
 * `deno task serve [RESULTS_DIR]`: a local viewer of the runs in a results folder — the list,
 * each run's report (live while it runs) and the comparison of two runs. See {@link USAGE}.
 *
 * @module
 */

import {
  type CliIo,
  EXIT_OK,
  EXIT_USAGE,
  parseStrict,
  reportCliError,
  UsageError,
} from "../compare/cli_options.ts";
import { SIGNAL_EXIT_CODES, type StopSignal, watchSignals } from "../experiments/interrupt.ts";
import { DEFAULT_MAX_DEPTH } from "../serve/runs.ts";
import { LOOPBACK_HOSTS, serveResults } from "../serve/server.ts";

/** The port used unless `--port` says otherwise. */
export const DEFAULT_PORT = 8317;

/** Help text. */
export const USAGE = `Usage: deno task serve [RESULTS_DIR] [options]

Serves a viewer of the runs under RESULTS_DIR (default results/) on http://127.0.0.1:${DEFAULT_PORT}/:
the list of runs (updated every 2 s), each run's report (live while the run is going) and the
comparison of two runs frame by frame. Only the files the runs' manifests reference are served.

Options:
  --port <n>       port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host <addr>    interface to bind (default 127.0.0.1). Another interface makes the results
                   readable by anyone who can reach it.
  --depth <n>      how many folder levels below RESULTS_DIR to look for runs (default ${DEFAULT_MAX_DEPTH})
  -h, --help       show this help

Stops on Ctrl-C (exit 130) or SIGTERM (exit 143). Exit 2: bad usage (unknown flag, bad value,
RESULTS_DIR not a folder).`;

/** Whether a bind address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" ||
    /^127\.\d+\.\d+\.\d+$/.test(host);
}

function integerFlag(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
  fallback: number,
) {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

/** Options of {@link main} beyond its arguments. */
export interface ServeCliOptions {
  /** Stops the server when aborted (tests); signals stop it too. */
  signal?: AbortSignal;
}

/**
 * Runs the viewer until SIGINT or SIGTERM (or `options.signal`) and returns the exit code:
 * 0 when stopped by `options.signal`, 130 or 143 by a signal, 2 for bad usage.
 */
export async function main(
  args: readonly string[],
  io: CliIo = {},
  options: ServeCliOptions = {},
): Promise<number> {
  const out = io.out ?? console.log;
  const err = io.err ?? console.error;
  let stopWatching = () => {};
  try {
    const { values, positionals } = parseStrict(args, {
      port: { type: "string" },
      host: { type: "string" },
      depth: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE);
      return EXIT_OK;
    }
    if (positionals.length > 1) {
      throw new UsageError(
        `expected at most one RESULTS_DIR, got ${positionals.length}: ${positionals.join(" ")}`,
      );
    }
    const port = integerFlag("port", values.port as string | undefined, 0, 65535, DEFAULT_PORT);
    const maxDepth = integerFlag(
      "depth",
      values.depth as string | undefined,
      1,
      16,
      DEFAULT_MAX_DEPTH,
    );
    const host = (values.host as string | undefined) ?? "127.0.0.1";
    if (host === "") throw new UsageError(`--host: expected an address, got ""`);
    const root = positionals[0] ?? "results";
    const info = await Deno.stat(root).catch(() => null);
    if (!info?.isDirectory) throw new UsageError(`RESULTS_DIR ${root}: no such folder`);

    const loopback = isLoopback(host);
    if (!loopback) {
      err(`serve: warning: listening on ${host}: anyone who can reach it can read these results`);
    }
    const controller = new AbortController();
    options.signal?.addEventListener("abort", () => controller.abort(), { once: true });
    let stoppedBy: StopSignal | undefined;
    stopWatching = watchSignals((signal) => {
      if (stoppedBy) Deno.exit(SIGNAL_EXIT_CODES[signal]); // a second signal: quit at once
      stoppedBy = signal;
      err(`serve: ${signal}: stopping`);
      controller.abort();
    });
    const server = serveResults(root, {
      host,
      port,
      maxDepth,
      allowedHosts: allowedHostsFor(host),
      signal: controller.signal,
      onListen: ({ url }) => out(`serve: ${root} at ${url}`),
    });
    await server.finished;
    return stoppedBy ? SIGNAL_EXIT_CODES[stoppedBy] : EXIT_OK;
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      err(`error: --port: ${(e as Error).message} (another server has it; try --port 0)`);
      return EXIT_USAGE;
    }
    return reportCliError(e, err);
  } finally {
    stopWatching();
  }
}

/**
 * The `Host` names the viewer answers to when bound to `host`: loopback names and the address
 * itself on loopback (a page elsewhere cannot reach it through DNS rebinding), any name when bound
 * on purpose to another interface, which is reached under names we cannot know.
 */
export function allowedHostsFor(host: string): readonly string[] | "any" {
  return isLoopback(host) ? [...LOOPBACK_HOSTS, host] : "any";
}

if (import.meta.main) Deno.exit(await main(Deno.args));
