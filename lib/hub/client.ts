/**
 * The hub's HTTP protocol for one repo: `HEAD {endpoint}/{repo}/resolve/{revision}/{path}`
 * for a file's metadata, then a `GET` (with `Range` to resume) of the URL it points to.
 *
 * Redirects are followed by hand because the interesting headers (`X-Linked-Etag`,
 * `X-Linked-Size`, `X-Repo-Commit`) sit on the hub's 302 to the CDN, and because the token must
 * reach the hub only: it is never sent to another origin, whatever a redirect says.
 *
 * @module
 */

import { COMMIT_HASH, validateEtag, validateRelativePath } from "./cache.ts";
import { HubError } from "./errors.ts";

/** What a `HEAD` on the resolve URL tells about one file. */
export interface FileMetadata {
  /** File path inside the repo. */
  path: string;
  /** Commit the revision resolved to (`X-Repo-Commit`). */
  commit: string;
  /** sha256 for LFS files (`X-Linked-Etag`), git blob sha1 for small ones (`ETag`). */
  etag: string;
  /** Byte size (`X-Linked-Size` or `Content-Length`), when announced. */
  size: number | undefined;
  /** Absolute URL to `GET` the content from (the CDN for LFS files). */
  location: string;
}

/** Settings of a {@link HubClient}. */
export interface HubClientOptions {
  /** Hub base URL, such as `https://huggingface.co`. */
  endpoint: string;
  /** Repo id, such as `CompVis/ldm-celebahq-256`. */
  repo: string;
  /** Access token sent as `Authorization: Bearer` to the endpoint's origin only. */
  token?: string;
  /** Retries of a request after a connection failure, 429 or 5xx answer. */
  maxRetries: number;
  /** First retry delay in milliseconds; doubles on each retry (capped at 30 s). */
  retryBaseDelayMs: number;
  /** Aborts requests and retry waits. */
  signal?: AbortSignal;
}

/** Redirect hops followed before giving up. */
const MAX_REDIRECTS = 5;

/** Thrown inside the client for answers worth another try (connection errors, 429, 5xx). */
export class RetryableError extends Error {
  /** @param message what failed */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RetryableError";
  }
}

/** Removes `W/` and quotes from an `ETag` header value. */
export function normalizeEtag(value: string): string {
  return value.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

/** Waits `ms` milliseconds, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** HTTP client for the files of one repo. */
export class HubClient {
  /** Endpoint without a trailing slash. */
  readonly endpoint: string;
  readonly #origin: string;

  /** @param options see {@link HubClientOptions} */
  constructor(readonly options: HubClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    try {
      this.#origin = new URL(this.endpoint).origin;
    } catch {
      throw new Error(`invalid hub endpoint "${options.endpoint}" (HF_ENDPOINT): not a URL`);
    }
  }

  /** The resolve URL of `path` at `revision`. */
  resolveUrl(revision: string, path: string): string {
    validateRelativePath(path, "file path");
    const encodedPath = path.split("/").map(encodeURIComponent).join("/");
    return `${this.endpoint}/${this.options.repo}/resolve/${
      encodeURIComponent(revision)
    }/${encodedPath}`;
  }

  /** Milliseconds to wait before retry number `attempt` (1-based). */
  backoffMs(attempt: number): number {
    return Math.min(30_000, this.options.retryBaseDelayMs * 2 ** (attempt - 1));
  }

  /**
   * Reads a file's metadata with `HEAD`, retrying connection failures, 429 and 5xx.
   *
   * @throws {HubError} `unauthorized` (401/403), `not_found` (404), `protocol` (headers missing),
   *   `network` (retries exhausted)
   */
  async head(revision: string, path: string): Promise<FileMetadata> {
    const what = `"${path}" of ${this.options.repo} at revision "${revision}"`;
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#headOnce(revision, path);
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        if (attempt > this.options.maxRetries) {
          throw new HubError(
            "network",
            `cannot reach ${this.endpoint} for ${what} after ${attempt} attempts: ${e.message}`,
            { cause: e },
          );
        }
        await sleep(this.backoffMs(attempt), this.options.signal);
      }
    }
  }

  async #headOnce(revision: string, path: string): Promise<FileMetadata> {
    let url = this.resolveUrl(revision, path);
    for (let hop = 0;; hop++) {
      const response = await this.#request(url, "HEAD");
      await response.body?.cancel();
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location !== null) {
        // A relative redirect stays on the hub (a renamed repo): follow it. An absolute one
        // is the CDN: its headers are what we came for and the GET goes there later.
        if (!URL.canParse(location) && hop < MAX_REDIRECTS) {
          url = new URL(location, url).href;
          continue;
        }
        return this.#metadata(response, path, revision, new URL(location, url).href);
      }
      this.#throwForStatus(response, revision, path, url);
      return this.#metadata(response, path, revision, url);
    }
  }

  #metadata(response: Response, path: string, revision: string, location: string): FileMetadata {
    const headers = response.headers;
    const where =
      `${this.endpoint} answered HEAD for "${path}" of ${this.options.repo}@${revision}`;
    const commit = headers.get("x-repo-commit")?.trim();
    if (commit === undefined || !COMMIT_HASH.test(commit)) {
      throw new HubError(
        "protocol",
        `${where} without a valid X-Repo-Commit header (got ${JSON.stringify(commit ?? null)}): ` +
          "is HF_ENDPOINT a Hugging Face hub?",
        { status: response.status },
      );
    }
    const rawEtag = headers.get("x-linked-etag") ?? headers.get("etag");
    if (rawEtag === null) {
      throw new HubError("protocol", `${where} without an ETag or X-Linked-Etag header`, {
        status: response.status,
      });
    }
    const etag = normalizeEtag(rawEtag);
    try {
      validateEtag(etag);
    } catch (e) {
      throw new HubError("protocol", `${where}: ${(e as Error).message}`, { cause: e });
    }
    const sizeHeader = headers.get("x-linked-size") ?? headers.get("content-length");
    const size = sizeHeader === null ? undefined : Number(sizeHeader);
    if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
      throw new HubError("protocol", `${where} with an invalid size "${sizeHeader}"`);
    }
    return { path, commit, etag, size, location };
  }

  /**
   * `GET`s `url` from byte `offset` on, following redirects by hand. Connection failures, 429
   * and 5xx throw {@link RetryableError}; 401/403/404 throw {@link HubError}; other answers,
   * including 206, 200 and 416, are returned for the caller to interpret.
   */
  async get(url: string, offset: number, path: string, revision: string): Promise<Response> {
    for (let hop = 0;; hop++) {
      const response = await this.#request(
        url,
        "GET",
        offset > 0 ? { range: `bytes=${offset}-` } : {},
      );
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel();
        if (hop >= MAX_REDIRECTS) {
          throw new HubError("protocol", `too many redirects downloading "${path}" from ${url}`);
        }
        url = new URL(location, url).href;
        continue;
      }
      if (response.status === 416) return response;
      this.#throwForStatus(response, revision, path, url);
      return response;
    }
  }

  /** One request; the token goes only to the endpoint's own origin. */
  async #request(
    url: string,
    method: "HEAD" | "GET",
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {
      // The hub's sizes and hashes are of the raw bytes: no transparent decompression.
      "accept-encoding": "identity",
      "user-agent": "fluidity-hub/0.1 (deno)",
      ...extraHeaders,
    };
    if (this.options.token && new URL(url).origin === this.#origin) {
      headers.authorization = `Bearer ${this.options.token}`;
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        redirect: "manual",
        signal: this.options.signal,
      });
    } catch (e) {
      if (this.options.signal?.aborted) throw e;
      throw new RetryableError(`${method} ${url}: ${(e as Error).message}`, { cause: e });
    }
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel();
      throw new RetryableError(`${method} ${url}: HTTP ${response.status}`);
    }
    return response;
  }

  /** Turns 401/403/404 and other failures into clear {@link HubError}s. */
  #throwForStatus(response: Response, revision: string, path: string, url: string): void {
    const status = response.status;
    if (status >= 200 && status < 300) return;
    const repo = this.options.repo;
    const hubCode = response.headers.get("x-error-code");
    const hubMessage = response.headers.get("x-error-message");
    const detail = `HTTP ${status}${hubCode ? ` ${hubCode}` : ""}${
      hubMessage ? `: ${hubMessage}` : ""
    }; ${url}`;
    response.body?.cancel().catch(() => {});
    if (status === 401 || status === 403) {
      const advice = this.options.token
        ? "the token given (HF_TOKEN) was refused or has no access: check it, and accept " +
          `the model's conditions on ${this.endpoint}/${repo} with that account`
        : `set HF_TOKEN to an access token (${this.endpoint}/settings/tokens) of an account ` +
          "that has access, or check the repo id";
      throw new HubError(
        "unauthorized",
        `${repo} is gated or private (or does not exist): ${advice} (${detail})`,
        { status },
      );
    }
    if (status === 404) {
      const what = hubCode === "RevisionNotFound"
        ? `revision "${revision}" not found in repo ${repo}`
        : hubCode === "RepoNotFound"
        ? `repo ${repo} not found`
        : `file "${path}" not found in repo ${repo} at revision "${revision}"`;
      throw new HubError(
        "not_found",
        `${what} (looking for "${path}" in ${repo}@${revision}; ${detail})`,
        { status },
      );
    }
    throw new HubError(
      "protocol",
      `unexpected answer for "${path}" of ${repo}@${revision}: ${detail}`,
      { status },
    );
  }
}
