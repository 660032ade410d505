/**
 * Test helper: a loopback imitation of the Hugging Face hub's file protocol, serving a folder
 * (such as the tiny reference checkpoint) as one repo at one commit.
 *
 * - `HEAD|GET /{repo}/resolve/{main|commit}/{path}` on the hub server: weight files (LFS on the
 *   real hub) get a 302 to the CDN server (another port, so another origin) with
 *   `X-Linked-Etag` (sha256), `X-Linked-Size` and `X-Repo-Commit`; small files are served
 *   directly with `ETag` = git blob sha1. 404 carries `X-Error-Code` as the hub's does.
 * - `HEAD|GET /cdn/{sha256}` on the CDN server, with `Range: bytes=N-` support (206, 416).
 * - Faults for tests: cut the connection after K bytes, stall at an offset on every attempt,
 *   serve corrupted bytes, require a token.
 *
 * Every request is recorded in `requests`. Bound to 127.0.0.1 only.
 *
 * @module
 */

import { hashBytes } from "./checksum.ts";

/** Faults the fake hub injects; mutable while it runs. */
export interface FakeHubFaults {
  /** For the first `times` CDN GETs of `path`, close the connection after `afterBytes`. */
  cut?: { path: string; afterBytes: number; times: number };
  /** Every CDN GET of `path` stops at absolute byte `offset` (the download can never finish). */
  stall?: { path: string; offset: number };
  /** Paths whose CDN bytes are served with one byte flipped (same length). */
  corrupt?: string[];
  /** When set, the hub answers 401 unless `Authorization: Bearer {requireToken}` is sent. */
  requireToken?: string;
}

/** One request the fake hub received. */
export interface RecordedRequest {
  /** Which server: the hub (resolve URLs) or the CDN (blob URLs). */
  server: "hub" | "cdn";
  /** HTTP method. */
  method: string;
  /** URL path, still percent-encoded. */
  path: string;
  /** `Range` header, or `null`. */
  range: string | null;
  /** `Authorization` header, or `null`. */
  authorization: string | null;
}

/** A file the fake hub serves, with the hashes the hub announces for it. */
export interface FakeHubFile {
  /** Content. */
  bytes: Uint8Array<ArrayBuffer>;
  /** Hex sha256 of the content (the etag of LFS files). */
  sha256: string;
  /** Git blob id of the content (the etag of small files). */
  gitSha1: string;
  /** Served through the CDN redirect, like an LFS file. */
  lfs: boolean;
}

/** A running fake hub; `close()` it when done. */
export interface FakeHub {
  /** Base URL to use as `endpoint` / `HF_ENDPOINT`. */
  endpoint: string;
  /** Origin of the CDN server (a different port from the hub). */
  cdnOrigin: string;
  /** Repo id served. */
  repo: string;
  /** The commit every revision resolves to. */
  commit: string;
  /** Served files by repo path. */
  files: Map<string, FakeHubFile>;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Faults in force; may be changed between downloads. */
  faults: FakeHubFaults;
  /** Stops both servers. */
  close(): Promise<void>;
}

/** Options of {@link startFakeHub}. */
export interface FakeHubOptions {
  /** Repo id to serve, such as `CompVis/ldm-celebahq-256`. */
  repo: string;
  /** Files by repo path. */
  files: Map<string, Uint8Array<ArrayBuffer>>;
  /** Which files are LFS files; default: `.safetensors`, `.bin`, `.onnx`, `.ckpt`. */
  isLfs?: (path: string) => boolean;
  /** Faults to inject. */
  faults?: FakeHubFaults;
}

/** All files under `dir`, keyed by forward-slash relative path. */
export async function readTree(
  dir: string,
  prefix = "",
): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  for await (const entry of Deno.readDir(dir)) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    const full = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      for (const [path, bytes] of await readTree(full, rel)) files.set(path, bytes);
    } else if (entry.isFile) {
      files.set(rel, await Deno.readFile(full));
    }
  }
  return files;
}

const defaultIsLfs = (path: string) => /\.(safetensors|bin|onnx|ckpt)$/.test(path);

/** Starts the hub and CDN servers on 127.0.0.1 with ports chosen by the system. */
export function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const isLfs = options.isLfs ?? defaultIsLfs;
  const files = new Map<string, FakeHubFile>();
  const bySha256 = new Map<string, string>();
  for (const [path, bytes] of [...options.files].sort(([a], [b]) => a.localeCompare(b))) {
    const file = {
      bytes,
      sha256: hashBytes(bytes, "sha256"),
      gitSha1: hashBytes(bytes, "git-sha1"),
      lfs: isLfs(path),
    };
    files.set(path, file);
    bySha256.set(file.sha256, path);
  }
  // The commit id depends on the content, as a git commit does.
  const commit = hashBytes(
    new TextEncoder().encode([...files].map(([p, f]) => `${p}:${f.sha256}`).join("\n")),
    "git-sha1",
  );
  const requests: RecordedRequest[] = [];
  const faults: FakeHubFaults = options.faults ?? {};
  const cutsDone = new Map<string, number>();

  const record = (server: "hub" | "cdn", request: Request) => {
    requests.push({
      server,
      method: request.method,
      path: new URL(request.url).pathname,
      range: request.headers.get("range"),
      authorization: request.headers.get("authorization"),
    });
  };

  const cdn = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    record("cdn", request);
    const match = /^\/cdn\/([0-9a-f]{64})$/.exec(new URL(request.url).pathname);
    const path = match === null ? undefined : bySha256.get(match[1]);
    if (path === undefined) return new Response("no such blob", { status: 404 });
    let bytes = files.get(path)!.bytes;
    if (faults.corrupt?.includes(path)) {
      bytes = bytes.slice();
      bytes[bytes.length >> 1] ^= 0xff;
    }
    const size = bytes.length;
    let start = 0;
    const range = request.headers.get("range");
    if (range !== null) {
      const parsed = /^bytes=(\d+)-$/.exec(range);
      if (parsed === null) return new Response("bad range", { status: 400 });
      start = Number(parsed[1]);
      if (start >= size) {
        return new Response(null, { status: 416, headers: { "content-range": `bytes */${size}` } });
      }
    }
    const headers: Record<string, string> = {
      "content-length": String(size - start),
      "accept-ranges": "bytes",
      "content-type": "application/octet-stream",
    };
    if (range !== null) headers["content-range"] = `bytes ${start}-${size - 1}/${size}`;
    const status = range !== null ? 206 : 200;
    if (request.method === "HEAD") return new Response(null, { status, headers });

    let end = size;
    const cutCount = cutsDone.get(path) ?? 0;
    if (faults.cut?.path === path && cutCount < faults.cut.times) {
      cutsDone.set(path, cutCount + 1);
      end = Math.min(size, start + faults.cut.afterBytes);
    }
    if (faults.stall?.path === path) end = Math.min(end, Math.max(start, faults.stall.offset));
    if (end === size) return new Response(bytes.subarray(start), { status, headers });
    // Fewer bytes than Content-Length promises, then the stream ends: the server drops the
    // connection, which the client sees as a cut in the middle of the body.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (end > start) controller.enqueue(bytes.slice(start, end));
        controller.close();
      },
    });
    return new Response(body, { status, headers });
  });

  const cdnOrigin = `http://127.0.0.1:${cdn.addr.port}`;
  const hub = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    record("hub", request);
    if (
      faults.requireToken !== undefined &&
      request.headers.get("authorization") !== `Bearer ${faults.requireToken}`
    ) {
      return new Response("unauthorized", {
        status: 401,
        headers: {
          "x-error-code": "GatedRepo",
          "x-error-message": `Access to model ${options.repo} is restricted.`,
        },
      });
    }
    const url = new URL(request.url);
    const prefix = `/${options.repo}/resolve/`;
    if (!url.pathname.startsWith(prefix)) {
      return new Response("not found", {
        status: 401,
        headers: { "x-error-code": "RepoNotFound", "x-error-message": "Repository not found" },
      });
    }
    const [rawRevision, ...pathParts] = url.pathname.slice(prefix.length).split("/");
    const revision = decodeURIComponent(rawRevision);
    if (revision !== "main" && revision !== commit) {
      return new Response("no such revision", {
        status: 404,
        headers: {
          "x-error-code": "RevisionNotFound",
          "x-error-message": `Invalid rev id: ${revision}`,
        },
      });
    }
    const path = pathParts.map(decodeURIComponent).join("/");
    const file = files.get(path);
    if (file === undefined) {
      return new Response("no such file", {
        status: 404,
        headers: {
          "x-error-code": "EntryNotFound",
          "x-error-message": "Entry not found",
          "x-repo-commit": commit,
        },
      });
    }
    if (file.lfs) {
      return new Response(null, {
        status: 302,
        headers: {
          location: `${cdnOrigin}/cdn/${file.sha256}`,
          // The hub's ETag here is the pointer file's: clients must prefer X-Linked-Etag.
          etag: `"${hashBytes(new TextEncoder().encode(`oid sha256:${file.sha256}`), "git-sha1")}"`,
          "x-linked-etag": `"${file.sha256}"`,
          "x-linked-size": String(file.bytes.length),
          "x-repo-commit": commit,
        },
      });
    }
    const headers = {
      etag: `"${file.gitSha1}"`,
      "content-length": String(file.bytes.length),
      "x-repo-commit": commit,
    };
    return new Response(request.method === "HEAD" ? null : file.bytes, { headers });
  });

  return Promise.resolve({
    endpoint: `http://127.0.0.1:${hub.addr.port}`,
    cdnOrigin,
    repo: options.repo,
    commit,
    files,
    requests,
    faults,
    async close() {
      await Promise.all([hub.shutdown(), cdn.shutdown()]);
    },
  });
}
