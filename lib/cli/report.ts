/**
 * `deno task report RUN_DIR...`: (re)writes each run folder's `report.html` from its manifest.
 * See {@link REPORT_USAGE}.
 *
 * @module
 */

import {
  type CliIo,
  EXIT_OK,
  parseStrict,
  reportCliError,
  UsageError,
} from "../compare/cli_options.ts";
import { writeReport } from "../report/write.ts";

/** Help text. */
export const REPORT_USAGE = `Usage: deno task report <RUN_DIR>... [options]

Writes report.html into each run folder (or beside each manifest.json given): one page that
opens from the file system without network, with the spec and model, the video and pictures,
every frame with its colour, t, hash and numbers, charts along the path and a scrubber. It is
made from manifest.json alone: no frame is computed, read or changed. Runs, analyze and merge
write it themselves; this command remakes it (e.g. for a run made before reports existed).

Options:
  -h, --help    show this help

Prints the path of each report written. Exit codes: 0 every report written, 1 a manifest is
damaged or invalid (the message names the file and the field) or a report could not be
written, 2 bad usage (no folder given, unknown flag, no such folder, folder without
manifest.json). With several folders each is tried; the exit code is the worst.`;

/** Runs the report CLI and returns its exit code. */
export async function reportMain(args: readonly string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? console.log;
  const err = io.err ?? console.error;
  let positionals: string[];
  try {
    const parsed = parseStrict(args, { help: { type: "boolean", short: "h" } });
    if (parsed.values.help) {
      out(REPORT_USAGE);
      return EXIT_OK;
    }
    if (parsed.positionals.length === 0) {
      throw new UsageError("expected at least one run folder (RUN_DIR), got none");
    }
    positionals = parsed.positionals;
  } catch (e) {
    return reportCliError(e, err);
  }
  let code = EXIT_OK;
  for (const dir of positionals) {
    try {
      out(await writeReport(dir));
    } catch (e) {
      code = Math.max(code, reportCliError(e, err));
    }
  }
  return code;
}

if (import.meta.main) Deno.exit(await reportMain(Deno.args));
