/**
 * Frame sequences to video: H.264 MP4 through an external ffmpeg (raw RGBA streamed to its
 * standard input), or an animated GIF through imagescript (no external tools).
 *
 * Both writers are atomic: the file appears complete under its final name or not at all.
 *
 * @module
 */

import { Frame, GIF } from "imagescript";
import { tempPathBeside, writeFileAtomic } from "../util/atomic.ts";
import { resizeRgba } from "./resample.ts";

/** Options shared by the video writers. */
export interface VideoOptions {
  /** Frames per second (> 0). */
  fps: number;
  /** Output file path. */
  out: string;
  /** Whole-number enlargement by pixel replication (e.g. 4 turns 64×64 faces into 256×256). */
  scale?: number;
}

/** Options for {@link encodeMp4}. */
export interface Mp4Options extends VideoOptions {
  /** x264 constant rate factor: 0 lossless … 51 worst; default 16 (visually lossless). */
  crf?: number;
  /** ffmpeg executable; default {@link findFfmpeg}. */
  ffmpeg?: string;
}

/** Raised when ffmpeg is unavailable or fails; the message says how to fix it when we know. */
export class VideoError extends Error {
  /** @param message what went wrong */
  constructor(message: string) {
    super(message);
    this.name = "VideoError";
  }
}

const INSTALL_HINT =
  "install it (Debian/Ubuntu: `apt-get install ffmpeg`; macOS: `brew install ffmpeg`) " +
  "or set FFMPEG to the path of an ffmpeg executable";

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/** The environment variables {@link findFfmpeg} consults. */
export interface FfmpegLookup {
  /** An explicit ffmpeg executable; when set, PATH is not searched. */
  FFMPEG?: string;
  /** Directories to search, separated as the platform does. */
  PATH?: string;
}

/**
 * Finds ffmpeg: the `FFMPEG` environment variable if set (it must name an executable file),
 * else the first `ffmpeg` on `PATH`.
 * @param env where to look; default the process environment
 * @returns its path, or null when there is none
 */
export async function findFfmpeg(
  env: FfmpegLookup = { FFMPEG: Deno.env.get("FFMPEG"), PATH: Deno.env.get("PATH") },
): Promise<string | null> {
  if (env.FFMPEG) return await isExecutableFile(env.FFMPEG) ? env.FFMPEG : null;
  const windows = Deno.build.os === "windows";
  const separator = windows ? ";" : ":";
  const names = windows ? ["ffmpeg.exe", "ffmpeg"] : ["ffmpeg"];
  for (const dir of (env.PATH ?? "").split(separator)) {
    if (!dir) continue;
    for (const name of names) {
      const candidate = `${dir}${windows ? "\\" : "/"}${name}`;
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  return null;
}

function checkVideoArgs(
  frames: readonly Uint8Array[],
  width: number,
  height: number,
  options: VideoOptions,
): number {
  if (frames.length === 0) throw new RangeError(`video ${options.out}: no frames to encode`);
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new RangeError(
      `video ${options.out}: width and height must be positive integers, got ${width}×${height}`,
    );
  }
  frames.forEach((f, i) => {
    if (f.length !== width * height * 4) {
      throw new RangeError(
        `video ${options.out}: frame ${i} has ${f.length} bytes, expected ${width}×${height}×4`,
      );
    }
  });
  if (!(options.fps > 0) || !Number.isFinite(options.fps)) {
    throw new RangeError(`video ${options.out}: fps must be a positive number, got ${options.fps}`);
  }
  const scale = options.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(
      `video ${options.out}: scale must be a positive integer, got ${options.scale}`,
    );
  }
  return scale;
}

/**
 * Encodes RGBA frames as an H.264 MP4 (libx264, yuv420p, BT.709 tags, `+faststart` so it plays
 * while downloading). Odd sizes are padded by one pixel, as yuv420p needs even dimensions.
 * @param frames `width × height × 4` bytes each
 * @throws {VideoError} when ffmpeg is missing (with install advice) or fails (with its stderr)
 */
export async function encodeMp4(
  frames: readonly Uint8Array[],
  width: number,
  height: number,
  options: Mp4Options,
): Promise<void> {
  const scale = checkVideoArgs(frames, width, height, options);
  const crf = options.crf ?? 16;
  if (!Number.isInteger(crf) || crf < 0 || crf > 51) {
    throw new RangeError(`video ${options.out}: crf must be an integer 0..51, got ${options.crf}`);
  }
  const ffmpeg = options.ffmpeg ?? await findFfmpeg();
  if (!ffmpeg) {
    throw new VideoError(`cannot write ${options.out}: ffmpeg not found; ${INSTALL_HINT}`);
  }

  const filters = [
    ...(scale > 1 ? [`scale=iw*${scale}:ih*${scale}:flags=neighbor`] : []),
    "pad=ceil(iw/2)*2:ceil(ih/2)*2",
    // Tag and convert with BT.709 so players show the injected colours as they are.
    "scale=out_color_matrix=bt709:out_range=tv",
    "format=yuv420p",
  ];
  const tmp = tempPathBeside(options.out);
  const args = [
    "-hide_banner",
    "-loglevel",
    "error",
    "-y",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgba",
    "-s",
    `${width}x${height}`,
    "-framerate",
    String(options.fps),
    "-i",
    "pipe:0",
    "-vf",
    filters.join(","),
    "-c:v",
    "libx264",
    "-preset",
    "medium",
    "-crf",
    String(crf),
    "-pix_fmt",
    "yuv420p",
    "-colorspace",
    "bt709",
    "-color_primaries",
    "bt709",
    "-color_trc",
    "bt709",
    "-color_range",
    "tv",
    "-movflags",
    "+faststart",
    "-an",
    "-f",
    "mp4",
    tmp,
  ];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(ffmpeg, { args, stdin: "piped", stdout: "null", stderr: "piped" })
      .spawn();
  } catch (e) {
    throw new VideoError(`cannot run ffmpeg at ${ffmpeg} (${e}); ${INSTALL_HINT}`);
  }
  // Drain stderr while writing stdin, or a chatty ffmpeg could block on a full pipe.
  const stderr = new Response(child.stderr).text();
  let writeError: unknown = null;
  const writer = child.stdin.getWriter();
  try {
    for (const frame of frames) await writer.write(frame);
    await writer.close();
  } catch (e) {
    writeError = e;
    await writer.abort().catch(() => {});
  }
  const status = await child.status;
  const log = (await stderr).trim();
  if (!status.success || writeError) {
    await Deno.remove(tmp).catch(() => {});
    throw new VideoError(
      `ffmpeg failed writing ${options.out} (exit code ${status.code})` +
        (log ? `:\n${log}` : writeError ? `: ${writeError}` : ""),
    );
  }
  try {
    await Deno.rename(tmp, options.out);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Encodes RGBA frames as a looping animated GIF (imagescript; palette quantised per frame).
 * GIF timing has 10 ms resolution, so the frame duration is `1000 / fps` rounded to 10 ms
 * (at least 20 ms, as browsers slow down anything faster).
 */
export async function encodeGif(
  frames: readonly Uint8Array[],
  width: number,
  height: number,
  options: VideoOptions,
): Promise<void> {
  const scale = checkVideoArgs(frames, width, height, options);
  const duration = Math.max(20, Math.round(100 / options.fps) * 10);
  const [w, h] = [width * scale, height * scale];
  const gifFrames = frames.map((rgba) => {
    const frame = new Frame(w, h, duration);
    frame.bitmap.set(resizeRgba(rgba, width, height, w, h));
    return frame;
  });
  const bytes = await new GIF(gifFrames, -1).encode(100);
  await writeFileAtomic(options.out, bytes);
}
