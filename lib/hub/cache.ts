/**
 * The Hugging Face hub cache layout, exactly as `huggingface_hub` writes it, so that files a
 * Python/diffusers user already downloaded are reused here and the other way round:
 *
 * ```text
 * {cache}/models--{org}--{name}/
 *   blobs/{etag}                 file contents, named by sha256 (LFS) or git blob sha1
 *   blobs/{etag}.incomplete      a download in progress (resumed from its length)
 *   refs/{revision}              the commit hash the revision pointed to
 *   snapshots/{commit}/{path}    relative symlink to ../../blobs/{etag} (one more ../ per folder)
 *   .no_exist/{commit}/{path}    empty marker: the hub answered 404 for this file
 * ```
 *
 * The cache root is `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`
 * (`$XDG_CACHE_HOME/huggingface/hub` when that is set), as `huggingface_hub` resolves it.
 *
 * @module
 */

import { dirname, join, relative, resolve, sep } from "node:path";
import { tempPathBeside, writeTextFileAtomic } from "../util/atomic.ts";

/** Reads an environment variable; injectable so callers and tests need not touch `Deno.env`. */
export type EnvLookup = (name: string) => string | undefined;

/** `Deno.env.get`, or `undefined` for every name when env access is not permitted. */
export const denoEnv: EnvLookup = (name) => {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
};

/** Expands a leading `~` to the user's home folder, as Python's `os.path.expanduser` does. */
function expandHome(path: string, env: EnvLookup): string {
  if (path !== "~" && !path.startsWith("~/") && !path.startsWith("~\\")) return path;
  const home = env("HOME") ?? env("USERPROFILE");
  if (home === undefined) {
    throw new Error(`cannot expand "${path}": neither HOME nor USERPROFILE is set`);
  }
  return join(home, path.slice(1));
}

/**
 * The hub cache root: `HF_HUB_CACHE` (or the legacy `HUGGINGFACE_HUB_CACHE`), else
 * `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
 */
export function hubCacheDir(env: EnvLookup = denoEnv): string {
  const explicit = env("HF_HUB_CACHE") || env("HUGGINGFACE_HUB_CACHE");
  if (explicit) return resolve(expandHome(explicit, env));
  const hfHome = env("HF_HOME") ||
    join(env("XDG_CACHE_HOME") || expandHome("~/.cache", env), "huggingface");
  return resolve(expandHome(hfHome, env), "hub");
}

/** Repo ids as the hub accepts them: optional `org/`, then a name; no `--` or `..`. */
const REPO_ID = /^(?:[\w.-]+\/)?[\w.-]+$/;

/**
 * Checks a repo id (`CompVis/ldm-celebahq-256`) with the rules of `huggingface_hub`'s
 * `validate_repo_id`, which also keeps it safe to use inside a folder name.
 *
 * @throws {Error} naming the id and the rule it breaks
 */
export function validateRepoId(repo: string): void {
  if (!REPO_ID.test(repo) || repo.length > 96) {
    throw new Error(
      `invalid repo id "${repo}": expected "org/name" of letters, digits, "-", "_", "." (≤ 96 chars)`,
    );
  }
  if (repo.includes("--") || repo.includes("..")) {
    throw new Error(`invalid repo id "${repo}": "--" and ".." are not allowed`);
  }
  if (/(^|\/)[-.]|[-.](\/|$)/.test(repo)) {
    throw new Error(`invalid repo id "${repo}": parts cannot start or end with "-" or "."`);
  }
}

/** Folder name of a model repo inside the cache: `models--{org}--{name}`. */
export function repoFolderName(repo: string): string {
  validateRepoId(repo);
  return `models--${repo.split("/").join("--")}`;
}

/** A full git commit hash, the only thing allowed as a snapshot folder name. */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** Etags are used as file names, so only plain tokens are accepted (hex in practice). */
const SAFE_ETAG = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/**
 * Checks that `path` is a relative, forward-slash path that stays inside its folder, because
 * repo file paths, revisions and etags come from users or the network and end up in file names.
 *
 * @param what names the value in the error message ("file path", "revision")
 * @throws {Error} for empty, absolute, backslashed or `..`-containing paths
 */
export function validateRelativePath(path: string, what: string): void {
  const parts = path.split("/");
  if (
    path === "" || path.startsWith("/") || path.includes("\\") || path.includes("\0") ||
    parts.some((part) => part === "" || part === "." || part === "..")
  ) {
    throw new Error(`invalid ${what} "${path}": must be a relative path without "." or ".." parts`);
  }
}

/** Checks an etag before it becomes a blob file name. */
export function validateEtag(etag: string): void {
  if (!SAFE_ETAG.test(etag) || etag.endsWith(".incomplete")) {
    throw new Error(`unexpected etag "${etag}": not usable as a blob file name`);
  }
}

/** Paths of one repo inside the hub cache. */
export class RepoCache {
  /** The repo's folder, `{cacheDir}/models--{org}--{name}`. */
  readonly repoDir: string;

  /**
   * @param cacheDir the hub cache root (see {@link hubCacheDir})
   * @param repo repo id such as `CompVis/ldm-celebahq-256`
   */
  constructor(readonly cacheDir: string, readonly repo: string) {
    this.repoDir = join(cacheDir, repoFolderName(repo));
  }

  /** Completed blob for `etag`. */
  blobPath(etag: string): string {
    validateEtag(etag);
    return join(this.repoDir, "blobs", etag);
  }

  /** Partial download of the blob for `etag`. */
  incompletePath(etag: string): string {
    return `${this.blobPath(etag)}.incomplete`;
  }

  /** Snapshot folder of a commit. */
  snapshotDir(commit: string): string {
    if (!COMMIT_HASH.test(commit)) {
      throw new Error(`invalid commit hash "${commit}": expected 40 lowercase hex digits`);
    }
    return join(this.repoDir, "snapshots", commit);
  }

  /** Where file `path` of `commit` appears in its snapshot. */
  snapshotPath(commit: string, path: string): string {
    validateRelativePath(path, "file path");
    return join(this.snapshotDir(commit), ...path.split("/"));
  }

  /** The file holding the commit a revision (branch, tag, `refs/pr/1`) points to. */
  refPath(revision: string): string {
    validateRelativePath(revision, "revision");
    return join(this.repoDir, "refs", ...revision.split("/"));
  }

  /** The marker recording that `path` does not exist at `commit`. */
  noExistPath(commit: string, path: string): string {
    this.snapshotDir(commit);
    validateRelativePath(path, "file path");
    return join(this.repoDir, ".no_exist", commit, ...path.split("/"));
  }

  /**
   * The commit of `revision` as recorded in the cache: the revision itself when it is a commit
   * hash, else the content of `refs/{revision}`; `undefined` when unknown.
   */
  async readRef(revision: string): Promise<string | undefined> {
    if (COMMIT_HASH.test(revision)) return revision;
    try {
      const commit = (await Deno.readTextFile(this.refPath(revision))).trim();
      return COMMIT_HASH.test(commit) ? commit : undefined;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  /**
   * Records that `revision` points to `commit`. Nothing is written for a revision that is itself
   * the commit hash, nor when the ref already holds it; otherwise written atomically.
   */
  async writeRef(revision: string, commit: string): Promise<void> {
    this.snapshotDir(commit);
    if (revision === commit || (await this.readRef(revision)) === commit) return;
    const path = this.refPath(revision);
    await Deno.mkdir(dirname(path), { recursive: true });
    await writeTextFileAtomic(path, commit);
  }

  /** Whether the complete blob for `etag` is present. */
  async hasBlob(etag: string): Promise<boolean> {
    return (await statOrUndefined(this.blobPath(etag)))?.isFile === true;
  }

  /**
   * Makes `snapshots/{commit}/{path}` a relative symlink to `blobs/{etag}`, replacing a link that
   * points elsewhere. Where symlinks are not permitted (Windows without developer mode) the blob
   * is copied instead, as `huggingface_hub` does.
   *
   * @returns the snapshot path
   */
  async linkSnapshotFile(commit: string, path: string, etag: string): Promise<string> {
    const linkPath = this.snapshotPath(commit, path);
    const blob = this.blobPath(etag);
    const target = relative(dirname(linkPath), blob).split(sep).join("/");
    const existing = await Deno.lstat(linkPath).catch(() => undefined);
    if (existing?.isSymlink && (await Deno.readLink(linkPath)) === target) return linkPath;
    await Deno.mkdir(dirname(linkPath), { recursive: true });
    // A fresh link renamed over the old one: readers never see the path missing.
    const tmp = tempPathBeside(linkPath);
    try {
      try {
        await Deno.symlink(target, tmp, { type: "file" });
      } catch (e) {
        if (!(e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotSupported)) {
          throw e;
        }
        await Deno.copyFile(blob, tmp);
      }
      await Deno.rename(tmp, linkPath);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
    return linkPath;
  }

  /** Records a 404 for `path` at `commit` (an empty `.no_exist` marker). */
  async markMissing(commit: string, path: string): Promise<void> {
    const marker = this.noExistPath(commit, path);
    await Deno.mkdir(dirname(marker), { recursive: true });
    await Deno.writeFile(marker, new Uint8Array());
  }

  /** The snapshot path of `path` at `commit` if it resolves to an existing file. */
  async cachedFile(commit: string, path: string): Promise<string | undefined> {
    const snapshotPath = this.snapshotPath(commit, path);
    // stat follows the link, so a dangling link (blob deleted) counts as missing.
    return (await statOrUndefined(snapshotPath))?.isFile ? snapshotPath : undefined;
  }
}

/** `Deno.stat`, with `undefined` for a missing file. */
export async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
