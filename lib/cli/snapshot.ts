/**
 * `deno task snapshot`: re-runs the bundled experiments on the tiny model and checks them
 * against `snapshots/`; `--update` rewrites the references. See {@link USAGE}.
 *
 * @module
 */

import {
  type CliIo,
  EXIT_FAIL,
  EXIT_OK,
  EXIT_USAGE,
  parseStrict,
  TOLERANCE_HELP,
  TOLERANCE_OPTIONS,
  toleranceFromFlags,
  UsageError,
} from "../compare/cli_options.ts";
import {
  checkSnapshots,
  formatSnapshotResults,
  formatSnapshotUpdates,
  snapshotFailed,
  type SnapshotRenderer,
  SNAPSHOTS_DIR,
  updateSnapshots,
} from "../compare/snapshot.ts";

/** Help text. */
export const USAGE = `Usage: deno task snapshot [name...] [options]

Re-runs each experiment listed in snapshots/snapshots.json (on the tiny model, a few frames and
steps) and compares it with its reference in snapshots/<name>/. For every failing frame a
picture "reference | new | diff" is written to <work dir>/diff/<name>/<index>.png and its path
printed. Names restrict the check to those experiments.

${TOLERANCE_HELP}

Other options:
  --update                 make the new runs the references; prints which frames changed,
                           were added or removed (identical references are left untouched)
  --work-dir <dir>         where new runs and diff pictures go (default: a new temporary
                           folder, removed after a passing check)
  --keep                   keep the work folder even when everything passes
  --snapshots <dir>        snapshots folder (default snapshots/ in the repository)
  --json                   print the results as JSON
  -h, --help               show this help

Exit codes: 0 all snapshots pass (or were updated), 1 a frame differs, is missing, a reference
is missing or a run failed, 2 bad usage.`;

/** Extra knobs for tests. */
export interface SnapshotCliIo extends CliIo {
  /** Replaces the in-process runner. */
  render?: SnapshotRenderer;
}

/** Runs the snapshot CLI and returns its exit code. */
export async function main(args: readonly string[], io: SnapshotCliIo = {}): Promise<number> {
  const out = io.out ?? console.log;
  const err = io.err ?? console.error;
  let workDir: string | undefined;
  let removeWorkDir = false;
  try {
    const { values, positionals } = parseStrict(args, {
      ...TOLERANCE_OPTIONS,
      update: { type: "boolean" },
      "work-dir": { type: "string" },
      keep: { type: "boolean" },
      snapshots: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      out(USAGE);
      return EXIT_OK;
    }
    const tolerance = toleranceFromFlags(values);
    const snapshotsDir = (values.snapshots as string | undefined) ?? SNAPSHOTS_DIR;
    if (!(await Deno.stat(snapshotsDir).then((i) => i.isDirectory, () => false))) {
      throw new UsageError(`--snapshots: no such folder: ${snapshotsDir}`);
    }
    workDir = values["work-dir"] as string | undefined;
    if (workDir === undefined) {
      workDir = await Deno.makeTempDir({ prefix: "fluidity_snapshot_" });
      removeWorkDir = !values.keep;
    }
    const options = {
      snapshotsDir,
      names: positionals,
      tolerance,
      workDir,
      render: io.render,
      log: err,
    };
    let selected;
    try {
      if (values.update) {
        const updates = await updateSnapshots(options);
        out(values.json ? JSON.stringify(updates, null, 2) : formatSnapshotUpdates(updates));
        const failed = updates.some((u) => u.action === "error");
        if (failed) removeWorkDir = false;
        return failed ? EXIT_FAIL : EXIT_OK;
      }
      selected = await checkSnapshots(options);
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(e.message);
      throw e;
    }
    out(values.json ? JSON.stringify(selected, null, 2) : formatSnapshotResults(selected));
    const failed = selected.some(snapshotFailed);
    if (failed) {
      removeWorkDir = false;
      err(`snapshot check FAILED; new runs and diff pictures are in ${workDir}`);
    } else if (!removeWorkDir) {
      err(`new runs are in ${workDir}`);
    }
    return failed ? EXIT_FAIL : EXIT_OK;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`error: ${e.message}\nRun with --help for the options.`);
      return EXIT_USAGE;
    }
    err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_FAIL;
  } finally {
    if (removeWorkDir && workDir) await Deno.remove(workDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
