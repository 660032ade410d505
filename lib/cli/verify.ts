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
import { formatVerifyReport, verifyRun } from "../compare/verify.ts";

/** Help text. */
export const USAGE = `Usage: deno task verify <DIR> [options]

Checks a run folder (or its manifest.json): every frame the manifest lists must exist, have
its recorded SHA-256 and decode as a PNG of the recorded size; frames/ must hold no PNG the
manifest does not list. Pictures the manifest names (contact sheet, path plot, videos) that
are missing are reported as warnings only: a rerun in the folder remakes them from the frames.

Options:
  --json        print the report as JSON
  -h, --help    show this help

Exit codes: 0 intact, 1 missing, corrupt or extra files, or a corrupt/truncated manifest,
2 bad usage (unknown flag, no such folder, folder without manifest.json).`;

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
    return report.ok ? EXIT_OK : EXIT_FAIL;
  } catch (e) {
    return reportCliError(e, err);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
