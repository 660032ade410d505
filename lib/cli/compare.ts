/**
 * `deno task compare A B`: compares two runs of an experiment frame by frame and lists what
 * differs in their spec, model and runtime. See {@link USAGE}.
 *
 * @module
 */

import {
  type CliIo,
  EXIT_FAIL,
  EXIT_OK,
  parseStrict,
  reportCliError,
  TOLERANCE_HELP,
  TOLERANCE_OPTIONS,
  toleranceFromFlags,
  UsageError,
} from "../compare/cli_options.ts";
import { compareRuns } from "../compare/manifest_diff.ts";
import { formatComparison } from "../compare/report.ts";
import { openRun } from "../compare/run_folder.ts";

/** Help text. */
export const USAGE = `Usage: deno task compare <A> <B> [options]

Compares run B against run A. A and B are run folders or their manifest.json files. Frames
are matched by index and compared pixel by pixel (frame files are re-hashed, not trusted);
differences in the recorded spec, model and runtime are listed after the table.

${TOLERANCE_HELP}

Other options:
  --json                     print the comparison as JSON instead of the table
  -h, --help                 show this help

Exit codes: 0 every frame identical or within tolerance, 1 a frame differs, is missing on one
side or is unreadable (or a manifest is corrupt), 2 bad usage (unknown flag, bad value, missing
folder or manifest).`;

/** Runs the compare CLI and returns its exit code. */
export async function main(args: readonly string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? console.log;
  const err = io.err ?? console.error;
  try {
    const { values, positionals } = parseStrict(args, {
      ...TOLERANCE_OPTIONS,
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE);
      return EXIT_OK;
    }
    if (positionals.length !== 2) {
      throw new UsageError(
        `expected two runs (A and B), got ${positionals.length}: ${
          positionals.join(" ") || "none"
        }`,
      );
    }
    const tolerance = toleranceFromFlags(values);
    const [a, b] = await Promise.all(positionals.map((p) => openRun(p)));
    const result = await compareRuns(a, b, { tolerance });
    out(values.json ? JSON.stringify(result, null, 2) : formatComparison(result));
    return result.ok ? EXIT_OK : EXIT_FAIL;
  } catch (e) {
    return reportCliError(e, err);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
