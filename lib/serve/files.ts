/**
 * Responses of the viewer: files from disk (with their type and byte ranges), generated bodies,
 * and errors, all with the headers every answer carries.
 *
 * @module
 */

import { extname } from "node:path";
import { parseRange } from "./range.ts";

/** Content types by extension of the files the viewer serves. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  ".png": "image/png",
  ".gif": "image/gif",
  ".mp4": "video/mp4",
  ".json": "application/json; charset=utf-8",
  ".html": "text/html; charset=utf-8",
});

/** The type of a file by extension; `application/octet-stream` for anything else. */
export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

/**
 * Headers on every answer: no type sniffing, and pages may load nothing from other origins
 * (the pages are self-contained; a report that tried to reach the network would be a bug).
 */
export function baseHeaders(contentType?: string): Headers {
  const headers = new Headers({
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self' 'unsafe-inline' data: blob:",
    "Referrer-Policy": "no-referrer",
  });
  if (contentType) headers.set("Content-Type", contentType);
  return headers;
}

/** A generated body (page, JSON, PNG) that must never be cached: runs change under it. */
export function bodyResponse(
  body: string | Uint8Array,
  contentType: string,
  method: string,
  status = 200,
): Response {
  const headers = baseHeaders(contentType);
  headers.set("Cache-Control", "no-store");
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  headers.set("Content-Length", String(bytes.byteLength));
  return new Response(method === "HEAD" ? null : bytes as Uint8Array<ArrayBuffer>, {
    status,
    headers,
  });
}

/** JSON answer. */
export function jsonResponse(value: unknown, method: string, status = 200): Response {
  return bodyResponse(JSON.stringify(value), CONTENT_TYPES[".json"], method, status);
}

/** Plain-text error answer. */
export function errorResponse(status: number, message: string, extra?: HeadersInit): Response {
  const headers = baseHeaders("text/plain; charset=utf-8");
  for (const [k, v] of new Headers(extra)) headers.set(k, v);
  return new Response(`${status} ${message}\n`, { status, headers });
}

/** A stream of `length` bytes of `file` from its current position; closes the file at the end. */
function limitedStream(file: Deno.FsFile, length: number): ReadableStream<Uint8Array> {
  let remaining = length;
  return new ReadableStream({
    async pull(controller) {
      if (remaining <= 0) {
        file.close();
        controller.close();
        return;
      }
      const buffer = new Uint8Array(Math.min(remaining, 64 * 1024));
      const n = await file.read(buffer);
      if (n === null) {
        file.close();
        controller.close();
        return;
      }
      remaining -= n;
      controller.enqueue(buffer.subarray(0, n));
    },
    cancel() {
      file.close();
    },
  });
}

/**
 * Answers with a file from disk: its type by extension, `Accept-Ranges: bytes`, a single
 * `Range` as 206 (416 when outside the file), `Last-Modified`; no body for HEAD.
 *
 * @param path a path the caller has already checked may be served
 */
export async function fileResponse(path: string, req: Request): Promise<Response> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return errorResponse(404, "not found");
  }
  let info: Deno.FileInfo;
  try {
    info = await file.stat();
  } catch (e) {
    file.close();
    throw e;
  }
  if (!info.isFile) {
    file.close();
    return errorResponse(404, "not found");
  }
  const size = info.size;
  const headers = baseHeaders(contentTypeOf(path));
  // A file of a run is data, never a document: even opened on its own it may run nothing.
  headers.set("Content-Security-Policy", "default-src 'none'; sandbox");
  headers.set("Accept-Ranges", "bytes");
  // Frames are content-addressed but the pictures and video are rewritten as a run goes on.
  headers.set("Cache-Control", "no-cache");
  if (info.mtime) headers.set("Last-Modified", info.mtime.toUTCString());
  const range = parseRange(req.headers.get("range"), size);
  if (range === "unsatisfiable") {
    file.close();
    headers.set("Content-Range", `bytes */${size}`);
    headers.set("Content-Type", "text/plain; charset=utf-8");
    return new Response("416 range not satisfiable\n", { status: 416, headers });
  }
  const [start, end] = range ? [range.start, range.end] : [0, size - 1];
  const length = size === 0 ? 0 : end - start + 1;
  headers.set("Content-Length", String(length));
  if (range) headers.set("Content-Range", `bytes ${start}-${end}/${size}`);
  const status = range ? 206 : 200;
  if (req.method === "HEAD") {
    file.close();
    return new Response(null, { status, headers });
  }
  if (start > 0) await file.seek(start, Deno.SeekMode.Start);
  return new Response(limitedStream(file, length), { status, headers });
}
