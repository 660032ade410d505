/**
 * Command-line pieces shared by `compare`, `verify` and `snapshot`: exit codes, the tolerance
 * flags, and strict argument parsing with usage errors.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { RunOpenError } from "./run_folder.ts";
import { checkTolerance, DEFAULT_TOLERANCE, type Tolerance } from "./tolerance.ts";

/** Exit code: success (every frame identical or within tolerance; folder intact). */
export const EXIT_OK = 0;
/** Exit code: the check failed (differences, damaged files, corrupt manifest). */
export const EXIT_FAIL = 1;
/** Exit code: bad command line (unknown flag, bad value, missing folder). */
export const EXIT_USAGE = 2;

/** A bad command line; the CLIs print it and exit with {@link EXIT_USAGE}. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** parseArgs options of the tolerance flags. */
export const TOLERANCE_OPTIONS = {
  "max-diff": { type: "string" },
  "min-psnr": { type: "string" },
  "min-ssim": { type: "string" },
  "max-share": { type: "string" },
  "pixel-threshold": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** Help text of the tolerance flags. */
export const TOLERANCE_HELP =
  `Tolerance (a frame that is not identical passes when it meets all of them):
  --max-diff <0-255>         largest channel difference, 0–255 units (default ${DEFAULT_TOLERANCE.maxDiff})
  --min-psnr <dB>            lowest PSNR over R, G, B (default ${DEFAULT_TOLERANCE.minPsnr})
  --min-ssim <-1..1>         lowest SSIM of the luma (default ${DEFAULT_TOLERANCE.minSsim})
  --max-share <0-1>          largest share of differing pixels (default ${DEFAULT_TOLERANCE.maxShare})
  --pixel-threshold <0-1>    pixelmatch threshold for "differing pixel" (default ${DEFAULT_TOLERANCE.pixelThreshold})`;

const FLAG_TO_FIELD: Record<keyof typeof TOLERANCE_OPTIONS, keyof Tolerance> = {
  "max-diff": "maxDiff",
  "min-psnr": "minPsnr",
  "min-ssim": "minSsim",
  "max-share": "maxShare",
  "pixel-threshold": "pixelThreshold",
};

/**
 * Builds a tolerance from parsed flag values (defaults for absent flags).
 * @throws {UsageError} naming the flag for a non-number or out-of-range value
 */
export function toleranceFromFlags(values: Record<string, unknown>): Tolerance {
  const tolerance: Tolerance = { ...DEFAULT_TOLERANCE };
  for (const [flag, field] of Object.entries(FLAG_TO_FIELD) as [string, keyof Tolerance][]) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
    if (Number.isNaN(value)) throw new UsageError(`--${flag}: "${raw}" is not a number`);
    tolerance[field] = value;
  }
  try {
    return checkTolerance(tolerance);
  } catch (e) {
    const field = (e as Error).message.split(" ")[0];
    const flag = Object.entries(FLAG_TO_FIELD).find(([, f]) => f === field)?.[0] ?? field;
    throw new UsageError(`--${flag}: ${(e as Error).message.replace(/^\S+ /, "")}`);
  }
}

/**
 * `parseArgs` in strict mode with positionals, turning its errors into {@link UsageError}s.
 */
export function parseStrict<T extends ParseArgsConfig["options"]>(
  args: readonly string[],
  options: T,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
}

/** Where a CLI writes: injectable for tests. */
export interface CliIo {
  /** Results (report, JSON). Default: stdout. */
  out?: (text: string) => void;
  /** Errors and progress. Default: stderr. */
  err?: (text: string) => void;
}

/**
 * Prints an error of a run-folder command and returns its exit code: a usage problem or a
 * folder that is not there is the caller's mistake (2); an unreadable manifest or anything else
 * is a failure (1).
 */
export function reportCliError(e: unknown, err: (line: string) => void): number {
  if (e instanceof UsageError) {
    err(`error: ${e.message}\nRun with --help for the options.`);
    return EXIT_USAGE;
  }
  err(`error: ${e instanceof Error ? e.message : String(e)}`);
  if (e instanceof RunOpenError) return e.problem === "invalid" ? EXIT_FAIL : EXIT_USAGE;
  return EXIT_FAIL;
}
