/**
 * Downloads a diffusers pipeline (or chosen files) of a Hugging Face hub repo into the standard
 * hub cache and returns its snapshot folder, the way `huggingface_hub.snapshot_download` does:
 * cached blobs are reused, interrupted downloads resume from `blobs/{etag}.incomplete`, content
 * is checked against the announced size and sha256 before it becomes a blob, and blobs appear
 * in `blobs/` only complete (rename), then get linked from `snapshots/{commit}/`.
 *
 * @module
 */

import { dirname, join } from "node:path";
import {
  denoEnv,
  type EnvLookup,
  hubCacheDir,
  RepoCache,
  repoFolderName,
  statOrUndefined,
  validateRelativePath,
} from "./cache.ts";
import { etagKind, hashFile } from "./checksum.ts";
import { type FileMetadata, HubClient, RetryableError, sleep } from "./client.ts";
import { HubError } from "./errors.ts";
import { WEIGHTS_FILE_NAMES } from "../io/checkpoint.ts";

/** The hub used when neither the `endpoint` option nor `HF_ENDPOINT` says otherwise. */
export const DEFAULT_ENDPOINT = "https://huggingface.co";

/** Weight files of a diffusers model folder, in order of preference (the loader's own list). */
export const WEIGHT_FILES: readonly string[] = WEIGHTS_FILE_NAMES;

/** Progress of {@link hubDownload}, reported per file and while bytes arrive. */
export interface HubDownloadProgress {
  /** File inside the repo. */
  path: string;
  /** `cached`: already present, nothing to do; `downloading`: bytes arriving; `done`: stored. */
  status: "cached" | "downloading" | "done";
  /** Bytes of this file present locally (resumed bytes included). */
  fileBytes: number;
  /** Size of this file, when the hub announced it. */
  fileSize: number | undefined;
  /** Bytes present locally of all files this call has to download. */
  doneBytes: number;
  /** Total size of all files this call has to download (cached files excluded). */
  totalBytes: number;
}

/** Options of {@link hubDownload}. */
export interface HubDownloadOptions {
  /** Repo id, such as `CompVis/ldm-celebahq-256`. */
  repo: string;
  /** Branch, tag or commit hash; default `main`. */
  revision?: string;
  /**
   * Exact files to fetch. Default: the diffusers pipeline named by `model_index.json` (its
   * config files and, per model component, `diffusion_pytorch_model.safetensors` when the repo
   * has it, else `diffusion_pytorch_model.bin`).
   */
  files?: string[];
  /** Hub base URL; default `HF_ENDPOINT`, else `https://huggingface.co`. */
  endpoint?: string;
  /** Access token; default `HF_TOKEN` (or `HUGGING_FACE_HUB_TOKEN`). `""` sends none. */
  token?: string;
  /** Hub cache root; default {@link hubCacheDir} (`HF_HUB_CACHE`, `HF_HOME`…). */
  cacheDir?: string;
  /** Use only the cache, no network; default `HF_HUB_OFFLINE` set to `1`/`true`. */
  offline?: boolean;
  /** Called as files are checked and bytes arrive. */
  onProgress?: (progress: HubDownloadProgress) => void;
  /** Receives warnings, such as falling back to the cache when the hub is unreachable. */
  onWarning?: (message: string) => void;
  /** Consecutive failed attempts (without new bytes) tolerated per request; default 5. */
  maxRetries?: number;
  /** First retry delay in milliseconds, doubling each time; default 500. */
  retryBaseDelayMs?: number;
  /** Cancels the download. */
  signal?: AbortSignal;
  /** Environment lookup for the defaults above; default `Deno.env.get`. */
  env?: EnvLookup;
}

/** One file of the snapshot to fetch, with what the hub said about it. */
interface PlannedFile {
  meta: FileMetadata;
  cached: boolean;
  partialBytes: number;
}

/**
 * Downloads `files` (default: the diffusers pipeline) of `repo` at `revision` into the hub cache.
 *
 * @returns the snapshot folder, `{cacheDir}/models--{org}--{name}/snapshots/{commit}`
 * @throws {HubError} with a message naming repo, revision and file: `unauthorized` (set
 *   HF_TOKEN), `not_found`, `checksum` (the bad partial file is deleted), `network` (after the
 *   retries; the partial file is kept for the next run to resume), `protocol`, `offline`
 */
export async function hubDownload(options: HubDownloadOptions): Promise<string> {
  const env = options.env ?? denoEnv;
  const revision = options.revision ?? "main";
  const cache = new RepoCache(options.cacheDir ?? hubCacheDir(env), options.repo);
  cache.refPath(revision); // validates the revision before anything touches the network
  if (options.files !== undefined && options.files.length === 0) {
    throw new Error("hubDownload: `files` is empty; omit it to fetch the whole pipeline");
  }
  for (const file of options.files ?? []) validateRelativePath(file, "file path");
  const offline = options.offline ?? /^(1|true|yes|on)$/i.test(env("HF_HUB_OFFLINE") ?? "");
  if (offline) return await resolveFromCache(cache, revision, options.files);

  const token = options.token ?? (env("HF_TOKEN") || env("HUGGING_FACE_HUB_TOKEN"));
  const client = new HubClient({
    endpoint: options.endpoint ?? (env("HF_ENDPOINT") || DEFAULT_ENDPOINT),
    repo: options.repo,
    token: token || undefined,
    maxRetries: options.maxRetries ?? 5,
    retryBaseDelayMs: options.retryBaseDelayMs ?? 500,
    signal: options.signal,
  });
  const downloader = new Downloader(client, cache, options);

  // The first answer pins the commit; every later request names it, so all files come from
  // one commit even if the branch moves meanwhile.
  const firstPath = options.files?.[0] ?? "model_index.json";
  let first: FileMetadata;
  try {
    first = await client.head(revision, firstPath);
  } catch (e) {
    if (!(e instanceof HubError && e.kind === "network")) throw e;
    try {
      const snapshot = await resolveFromCache(cache, revision, options.files);
      options.onWarning?.(`${e.message}; using the cached snapshot ${snapshot}`);
      return snapshot;
    } catch {
      throw e;
    }
  }
  const commit = first.commit;
  await cache.writeRef(revision, commit);
  if (first.location === client.resolveUrl(revision, firstPath)) {
    // Fetch the content from the commit too: the branch may move between HEAD and GET.
    first = { ...first, location: client.resolveUrl(commit, firstPath) };
  }

  let metas: FileMetadata[];
  if (options.files !== undefined) {
    metas = [first];
    for (const path of options.files.slice(1)) metas.push(await downloader.head(commit, path));
  } else {
    // model_index.json names the components, so it has to be here before the rest is known.
    // It is a few hundred bytes: not worth a progress report of its own.
    await downloader.fetchAll([{ meta: first, ...(await downloader.localState(first)) }], false);
    const index = await readModelIndex(cache.snapshotPath(commit, "model_index.json"));
    metas = [];
    for (const component of pipelineComponents(index)) {
      if (component.kind === "scheduler") {
        metas.push(await downloader.head(commit, `${component.name}/scheduler_config.json`));
        continue;
      }
      metas.push(await downloader.head(commit, `${component.name}/config.json`));
      metas.push(await downloader.weights(commit, component.name));
    }
  }
  const planned: PlannedFile[] = [];
  for (const meta of metas) planned.push({ meta, ...(await downloader.localState(meta)) });
  await downloader.fetchAll(planned);
  return cache.snapshotDir(commit);
}

/** A component of a diffusers pipeline: a model (config + weights) or a scheduler (config). */
export interface PipelineComponent {
  /** Folder name, such as `unet`. */
  name: string;
  /** `scheduler` when the class name ends in `Scheduler`, else `model`. */
  kind: "model" | "scheduler";
  /** Class name from `model_index.json`, such as `UNet2DModel`. */
  className: string;
}

/**
 * Components of a diffusers `model_index.json`: every `name: [library, ClassName]` entry (keys
 * starting with `_` are metadata; `[null, null]` marks an absent optional component).
 *
 * @throws {Error} for a component name that is not a plain folder name
 */
export function pipelineComponents(index: Record<string, unknown>): PipelineComponent[] {
  const components: PipelineComponent[] = [];
  for (const [name, value] of Object.entries(index)) {
    if (name.startsWith("_") || !Array.isArray(value) || value.length !== 2) continue;
    const className = value[1];
    if (typeof className !== "string") continue;
    if (!/^[\w-][\w.-]*$/.test(name) || name === "..") {
      throw new Error(`model_index.json: component name "${name}" is not a plain folder name`);
    }
    components.push({
      name,
      kind: className.endsWith("Scheduler") ? "scheduler" : "model",
      className,
    });
  }
  return components;
}

async function readModelIndex(path: string): Promise<Record<string, unknown>> {
  let index: unknown;
  try {
    index = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof index !== "object" || index === null || Array.isArray(index)) {
    throw new Error(`${path}: expected a JSON object`);
  }
  return index as Record<string, unknown>;
}

/**
 * The snapshot of `revision` from the cache alone, when it holds every file needed.
 *
 * @throws {HubError} `offline`, naming what is missing
 */
async function resolveFromCache(
  cache: RepoCache,
  revision: string,
  files: string[] | undefined,
): Promise<string> {
  const commit = await cache.readRef(revision);
  const where = `${cache.repo}@${revision}`;
  if (commit === undefined) {
    throw new HubError(
      "offline",
      `offline and ${where} is not in the cache ${cache.cacheDir} (no refs/${revision}); ` +
        "run once with network access, or unset HF_HUB_OFFLINE",
    );
  }
  const missing: string[] = [];
  const need = async (path: string) => {
    if ((await cache.cachedFile(commit, path)) === undefined) missing.push(path);
  };
  if (files !== undefined) {
    for (const path of files) await need(path);
  } else {
    const indexPath = await cache.cachedFile(commit, "model_index.json");
    if (indexPath === undefined) {
      missing.push("model_index.json");
    } else {
      for (const component of pipelineComponents(await readModelIndex(indexPath))) {
        if (component.kind === "scheduler") {
          await need(`${component.name}/scheduler_config.json`);
          continue;
        }
        await need(`${component.name}/config.json`);
        const present = await Promise.all(
          WEIGHT_FILES.map((file) => cache.cachedFile(commit, `${component.name}/${file}`)),
        );
        if (present.every((path) => path === undefined)) {
          missing.push(`${component.name}/${WEIGHT_FILES.join(" or ")}`);
        }
      }
    }
  }
  if (missing.length > 0) {
    throw new HubError(
      "offline",
      `offline and the cached snapshot of ${where} (commit ${commit}) lacks: ${missing.join(", ")}`,
    );
  }
  return cache.snapshotDir(commit);
}

/** Fetches blobs of one repo into its cache. */
class Downloader {
  #doneBytes = 0;
  #totalBytes = 0;
  #reporting = true;

  constructor(
    readonly client: HubClient,
    readonly cache: RepoCache,
    readonly options: HubDownloadOptions,
  ) {}

  /** `HEAD` of `path` at the pinned commit. */
  async head(commit: string, path: string): Promise<FileMetadata> {
    const meta = await this.client.head(commit, path);
    if (meta.commit !== commit) {
      throw new HubError(
        "protocol",
        `asked for "${path}" at commit ${commit} and the hub answered for commit ${meta.commit}`,
      );
    }
    return meta;
  }

  /** The component's preferred weight file: the first of {@link WEIGHT_FILES} the repo has. */
  async weights(commit: string, component: string): Promise<FileMetadata> {
    for (const [i, file] of WEIGHT_FILES.entries()) {
      const path = `${component}/${file}`;
      try {
        return await this.head(commit, path);
      } catch (e) {
        if (!(e instanceof HubError && e.kind === "not_found") || i === WEIGHT_FILES.length - 1) {
          throw e;
        }
        await this.cache.markMissing(commit, path);
      }
    }
    throw new Error("unreachable: WEIGHT_FILES is not empty");
  }

  /** Whether the blob is complete already, and how much of it a previous run left. */
  async localState(meta: FileMetadata): Promise<{ cached: boolean; partialBytes: number }> {
    if (await this.cache.hasBlob(meta.etag)) return { cached: true, partialBytes: 0 };
    const partial = await statOrUndefined(this.cache.incompletePath(meta.etag));
    const bytes = partial?.size ?? 0;
    return {
      cached: false,
      partialBytes: meta.size === undefined ? bytes : Math.min(bytes, meta.size),
    };
  }

  /**
   * Downloads what is missing of `files` and links all of them into the snapshot.
   *
   * @param report whether to call `onProgress` for these files
   */
  async fetchAll(files: PlannedFile[], report = true): Promise<void> {
    this.#reporting = report;
    this.#doneBytes = 0;
    this.#totalBytes = 0;
    for (const file of files) {
      if (file.cached) continue;
      this.#totalBytes += file.meta.size ?? 0;
      this.#doneBytes += file.partialBytes;
    }
    for (const { meta, cached, partialBytes } of files) {
      if (cached) {
        this.#report(meta, "cached", meta.size ?? 0);
      } else {
        await this.#fetchBlob(meta, partialBytes);
      }
      await this.cache.linkSnapshotFile(meta.commit, meta.path, meta.etag);
    }
  }

  #report(meta: FileMetadata, status: HubDownloadProgress["status"], fileBytes: number): void {
    if (!this.#reporting) return;
    this.options.onProgress?.({
      path: meta.path,
      status,
      fileBytes,
      fileSize: meta.size,
      doneBytes: this.#doneBytes,
      totalBytes: this.#totalBytes,
    });
  }

  /**
   * Downloads one blob into `blobs/{etag}.incomplete` (resuming it), verifies it, and renames it
   * to `blobs/{etag}`. A lock file keeps two processes from writing the same blob at once.
   */
  async #fetchBlob(meta: FileMetadata, partialBytes: number): Promise<void> {
    const lockPath = join(
      this.cache.cacheDir,
      ".locks",
      repoFolderName(this.cache.repo),
      `${meta.etag}.lock`,
    );
    await Deno.mkdir(dirname(lockPath), { recursive: true });
    const lock = await Deno.open(lockPath, { create: true, write: true });
    try {
      await lock.lock(true);
      // Another process may have finished the blob while we waited for the lock.
      if (await this.cache.hasBlob(meta.etag)) {
        // Its partial bytes were counted when the plan was made.
        this.#doneBytes += (meta.size ?? 0) - partialBytes;
        this.#report(meta, "done", meta.size ?? 0);
        return;
      }
      await Deno.mkdir(dirname(this.cache.blobPath(meta.etag)), { recursive: true });
      await this.#transfer(meta);
      await this.#verify(meta);
      await Deno.rename(this.cache.incompletePath(meta.etag), this.cache.blobPath(meta.etag));
      this.#report(meta, "done", meta.size ?? 0);
    } finally {
      lock.close();
    }
  }

  /** Moves bytes into the `.incomplete` file until it holds the whole file, with retries. */
  async #transfer(meta: FileMetadata): Promise<void> {
    const incomplete = this.cache.incompletePath(meta.etag);
    const maxRetries = this.client.options.maxRetries;
    const commitLabel = `${this.cache.repo}@${meta.commit.slice(0, 12)}`;
    let failures = 0;
    let totalFailures = 0;
    let offset = (await statOrUndefined(incomplete))?.size ?? 0;
    // Progress counted the partial bytes already (capped at the size): keep that in step.
    let counted = meta.size === undefined ? offset : Math.min(offset, meta.size);
    const setOffset = (bytes: number) => {
      offset = bytes;
      this.#doneBytes += bytes - counted;
      counted = bytes;
    };
    if (meta.size !== undefined && offset > meta.size) {
      // Longer than the file can be: not a prefix of it.
      await Deno.truncate(incomplete, 0);
      setOffset(0);
    }
    while (meta.size === undefined || offset < meta.size) {
      const before = offset;
      try {
        await this.#attempt(meta, incomplete, offset, setOffset);
        if (meta.size === undefined || offset >= meta.size) return;
        throw new RetryableError(
          `connection closed after ${offset} of ${meta.size} bytes`,
        );
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        totalFailures++;
        failures = offset > before ? 1 : failures + 1;
        // Attempts that brought new bytes reset the count; the total cap keeps it bounded.
        if (failures > maxRetries || totalFailures > 10 * (maxRetries + 1)) {
          throw new HubError(
            "network",
            `download of "${meta.path}" (${commitLabel}) failed after ${totalFailures} ` +
              `attempts with ${offset} of ${meta.size ?? "?"} bytes received (kept in ` +
              `${incomplete} to resume next time): ${e.message}`,
            { cause: e },
          );
        }
        await sleep(this.client.backoffMs(failures), this.options.signal);
      }
    }
  }

  /** One GET from `offset` on, appending to the `.incomplete` file. */
  async #attempt(
    meta: FileMetadata,
    incomplete: string,
    offset: number,
    setOffset: (bytes: number) => void,
  ): Promise<void> {
    const response = await this.client.get(meta.location, offset, meta.path, meta.commit);
    if (response.status === 416) {
      await response.body?.cancel();
      // The server has nothing past `offset`: either the partial file is whole, or it is wrong.
      if (meta.size === undefined && offset > 0) return;
      await Deno.truncate(incomplete, 0);
      setOffset(0);
      throw new RetryableError(`range bytes=${offset}- refused (416); restarting from 0`);
    }
    if (response.status === 206) {
      const start = Number(/^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "")?.[1]);
      if (start !== offset) {
        await response.body?.cancel();
        await Deno.truncate(incomplete, 0);
        setOffset(0);
        throw new RetryableError(
          `asked for bytes ${offset}- and got Content-Range ` +
            `"${response.headers.get("content-range")}"; restarting from 0`,
        );
      }
    } else if (offset > 0) {
      // 200 to a range request: the server sends the whole file, so start the file over.
      await Deno.truncate(incomplete, 0);
      setOffset(0);
    }
    if (response.body === null) throw new RetryableError("answer without a body");
    const file = await Deno.open(incomplete, { create: true, write: true, append: true });
    try {
      let position = response.status === 206 ? offset : 0;
      this.#report(meta, "downloading", position);
      try {
        for await (const chunk of response.body) {
          for (let written = 0; written < chunk.length;) {
            written += await file.write(chunk.subarray(written));
          }
          position += chunk.length;
          setOffset(position);
          this.#report(meta, "downloading", position);
        }
      } catch (e) {
        if (this.options.signal?.aborted) throw e;
        throw new RetryableError(`connection lost: ${(e as Error).message}`, { cause: e });
      }
      await file.syncData();
    } finally {
      file.close();
    }
  }

  /**
   * Checks size and hash of the finished `.incomplete` file against the hub's announcement.
   *
   * @throws {HubError} `checksum`, after deleting the file
   */
  async #verify(meta: FileMetadata): Promise<void> {
    const incomplete = this.cache.incompletePath(meta.etag);
    const where = `"${meta.path}" of ${this.cache.repo}@${meta.commit}`;
    const size = (await Deno.stat(incomplete)).size;
    if (meta.size !== undefined && size !== meta.size) {
      await Deno.remove(incomplete);
      throw new HubError(
        "checksum",
        `size mismatch for ${where}: expected ${meta.size} bytes, got ${size}; deleted ${incomplete}`,
      );
    }
    const kind = etagKind(meta.etag);
    if (kind === "unknown") return;
    const actual = await hashFile(incomplete, kind);
    if (actual !== meta.etag) {
      await Deno.remove(incomplete);
      throw new HubError(
        "checksum",
        `checksum mismatch for ${where}: expected ${kind} ${meta.etag}, got ${actual}; ` +
          `deleted ${incomplete}`,
      );
    }
  }
}
