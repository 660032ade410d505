/**
 * `deno task verify DIR`: checks a run folder against its manifest. See {@link USAGE}.
 *
 * @module
 */

import {
  type CliIo,
  EXIT_FAIL,
  EXIT_OK,
  parseStrict,
  reportCliError,
  UsageError,
} from "../compare/cli_options.ts";
import { formatVerifyReport, verifyRun, type VerifyVerdict } from "../compare/verify.ts";

/** Exit code: every listed frame is intact but the run did not finish (run it again). */
export const EXIT_INCOMPLETE = 3;

/** Exit code of each verdict. */
export const VERDICT_EXIT_CODES: Record<VerifyVerdict, number> = {
  ok: EXIT_OK,
  fail: EXIT_FAIL,
  incomplete: EXIT_INCOMPLETE,
};

/** Help text. */
export const USAGE = `Usage: deno task verify <DIR> [options]

Checks a run folder (or its manifest.json): every frame the manifest lists must exist, have
its recorded SHA-256 and decode as a PNG of the recorded size, and the run must have finished
(manifest status "complete"). Warnings only: PNGs in frames/ the manifest does not list (left
by an earlier run into the folder, e.g. of more frames) and missing pictures (contact sheet,
path plot, videos: a rerun in the folder remakes them from the frames).

Options:
  --json        print the report as JSON
  -h, --help    show this help

Exit codes: 0 finished and intact (warnings allowed), 1 missing or corrupt frames, or a
damaged or invalid manifest, 2 bad usage (unknown flag, no such folder, folder without
manifest.json), 3 incomplete: the run is running, interrupted or failed and the frames it
lists so far are intact (run the same command again to finish it).`;

/** Runs the verify CLI and returns its exit code. */
export async function main(args: readonly string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? console.log;
  const err = io.err ?? console.error;
  try {
    const { values, positionals } = parseStrict(args, {
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE);
      return EXIT_OK;
    }
    if (positionals.length !== 1) {
      throw new UsageError(`expected one run folder, got ${positionals.length}`);
    }
    const report = await verifyRun(positionals[0]);
    out(values.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
    return VERDICT_EXIT_CODES[report.verdict];
  } catch (e) {
    return reportCliError(e, err);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
