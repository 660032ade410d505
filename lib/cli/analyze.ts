/**
 * `deno task analyze RUN_DIR`: adds the identity numbers (face descriptors, distances to the
 * reference face and between neighbours, `summary.identity`, `identity_plot.png`, the numbers on a
 * multi-seed run's `grid.png`) to an existing
 * run folder without recomputing any frame image. Resumable; see `lib/identity/analyze.ts`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { reportError, UsageError, withStopSignal } from "../experiments/cli.ts";
import { SpecError } from "../experiments/spec.ts";
import { type AnalyzeOptions, analyzeRun } from "../identity/analyze.ts";
import { formatShares } from "../identity/analysis.ts";
import type { IdentitySummary } from "../identity/records.ts";

/** Usage text of the analyze command. */
export const ANALYZE_USAGE = `Usage:
  deno task analyze <run-dir> [options]

Adds identity numbers to a run folder: the face descriptor (face-api's recognition net) of every
frame PNG, its distance to the reference face (the same seed with no injection) and to the
previous frame, summary.identity in manifest.json and identity_plot.png; a multi-seed run's
grid.png is drawn again with each face's distance and the seed / colour / interaction shares,
unless it shows these numbers already. No frame image is recomputed; the reference face is
rendered (with the run's model) only if the folder lacks it.
Interrupted, it continues where it stopped when run again; descriptors already in the manifest
are kept when the embedder is the same.

Options:
  --device <cpu|cuda|auto>  where the networks run (default cpu)
  --threads <n>             CPU threads for onnxruntime (default: all cores)
  --wait                    if a run is using the folder, wait for it instead of failing
  --json                    print summary.identity as JSON on stdout
  -h, --help                show this help

Exit codes: 0 done, 1 runtime failure (damaged frame, folder in use, wrong model), 2 bad
command line or not a run folder, 130/143 stopped by SIGINT/SIGTERM.`;

/** Where {@link analyzeMain} writes; injectable for tests. */
export interface AnalyzeIo {
  /** Normal output. Default: stdout. */
  out?: (line: string) => void;
  /** Messages and errors. Default: stderr. */
  err?: (line: string) => void;
  /** Extra options (deps, progress writer) for tests. */
  analyze?: Pick<AnalyzeOptions, "deps" | "progressWriter" | "now">;
  /** Stops when aborted; default: SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

function fmt(v: number | null | undefined, digits = 3): string {
  return typeof v === "number" ? v.toFixed(digits) : "–";
}

/** The summary in a few lines, as `analyze` and the runner's callers print it. */
export function describeIdentitySummary(s: IdentitySummary): string[] {
  const lines = [
    `identity path length ${fmt(s.pathLength)} (mean step ${fmt(s.meanStep)}); largest jump ` +
    (s.largestJump ? `${fmt(s.largestJump.value)} at frame ${s.largestJump.index}` : "–"),
    `distance to the reference: mean ${fmt(s.meanToReference)}, largest ` +
    (s.farthestFromReference
      ? `${fmt(s.farthestFromReference.value)} at frame ${s.farthestFromReference.index}`
      : "–") +
    `; ${s.framesAboveThreshold} of ${s.frames} frame(s) at or above ${s.threshold}, ` +
    `${s.crossings.length} crossing(s)` +
    (s.crossings.length
      ? ` (${s.crossings.slice(0, 8).map((c) => `${c.direction} at ${c.index}`).join(", ")}` +
        `${s.crossings.length > 8 ? ", …" : ""})`
      : ""),
    `colour distance vs identity distance over ${s.colorCorrelation.n} same-seed pair(s): ` +
    `Pearson ${fmt(s.colorCorrelation.pearson)}, Spearman ${fmt(s.colorCorrelation.spearman)}`,
  ];
  const d = s.decomposition;
  lines.push(
    `seeds × colours${"share" in d ? ` (${d.seeds} × ${d.colors})` : ""}: ` +
      formatShares(d).text,
  );
  return lines;
}

const OPTIONS = {
  device: { type: "string" },
  threads: { type: "string" },
  wait: { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs the analyze command; returns the exit code. */
export async function analyzeMain(args: readonly string[], io: AnalyzeIo = {}): Promise<number> {
  const out = io.out ?? console.log;
  const err = io.err ?? console.error;
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...args],
        options: OPTIONS,
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      const message = (e as Error).message.split("\n")[0];
      throw new UsageError(/'([^']+)'/.exec(message)?.[1] ?? "", `${message}\n\n${ANALYZE_USAGE}`);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      out(ANALYZE_USAGE);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(
        "",
        `analyze takes one run folder, got ${positionals.length}\n\n${ANALYZE_USAGE}`,
      );
    }
    const device = values.device;
    if (device !== undefined && !["cpu", "cuda", "auto"].includes(device)) {
      throw new SpecError("device", device, '"cpu", "cuda" or "auto"', "--device");
    }
    let threads: number | undefined;
    if (values.threads !== undefined) {
      threads = /^\d+$/.test(values.threads) ? Number(values.threads) : NaN;
      if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
        throw new SpecError("threads", values.threads, "an integer from 1 to 1024", "--threads");
      }
    }
    const dir = positionals[0];
    const result = await withStopSignal(io.signal, err, (signal) =>
      analyzeRun(dir, {
        ...io.analyze,
        device: device as "cpu" | "cuda" | "auto" | undefined,
        threads,
        wait: values.wait === true,
        signal,
        log: err,
      }));
    const summary = result.manifest.summary?.identity;
    err(
      `analyze: ${result.computed} descriptor(s) computed, ${result.kept} kept, ` +
        `${result.rendered} reference face(s) rendered; manifest.json` +
        (result.manifest.outputs.identityPlot ? `, ${result.manifest.outputs.identityPlot}` : "") +
        // Only a grid written now: one that shows these numbers already is left as it is.
        (result.gridRedrawn ? `, ${result.manifest.outputs.grid}` : "") +
        ` updated in ${dir}`,
    );
    if (values.json) out(JSON.stringify(summary ?? null, null, 2));
    else if (summary) { for (const line of describeIdentitySummary(summary)) out(line); }
    return 0;
  } catch (e) {
    return reportError(e, err);
  }
}

if (import.meta.main) Deno.exit(await analyzeMain(Deno.args));
