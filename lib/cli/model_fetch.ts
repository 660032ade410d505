/**
 * `deno task model:fetch [REPO] [--revision REV] [--out DIR] [--cache-dir DIR] [--no-convert]`
 *
 * Downloads a diffusers LDM pipeline (default `CompVis/ldm-celebahq-256`) from the Hugging Face
 * hub into the standard hub cache (shared with Python's huggingface_hub), then converts it into
 * `models/<name>/` for our ONNX runtime. Hub settings come from the usual variables:
 * `HF_ENDPOINT`, `HF_TOKEN`, `HF_HOME`, `HF_HUB_CACHE`, `HF_HUB_OFFLINE`.
 *
 * Exit codes: 0 done, 1 failure (network, access, checksum, conversion), 2 bad usage.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { denoEnv, type EnvLookup, validateRepoId } from "../hub/cache.ts";
import { convertDiffusers } from "../convert/convert.ts";
import { modelFolderName, modelsDir } from "../pipelines/resolve.ts";
import { hubDownload, type HubDownloadProgress } from "../hub/download.ts";
import { formatQuantity, Progress, type ProgressWriter } from "../hub/progress.ts";

/** The paper's model. */
export const DEFAULT_REPO = "CompVis/ldm-celebahq-256";

const USAGE = `Usage: deno task model:fetch [REPO] [options]

Downloads a diffusers LDM pipeline from the Hugging Face hub into the hub cache, then converts
it into models/<name>/.

Arguments:
  REPO                  hub repo id (default ${DEFAULT_REPO})

Options:
  -r, --revision REV    branch, tag or commit (default main)
  -o, --out DIR         converted model folder (default models/<repo name>)
      --cache-dir DIR   hub cache (default HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)
      --no-convert      download only; print the snapshot folder
  -h, --help            show this help

Environment: HF_ENDPOINT (hub URL), HF_TOKEN (gated/private repos), HF_HOME, HF_HUB_CACHE,
HF_HUB_OFFLINE=1 (use the cache only).
`;

/** Streams and environment of one CLI run; injectable for tests. */
export interface CliIo {
  /** Results (snapshot and model folders). */
  stdout: ProgressWriter;
  /** Messages, progress and errors. */
  stderr: ProgressWriter;
  /** Environment lookup. */
  env: EnvLookup;
}

const encoder = new TextEncoder();

/** Bad command line: reported with the usage text and exit code 2. */
class UsageError extends Error {}

interface FetchArgs {
  repo: string;
  revision: string;
  outDir: string;
  cacheDir: string | undefined;
  convert: boolean;
  help: boolean;
}

function parseCommandLine(args: string[]): FetchArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        revision: { type: "string", short: "r", default: "main" },
        out: { type: "string", short: "o" },
        "cache-dir": { type: "string" },
        "no-convert": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new UsageError(`expected at most one REPO, got ${positionals.length}: ${positionals}`);
  }
  const repo = positionals[0] ?? DEFAULT_REPO;
  try {
    validateRepoId(repo);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.revision === "") throw new UsageError("--revision is empty");
  return {
    repo,
    revision: values.revision,
    outDir: resolve(values.out ?? join(modelsDir(), modelFolderName(repo))),
    cacheDir: values["cache-dir"],
    convert: !values["no-convert"],
    help: values.help,
  };
}

/**
 * Runs the command with `args` (without the program name).
 *
 * @returns the exit code: 0 done, 1 failure, 2 bad usage
 */
export async function main(args: string[], io: Partial<CliIo> = {}): Promise<number> {
  const stdout = io.stdout ?? Deno.stdout;
  const stderr = io.stderr ?? Deno.stderr;
  const env = io.env ?? denoEnv;
  const say = (writer: ProgressWriter, text: string) =>
    writer.writeSync(encoder.encode(`${text}\n`));

  let options: FetchArgs;
  try {
    options = parseCommandLine(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    say(stderr, `model:fetch: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    say(stdout, USAGE);
    return 0;
  }

  let progress: Progress | undefined;
  const counts = { cached: 0, downloaded: 0, bytes: 0 };
  const onProgress = (event: HubDownloadProgress) => {
    if (event.status === "cached") {
      counts.cached++;
      return;
    }
    progress ??= new Progress({
      total: event.totalBytes,
      unit: "B",
      initial: event.doneBytes,
      writer: stderr,
    });
    progress.label = event.path;
    progress.update(event.doneBytes);
    if (event.status === "done") {
      counts.downloaded++;
      counts.bytes = event.totalBytes;
    }
  };

  try {
    say(stderr, `model:fetch: ${options.repo} (revision ${options.revision})`);
    const snapshot = await hubDownload({
      repo: options.repo,
      revision: options.revision,
      cacheDir: options.cacheDir,
      env,
      onProgress,
      onWarning: (message) => say(stderr, `warning: ${message}`),
    });
    if (progress !== undefined) {
      progress.label = "download";
      progress.finish();
    }
    say(
      stderr,
      `model:fetch: ${counts.downloaded} file(s) downloaded (${
        formatQuantity(counts.bytes, "B")
      }), ${counts.cached} already cached`,
    );
    say(stdout, `snapshot: ${snapshot}`);
    if (!options.convert) return 0;

    say(stderr, `model:fetch: converting into ${options.outDir}`);
    await convertDiffusers(snapshot, options.outDir, {
      sourceId: `${options.repo}@${basename(snapshot)}`,
      // A re-fetch of the same snapshot keeps an intact conversion instead of rebuilding it.
      reuse: true,
      log: (line) => say(stderr, `model:fetch: ${line}`),
    });
    say(stdout, `model: ${options.outDir}`);
    return 0;
  } catch (e) {
    progress?.stop();
    say(stderr, `model:fetch: error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
