/**
 * `deno task merge OUT SHARD_DIR...`: joins the folders of a sharded run (`--shard i/n`) into one
 * run folder, as if a single process had computed it.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { reportError, UsageError, withStopSignal } from "../experiments/cli.ts";
import { mergeShards } from "../experiments/merge.ts";
import type { PictureDeps } from "../experiments/finish.ts";

/** Usage text of the merge command. */
export const MERGE_USAGE = `Usage:
  deno task merge <out> <shard-dir>... [--wait]

Joins the folders of one sharded run (each written with --shard i/n) into <out>: every shard
and frame is checked first (spec, model, content keys, SHA-256, image size), then the frames
are copied to <out>/frames/ and the manifest, contact sheet, path plot and videos are made
exactly as by a single-process run. A refused merge writes nothing into <out> (nor creates it).
<out> may be the shards' parent folder (e.g. results/x with shards results/x/shard-*).

Options:
  --wait       if another process is using <out>, wait for it instead of failing
  -h, --help   show this help

Exit codes: 0 merged, 1 shards refused (different spec or model, missing or damaged frames;
the message lists them), 2 bad command line, 130/143 stopped by SIGINT/SIGTERM.`;

/** Where {@link mergeMain} writes; injectable for tests. */
export interface MergeIo {
  /** Normal output (the merged folder). Default: stdout. */
  out?: (line: string) => void;
  /** Messages and errors. Default: stderr. */
  err?: (line: string) => void;
  /** Picture functions (tests). */
  deps?: Partial<PictureDeps>;
  /** Stops the merge when aborted; default: SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

/** Runs the merge command; returns the exit code. */
export async function mergeMain(args: readonly string[], io: MergeIo = {}): Promise<number> {
  const out = io.out ?? console.log;
  const err = io.err ?? console.error;
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...args],
        options: { wait: { type: "boolean" }, help: { type: "boolean", short: "h" } },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      const message = (e as Error).message.split("\n")[0];
      throw new UsageError(/'([^']+)'/.exec(message)?.[1] ?? "", `${message}\n\n${MERGE_USAGE}`);
    }
    if (parsed.values.help) {
      out(MERGE_USAGE);
      return 0;
    }
    const [target, ...shards] = parsed.positionals;
    if (target === undefined || shards.length === 0) {
      throw new UsageError(
        "",
        `merge needs an output folder and at least one shard folder\n\n${MERGE_USAGE}`,
      );
    }
    const { dir, manifest } = await withStopSignal(
      io.signal,
      err,
      (signal) =>
        mergeShards(target, shards, {
          deps: io.deps,
          log: err,
          wait: parsed.values.wait === true,
          signal,
        }),
    );
    err(
      `${manifest.spec.name}: merged ${manifest.frames.length} frames from ` +
        `${manifest.mergedFrom?.length ?? 0} shard(s) into ${dir}`,
    );
    for (const warning of manifest.warnings) err(`warning: ${warning}`);
    out(dir);
    return 0;
  } catch (e) {
    return reportError(e, err);
  }
}

if (import.meta.main) Deno.exit(await mergeMain(Deno.args));
