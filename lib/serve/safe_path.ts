/**
 * Turning what a browser asks for into a path under the results folder, or refusing it.
 *
 * Two stages, because a URL can smuggle a path out in two ways: in its text (`..`, encoded
 * slashes, backslashes, NUL, absolute paths; refused here from the raw request target, before
 * any URL parser has normalised `..` away and so hidden the attempt) and on the disk (a symlink
 * inside the results folder that leads outside it; refused by comparing real paths).
 *
 * @module
 */

import { join, sep as SEPARATOR } from "node:path";

/** A request path or run path that is refused, with the status to answer. */
export interface PathRefusal {
  /** 400 for a malformed or hostile path. */
  status: 400;
  /** Why, for the response body. */
  reason: string;
}

/** A request path split into decoded, checked segments. */
export interface SafePath {
  /** Decoded segments; none is empty, `.`, `..` or holds `/`, `\` or NUL. */
  segments: string[];
  /** The path ended in `/` (a folder was asked for). */
  trailingSlash: boolean;
}

function refuse(reason: string): PathRefusal {
  return { status: 400, reason };
}

/** True when `value` is a {@link PathRefusal}. */
export function isRefusal(value: unknown): value is PathRefusal {
  return typeof value === "object" && value !== null && "reason" in value &&
    (value as PathRefusal).status === 400;
}

/**
 * The path part of a request URL exactly as sent: `req.url` of `Deno.serve` keeps the request
 * target's text, while `new URL()` would resolve `..` and `%2e%2e` and turn `\` into `/`.
 */
export function rawPathOf(url: string): string {
  const scheme = url.indexOf("://");
  const start = scheme < 0 ? 0 : url.indexOf("/", scheme + 3);
  if (start < 0) return "/";
  const rest = url.slice(start);
  const end = rest.search(/[?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}

function checkSegment(segment: string): string | null {
  if (segment === "." || segment === "..") return `"${segment}" segment`;
  // The scan never lists hidden folders (staging, editors' and tools' own): nor is one served.
  if (segment.startsWith(".")) return "hidden name";
  if (segment.includes("/") || segment.includes("\\")) return "slash inside a segment";
  if (segment.includes("\0")) return "NUL character";
  // A drive letter would make join() on Windows leave the root.
  if (/^[A-Za-z]:/.test(segment)) return "drive letter";
  return null;
}

/**
 * Checks a raw URL path (`/runs/x/frames/a.png`, still percent-encoded) and decodes its
 * segments. Refused: backslashes, encoded slashes or backslashes (`%2F`, `%5C`), NUL (`%00`),
 * `.`/`..` segments in any encoding, hidden names (`.x`), empty segments (`//`, which an absolute path smuggled after
 * a prefix produces), drive letters and undecodable escapes.
 */
export function parseRequestPath(raw: string): SafePath | PathRefusal {
  if (!raw.startsWith("/")) return refuse("path must start with /");
  if (raw.includes("\\")) return refuse("backslash in path");
  if (/%(2f|5c)/i.test(raw)) return refuse("encoded slash or backslash in path");
  if (/%00/.test(raw) || raw.includes("\0")) return refuse("NUL character in path");
  const parts = raw.slice(1).split("/");
  const trailingSlash = parts.length > 1 && parts[parts.length - 1] === "";
  if (trailingSlash || (parts.length === 1 && parts[0] === "")) parts.pop();
  const segments: string[] = [];
  for (const part of parts) {
    if (part === "") return refuse("empty path segment");
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return refuse("malformed percent-encoding");
    }
    const problem = checkSegment(segment);
    if (problem) return refuse(`${problem} in path`);
    segments.push(segment);
  }
  return { segments, trailingSlash };
}

/**
 * Checks a run path given as a query parameter (already decoded: `exp/20250101T…`), relative to
 * the results folder. A trailing `/` is allowed; everything {@link parseRequestPath} refuses
 * after decoding is refused here too, and so is a leading `/`.
 */
export function parseRunPath(value: string | null): string[] | PathRefusal {
  if (value === null || value === "") return refuse("missing run path");
  if (value.startsWith("/")) return refuse("absolute run path");
  if (value.includes("\\")) return refuse("backslash in run path");
  const parts = value.replace(/\/$/, "").split("/");
  for (const part of parts) {
    if (part === "") return refuse("empty segment in run path");
    const problem = checkSegment(part);
    if (problem) return refuse(`${problem} in run path`);
  }
  return parts;
}

/**
 * The real path of `segments` under the root, or null when it does not exist or its real path
 * (symlinks resolved) is not inside `rootReal`. Symlinks are followed as long as they stay in
 * the results folder: a `latest -> 20250101T…` link works, one to `/etc` does not.
 *
 * @param rootReal the results folder's real path (`Deno.realPath` of it)
 */
export async function resolveInside(
  rootReal: string,
  segments: readonly string[],
): Promise<string | null> {
  let real: string;
  try {
    real = await Deno.realPath(join(rootReal, ...segments));
  } catch {
    return null;
  }
  return isInside(rootReal, real) ? real : null;
}

/** True when `path` is `root` or below it (both absolute and normalised). */
export function isInside(root: string, path: string): boolean {
  if (path === root) return true;
  const prefix = root.endsWith(SEPARATOR) ? root : root + SEPARATOR;
  return path.startsWith(prefix);
}
