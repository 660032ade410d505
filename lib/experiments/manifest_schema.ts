/**
 * The one schema of `manifest.json`, used by every reader: the runner (resume), `merge`, and
 * `compare` / `verify` / `snapshot`. A manifest is accepted or refused here, once, with one
 * message naming the file, the field, the value found and what is allowed, so every command
 * refuses a bad manifest in the same words.
 *
 * One frame-path rule: a frame's `file` is `frames/<sha256>.png`, relative to the run folder,
 * where `<sha256>` is the frame's own `sha256` (64 lower-case hex digits). That is what the
 * runner writes, what resume and merge need (content-addressed names), and it leaves no room for
 * absolute paths or `..`.
 *
 * Objects are open: fields this program does not know are kept as found (a reader passes them
 * through), and the optional fields other parts of fluidity add (per-frame `seed`, `colorIndex`,
 * `identity`; top-level `identity`; `summary.identity`) are declared so that their owners only
 * have to tighten them. Manifests written by the first release (with `model.dir`) validate.
 *
 * @module
 */

import { z } from "zod";
import { describeValue } from "./spec.ts";
import type { Manifest } from "./manifest.ts";

/** Version of the manifest layout; readers refuse other versions. */
export const MANIFEST_VERSION = 1;

/** The frame-path rule, as told to the user. */
export const FRAME_FILE_RULE =
  "frames/<sha256>.png, relative to the run folder, named by the frame's own sha256";

const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const FRAME_FILE_PATTERN = /^frames\/([0-9a-f]{64})\.png$/;

/** The file a frame with PNG hash `sha256` has in a run folder. */
export function frameFileName(sha256: string): string {
  return `frames/${sha256}.png`;
}

/** The frame-path rule: whether `file` is `frames/<sha256>.png` for this well-formed `sha256`. */
export function isFrameFileOf(file: unknown, sha256: unknown): boolean {
  return typeof file === "string" && typeof sha256 === "string" &&
    SHA256_PATTERN.test(sha256) && file === frameFileName(sha256);
}

/** Builders that attach the "allowed" text to every check of a field. */
const sha256 = () => {
  const error = "a SHA-256: 64 lower-case hex digits";
  return z.string({ error }).regex(SHA256_PATTERN, { error });
};
const integer = (min: number) => {
  const error = `an integer ≥ ${min}`;
  return z.number({ error }).int({ error }).min(min, { error });
};
const number = (what = "a finite number") => z.number({ error: what });
const text = (what = "a string") => z.string({ error: what });
const nonEmpty = (what: string) => z.string({ error: what }).min(1, { error: what });
const rgb = () => {
  const error = "[r, g, b]: three finite numbers";
  return z.tuple([number(error), number(error), number(error)], { error });
};
const object = <T extends z.core.$ZodLooseShape>(shape: T, what = "an object") =>
  z.looseObject(shape, { error: what });
/** A path relative to the run folder that stays inside it. */
const insidePath = () => {
  const error = "a path relative to the run folder, without .. or \\";
  return z.string({ error }).min(1, { error }).refine(
    (p) =>
      !p.startsWith("/") && !/^[A-Za-z]:/.test(p) && !p.includes("\\") &&
      !p.split("/").includes(".."),
    { error },
  );
};

const shardSchema = object({
  index: integer(0),
  count: integer(1),
}, "{ index, count } with 0 ≤ index < count").refine((s) => s.index < s.count, {
  error: "{ index, count } with 0 ≤ index < count",
  path: ["index"],
});

const runtimeSchema = object({
  deno: text(),
  v8: text(),
  onnxruntime: text(),
  device: text(),
  threads: integer(1),
  os: text(),
  arch: text(),
  cpu: object({ model: text(), cores: integer(0) }),
});

const injectionSchema = object({
  scale: number(),
  window: z.tuple([integer(1), integer(1)], { error: "[first, last]: two integers ≥ 1" }),
  mode: z.enum(["constant", "gaussian"], { error: '"constant" or "gaussian"' }),
});

/** Face-identity figures of one frame (owned by the identity helper; tighten there). */
const frameIdentitySchema = object({
  descriptor: z.array(number(), { error: "a list of numbers" }),
  toReference: number(),
  toPrevious: number("a finite number or null").nullable(),
});

const frameSchema = object({
  index: integer(0),
  t: number("a finite number or null").nullable(),
  label: text().optional(),
  color: rgb(),
  injection: injectionSchema,
  key: sha256(),
  file: z.string({ error: FRAME_FILE_RULE }).regex(FRAME_FILE_PATTERN, { error: FRAME_FILE_RULE }),
  sha256: sha256(),
  width: integer(1),
  height: integer(1),
  computed: z.boolean({ error: "true or false" }),
  timings: object({ sampleMs: number(), batchMs: number(), batchSize: integer(1) }),
  meanColor: rgb(),
  distanceToPrevious: number("a finite number or null").nullable(),
  seed: z.string({ error: "a decimal integer as a string" }).regex(/^[0-9]+$/, {
    error: "a decimal integer as a string",
  }).optional(),
  colorIndex: integer(0).optional(),
  identity: frameIdentitySchema.optional(),
}).refine(
  // Only where file and sha256 are well-formed on their own (else that is the one problem).
  (f) =>
    !FRAME_FILE_PATTERN.test(String(f.file)) || !SHA256_PATTERN.test(String(f.sha256)) ||
    isFrameFileOf(f.file, f.sha256),
  { error: FRAME_FILE_RULE, path: ["file"] },
);

const summarySchema = object({
  frames: integer(0),
  computed: integer(0),
  reused: integer(0),
  samplingMs: number(),
  correlation: object({
    r: number("a number or null").nullable(),
    g: number("a number or null").nullable(),
    b: number("a number or null").nullable(),
  }),
  largestJump: object({ index: integer(0), value: number() }, "{ index, value } or null")
    .nullable(),
  meanDistanceToPrevious: number("a number or null").nullable(),
  /** Identity statistics (owned by the identity helper): passed through as found. */
  identity: z.record(z.string(), z.unknown(), { error: "an object" }).optional(),
}, "an object or null");

const outputsSchema = object({
  contactSheet: insidePath().nullable(),
  pathPlot: insidePath().nullable(),
  video: object({ mp4: insidePath().nullable(), gif: insidePath().nullable() }),
  identityPlot: insidePath().nullable().optional(),
});

/** Top-level face-identity record (lib/identity/records.ts). */
const identitySchema = object({
  embedder: object({
    name: text(),
    sha256: sha256(),
    dimension: integer(1),
    threshold: number(),
  }),
  references: z.array(
    object({
      seed: z.string({ error: "a decimal integer as a string" }).regex(/^[0-9]+$/, {
        error: "a decimal integer as a string",
      }),
      key: sha256(),
      // Reference faces live in frames/ under the same rule as frames (verify checks them).
      file: z.string({ error: FRAME_FILE_RULE }).regex(FRAME_FILE_PATTERN, {
        error: FRAME_FILE_RULE,
      }),
      sha256: sha256(),
      descriptor: z.array(number(), { error: "a list of numbers" }),
    }).refine(
      (r) => !SHA256_PATTERN.test(String(r.sha256)) || isFrameFileOf(r.file, r.sha256),
      { error: FRAME_FILE_RULE, path: ["file"] },
    ),
    { error: "a list of references" },
  ),
});

const isoTime = () => z.iso.datetime({ error: "an ISO 8601 UTC time" });

/** The schema of `manifest.json` (version {@link MANIFEST_VERSION}). */
export const manifestSchema = object({
  version: z.literal(MANIFEST_VERSION, { error: `${MANIFEST_VERSION}` }),
  status: z.enum(["running", "complete", "interrupted", "failed"], {
    error: '"running", "complete", "interrupted" or "failed"',
  }),
  error: text().optional(),
  shard: shardSchema.optional(),
  mergedFrom: z.array(object({ dir: text(), shard: shardSchema, runtime: runtimeSchema }), {
    error: "a list of shard folders",
  }).optional(),
  runId: nonEmpty("a non-empty string"),
  specHash: sha256(),
  createdAt: isoTime(),
  updatedAt: isoTime(),
  spec: object({ name: nonEmpty("a non-empty string") }),
  model: object({
    spec: nonEmpty("a non-empty string"),
    /** Written by the first release (an absolute path on the machine that ran it); ignored. */
    dir: text().optional(),
    info: object({
      sha256: z.record(z.string(), sha256(), { error: "{ file: SHA-256 } of the model files" }),
    }),
  }),
  runtime: runtimeSchema,
  frames: z.array(frameSchema, { error: "a list of frames" }).superRefine((frames, ctx) => {
    const seen = new Set<number>();
    frames.forEach((frame, i) => {
      if (seen.has(frame.index)) {
        ctx.addIssue({
          code: "custom",
          message: "an index no other frame has",
          path: [i, "index"],
          input: frame.index,
        });
      }
      seen.add(frame.index);
    });
  }),
  summary: summarySchema.nullable(),
  outputs: outputsSchema,
  warnings: z.array(text(), { error: "a list of strings" }),
  identity: identitySchema.optional(),
});

/** A `manifest.json` that is not a valid manifest; the message names the file and the field. */
export class ManifestFormatError extends Error {
  /** The manifest file. */
  readonly path: string;
  /** The first bad field (`frames[1].sha256`), null when the file is not a manifest at all. */
  readonly field: string | null;

  constructor(path: string, field: string | null, message: string) {
    super(message);
    this.name = "ManifestFormatError";
    this.path = path;
    this.field = field;
  }
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")
    .replace(/^\./, "") || "(top level)";
}

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let value = json;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * Checks parsed JSON as a manifest and returns it (unknown fields kept as found).
 *
 * @param path the file, for messages
 * @throws {ManifestFormatError} naming the file and the first bad field, its value and what is
 *   allowed
 */
export function checkManifestJson(json: unknown, path: string): Manifest {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ManifestFormatError(path, null, `${path} is damaged (not a JSON object)`);
  }
  const version = (json as { version?: unknown }).version;
  if (version !== MANIFEST_VERSION) {
    throw new ManifestFormatError(
      path,
      "version",
      `${path} is a manifest of version ${describeValue(version)}, this program reads ` +
        `version ${MANIFEST_VERSION}`,
    );
  }
  const result = manifestSchema.safeParse(json);
  if (result.success) return result.data as unknown as Manifest;
  const [issue, ...more] = result.error.issues;
  const field = fieldName(issue.path);
  const value = valueAt(json, issue.path);
  throw new ManifestFormatError(
    path,
    field,
    `${path} is not a valid run manifest: ${field} is ${describeValue(value)}; allowed: ` +
      `${issue.message}${more.length > 0 ? ` (and ${more.length} more problem(s))` : ""}`,
  );
}

/**
 * Parses the text of a manifest file.
 *
 * @throws {ManifestFormatError} for empty or non-JSON text (a damaged or truncated file) and
 *   for everything {@link checkManifestJson} refuses
 */
export function parseManifestText(text: string, path: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const problem = text.trim() === ""
      ? "the file is empty"
      : `not valid JSON, truncated or corrupt: ${(e as Error).message}`;
    throw new ManifestFormatError(path, null, `${path} is damaged (${problem})`);
  }
  return checkManifestJson(json, path);
}
