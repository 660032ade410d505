/**
 * The local viewer of a results folder (`deno task serve`): the handler and server, the run
 * list, safe path resolution, byte ranges and the in-memory comparison of two runs.
 *
 * @module
 */

export {
  createHandler,
  type HandlerOptions,
  LOOPBACK_HOSTS,
  type ReportRenderer,
  type ServeOptions,
  serveResults,
  urlOf,
} from "./server.ts";
export {
  DEFAULT_MAX_DEPTH,
  type InvalidRun,
  readRunManifest,
  type RunEntry,
  type RunSummary,
  scanRuns,
  servedFiles,
  summarize,
} from "./runs.ts";
export {
  isInside,
  isRefusal,
  parseRequestPath,
  parseRunPath,
  type PathRefusal,
  rawPathOf,
  resolveInside,
  type SafePath,
} from "./safe_path.ts";
export { type ByteRange, parseRange } from "./range.ts";
export { CONTENT_TYPES, contentTypeOf } from "./files.ts";
export {
  Comparer,
  type ComparerOptions,
  type DiffPicture,
  type ViewerComparison,
  type ViewerRun,
} from "./compare.ts";
export { comparePage, LIST_POLL_MS, listPage } from "./pages.ts";
