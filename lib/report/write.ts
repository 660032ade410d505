/**
 * Writing a run's `report.html` beside its manifest. The report is a view derived from
 * `manifest.json` alone: a run rewrites it after every batch and when it completes or stops,
 * `analyze` and `merge` after they write the manifest, and `deno task report` remakes it. It is
 * not listed in the manifest's `outputs`, so manifests (and the
 * snapshots made from them) stay exactly as they were, and a report never needs a frame
 * recomputed.
 *
 * @module
 */

import { join } from "node:path";
import { openRun } from "../compare/run_folder.ts";
import type { Manifest } from "../experiments/manifest.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { reportData } from "./data.ts";
import { reportHtml } from "./page.ts";

/** File name of the report inside a run folder. */
export const REPORT_FILE = "report.html";

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  /** Writes the file; default {@link writeFileAtomic} (temporary file + rename). */
  write?: (path: string, data: Uint8Array) => Promise<void>;
  /**
   * The manifest just written to `runDir` by the caller (the runner after a batch, `analyze`,
   * `merge`): the page is made from it instead of reading and checking the file again. `runDir`
   * must then be the run folder itself.
   */
  manifest?: Manifest;
}

const encoder = new TextEncoder();

/**
 * (Re)writes `report.html` in a run folder from its `manifest.json` (checked with the one
 * manifest schema, as `verify` and `compare` check it) and returns the report's path. Without
 * `options.manifest`, `runDir` may also be the manifest's path. No frame is read or written.
 *
 * @throws {RunOpenError} `not-found`, `no-manifest` or `invalid` (naming the file and the field)
 */
export async function writeReport(
  runDir: string,
  options: WriteReportOptions = {},
): Promise<string> {
  const { dir, manifest } = options.manifest
    ? { dir: runDir, manifest: options.manifest }
    : await openRun(runDir);
  const path = join(dir, REPORT_FILE);
  await (options.write ?? writeFileAtomic)(path, encoder.encode(reportHtml(reportData(manifest))));
  return path;
}

/**
 * {@link writeReport} for the commands that have just written a manifest (run, analyze, merge):
 * the report is a convenience, so a failure to write it never fails them; it is told through
 * `log` as a warning that says how to write the report later. Returns the path, or null.
 */
export async function writeReportOrWarn(
  runDir: string,
  log: (message: string) => void,
  options: WriteReportOptions = {},
): Promise<string | null> {
  try {
    return await writeReport(runDir, options);
  } catch (e) {
    log(
      `warning: ${join(runDir, REPORT_FILE)} was not written (${(e as Error).message}); the ` +
        `frames and manifest.json are not affected: run deno task report ${runDir} to write it`,
    );
    return null;
  }
}
