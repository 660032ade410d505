/**
 * The viewer's request handler: routes, the serving rule, and starting it on a socket.
 *
 * Routes (GET and HEAD only, anything else 405):
 * - `/`: the run list page; `/api/runs`: the list as JSON; `/favicon.ico`: 204 (no icon).
 * - `/runs/<run path>/report.html`: the run's report, rendered from its manifest on every
 *   request; `/runs/<run path>/report.json`: `reportData(manifest)`, which the page polls.
 *   `/runs/<run path>/` redirects to the report.
 * - `/runs/<run path>/<file>`: a file of the run (see the serving rule below).
 * - `/compare?a=<run path>&b=<run path>`: the comparison page; `/api/compare?a=&b=`: the
 *   comparison as JSON; `/api/compare/diff.png?a=&b=&frame=<index>`: a frame's diff picture.
 *
 * Serving rule: only the `.png`, `.gif` and `.mp4` files a run's current manifest references
 * (frames, identity reference faces, contact sheet, path plot, grid, identity plot, video) and
 * the manifest itself, of
 * folders holding a valid `manifest.json` under the results folder. Nothing else of the results
 * folder (lock files, temporary files, stray files, folders without a manifest) is served, and no
 * listing. Paths with `..`, encoded slashes, backslashes or NUL are refused (400); symlinks are
 * followed only while their real path stays inside the results folder (else 404).
 *
 * @module
 */

import { type ReportData, reportData } from "../report/data.ts";
import { REPORT_CSP, reportHtml, sortedJson } from "../report/page.ts";
import { RunOpenError } from "../compare/run_folder.ts";
import { type Manifest, MANIFEST_FILE } from "../experiments/manifest.ts";
import type { Tolerance } from "../compare/tolerance.ts";
import { Comparer, type ViewerRun } from "./compare.ts";
import { bodyResponse, CONTENT_TYPES, errorResponse, fileResponse, jsonResponse } from "./files.ts";
import { comparePage, listPage } from "./pages.ts";
import { DEFAULT_MAX_DEPTH, readRunManifest, scanRuns, servedFiles } from "./runs.ts";
import {
  isRefusal,
  parseRequestPath,
  parseRunPath,
  rawPathOf,
  resolveInside,
} from "./safe_path.ts";

/** Renders a run's report page: `reportHtml` of `lib/report/page.ts`. */
export type ReportRenderer = (
  data: ReportData,
  options: { live?: string; pollMs?: number },
) => string;

/** Host names a loopback-bound viewer answers to. */
export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "[::1]", "::1"];

/** Options of {@link createHandler}. */
export interface HandlerOptions {
  /** Renders the report page; default `reportHtml` of `lib/report/page.ts`. */
  renderReport?: ReportRenderer;
  /** Depth below the results folder runs are looked for; default {@link DEFAULT_MAX_DEPTH}. */
  maxDepth?: number;
  /** How often a report page polls while its run is not complete, ms (default 2000). */
  pollMs?: number;
  /** Limits of the comparison; default the compare CLI's. */
  tolerance?: Tolerance;
  /**
   * `Host` header names accepted (without port); default {@link LOOPBACK_HOSTS}, which stops
   * a web page from reaching the viewer through a DNS name rebound to 127.0.0.1. `"any"` for a
   * viewer bound to another interface on purpose.
   */
  allowedHosts?: readonly string[] | "any";
}

function hostAllowed(req: Request, allowed: readonly string[] | "any"): boolean {
  if (allowed === "any") return true;
  const host = req.headers.get("host") ?? new URL(req.url).host;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  return allowed.includes(name.toLowerCase());
}

/**
 * The viewer as a function from request to response, so tests can call it without a socket.
 *
 * @param root the results folder; its real path is taken at the first request that succeeds in
 *   taking it (a folder created after the viewer started is found)
 */
export function createHandler(
  root: string,
  options: HandlerOptions,
): (req: Request) => Promise<Response> {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const pollMs = options.pollMs ?? 2000;
  const renderReport = options.renderReport ?? reportHtml;
  const allowedHosts = options.allowedHosts ?? LOOPBACK_HOSTS;
  const comparer = new Comparer({ tolerance: options.tolerance });
  let rootRealPromise: Promise<string> | null = null;
  const rootReal = () =>
    rootRealPromise ??= Deno.realPath(root).catch((e) => {
      rootRealPromise = null;
      throw e;
    });

  /** The run at exactly these segments, null when there is none (or it leaves the root). */
  async function runAt(segments: string[]): Promise<ViewerRun | null> {
    const base = await rootReal();
    const manifest = await readRunManifest(base, segments);
    if (!manifest) return null;
    const dir = await resolveInside(base, segments);
    if (!dir) return null;
    const path = segments.join("/");
    return {
      path,
      run: { dir, manifestPath: `${dir}/${MANIFEST_FILE}`, manifest },
    };
  }

  /**
   * The run folder that `segments` starts with, and the rest of the path. The shallowest wins, as
   * in the list: a run folder is not searched for runs inside it.
   */
  async function findRun(segments: string[]): Promise<[ViewerRun, string[]] | null> {
    for (let k = 1; k <= Math.min(segments.length, maxDepth); k++) {
      const run = await runAt(segments.slice(0, k));
      if (run) return [run, segments.slice(k)];
    }
    return null;
  }

  async function serveRun(req: Request, segments: string[], raw: string): Promise<Response> {
    let found;
    try {
      found = await findRun(segments);
    } catch (e) {
      // A damaged manifest: nothing of that folder is served, but say why.
      if (e instanceof RunOpenError) return errorResponse(422, e.message);
      throw e;
    }
    if (!found) return errorResponse(404, "no such run");
    const [run, rest] = found;
    const file = rest.join("/");
    const manifest = run.run.manifest;
    if (file === "") {
      const location = raw.endsWith("/") ? `${raw}report.html` : `${raw}/report.html`;
      return errorResponse(302, "see the report", { Location: location });
    }
    if (file === "report.html") {
      // Relative: the page lives in the run folder, so this is the run's report.json.
      const html = renderReport(reportData(manifest), { live: "report.json", pollMs });
      const response = bodyResponse(html, CONTENT_TYPES[".html"], req.method);
      // The page's own policy (also in its <meta>), stricter than the viewer's pages need.
      response.headers.set("Content-Security-Policy", REPORT_CSP);
      return response;
    }
    if (file === "report.json") {
      return bodyResponse(reportJsonOf(manifest), CONTENT_TYPES[".json"], req.method);
    }
    const real = await runFile(run, file);
    if (!real) return errorResponse(404, "not a file of this run");
    return fileResponse(real, req);
  }

  /**
   * The real path of a file of a run that the serving rule lets out: named by the run's manifest
   * (see `servedFiles`) and, symlinks resolved, inside the results folder. Null otherwise.
   */
  async function runFile(run: ViewerRun, file: string): Promise<string | null> {
    if (!servedFiles(run.run.manifest).has(file)) return null;
    return await resolveInside(await rootReal(), [...run.path.split("/"), ...file.split("/")]);
  }

  async function queryRun(params: URLSearchParams, name: string): Promise<ViewerRun | Response> {
    const segments = parseRunPath(params.get(name));
    if (isRefusal(segments)) return errorResponse(400, `${name}: ${segments.reason}`);
    try {
      const run = await runAt(segments);
      return run ?? errorResponse(404, `${name}: no run at ${segments.join("/")}`);
    } catch (e) {
      if (e instanceof RunOpenError) return errorResponse(422, `${name}: ${e.message}`);
      throw e;
    }
  }

  async function readFrame(run: ViewerRun, file: string): Promise<Uint8Array | null> {
    const real = await runFile(run, file);
    if (!real) return null;
    try {
      return await Deno.readFile(real);
    } catch {
      return null;
    }
  }

  async function serveApi(req: Request, route: string, params: URLSearchParams): Promise<Response> {
    if (route === "runs") {
      return jsonResponse({ runs: await scanRuns(await rootReal(), maxDepth) }, req.method);
    }
    if (route !== "compare" && route !== "compare/diff.png") return errorResponse(404, "not found");
    const a = await queryRun(params, "a");
    if (a instanceof Response) return a;
    const b = await queryRun(params, "b");
    if (b instanceof Response) return b;
    if (route === "compare") {
      // The frames are read by the serving rule: what the viewer may not serve, it does not read.
      return jsonResponse(await comparer.compare(a, b, readFrame), req.method);
    }
    const frameText = params.get("frame") ?? "";
    if (!/^\d{1,9}$/.test(frameText)) return errorResponse(400, "frame: expected a frame index");
    const picture = await comparer.diffPicture(a, b, Number(frameText), readFrame);
    if ("error" in picture) return errorResponse(404, picture.error);
    return bodyResponse(picture.png, CONTENT_TYPES[".png"], req.method);
  }

  async function route(req: Request): Promise<Response> {
    const raw = rawPathOf(req.url);
    const path = parseRequestPath(raw);
    if (isRefusal(path)) return errorResponse(400, path.reason);
    const [head, ...tail] = path.segments;
    const params = new URL(req.url).searchParams;
    if (head === undefined) return bodyResponse(listPage(), CONTENT_TYPES[".html"], req.method);
    if (head === "favicon.ico" && tail.length === 0) {
      // Browsers ask for it on every page; a 404 would be a console error on each of them.
      return new Response(null, { status: 204, headers: { "Cache-Control": "max-age=86400" } });
    }
    if (head === "compare" && tail.length === 0) {
      return bodyResponse(comparePage(), CONTENT_TYPES[".html"], req.method);
    }
    if (head === "api") return await serveApi(req, tail.join("/"), params);
    if (head === "runs" && tail.length > 0) return await serveRun(req, tail, raw);
    return errorResponse(404, "not found");
  }

  return async (req: Request): Promise<Response> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return errorResponse(405, "method not allowed", { Allow: "GET, HEAD" });
    }
    if (!hostAllowed(req, allowedHosts)) return errorResponse(403, "unexpected Host header");
    try {
      return await route(req);
    } catch (e) {
      // Said on the viewer's terminal; the answer names nothing of the server (its messages
      // carry the server's paths).
      console.error(`serve: ${req.method} ${rawPathOf(req.url)}: ${(e as Error)?.stack ?? e}`);
      return errorResponse(500, "internal error: see the viewer's terminal");
    }
  };
}

/**
 * `report.json` of each manifest object (the same object while the file is unchanged): every open
 * report page polls it, so it is made once per manifest, keys sorted as the page embeds them.
 */
const reportJsonCache = new WeakMap<Manifest, string>();

function reportJsonOf(manifest: Manifest): string {
  let json = reportJsonCache.get(manifest);
  if (json === undefined) {
    json = sortedJson(reportData(manifest));
    reportJsonCache.set(manifest, json);
  }
  return json;
}

/** Options of {@link serveResults}. */
export interface ServeOptions extends HandlerOptions {
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Called once listening, with the address. */
  onListen?: (address: { hostname: string; port: number; url: string }) => void;
}

/** The URL of a listening address (`[::1]` bracketed). */
export function urlOf(hostname: string, port: number): string {
  return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/`;
}

/** Starts the viewer on a socket. */
export function serveResults(root: string, options: ServeOptions): Deno.HttpServer<Deno.NetAddr> {
  const handler = createHandler(root, options);
  return Deno.serve({
    hostname: options.host ?? "127.0.0.1",
    port: options.port,
    signal: options.signal,
    onListen: ({ hostname, port }) =>
      options.onListen?.({ hostname, port, url: urlOf(hostname, port) }),
  }, handler);
}
