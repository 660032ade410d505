/**
 * Declarative experiment specs: what an `experiments/*.ts` file exports, how it is checked, and
 * the fully resolved form the runner and the manifest work with.
 *
 * Checking happens before any work (no model is loaded, no file is written) and every failure
 * is a {@link SpecError} that names the field, the value found there and what is allowed, so a
 * typo in a spec file or on the command line costs seconds, not an hour of sampling.
 *
 * @module
 */

import { z } from "zod";
import { type ColorInput, parseColor, type Rgb } from "../pipelines/colors.ts";
import { createPath, PATH_TYPES, type PathSpec } from "../paths/mod.ts";

export { PATH_TYPES, type PathSpec };

/** Largest seed: `torch.manual_seed` takes an unsigned 64-bit integer. */
export const MAX_SEED = 2n ** 64n - 1n;

/** Most DDIM steps: the scheduler's number of training timesteps. */
export const MAX_STEPS = 1000;

/** Most frames in one run (each is a full sampling; more would only exhaust memory planning). */
export const MAX_FRAMES = 1_000_000;

/**
 * Most frames in a multi-seed run (`seeds` × the frames of the path or list). A grid is meant to
 * be looked at as one picture (`grid.png`) and analysed as one table: 10,000 frames is already
 * 100 seeds × 100 colours, ~2.6 GB of RGBA at 256 px kept in memory for the pictures, and
 * hours to days of sampling on a GPU at the paper's 1000 steps. Larger studies are several runs.
 */
export const MAX_GRID_FRAMES = 10_000;

/** A seed as a spec may write it: 0 … 2**64-1 as a number (up to 2**53-1), string or bigint. */
export type SeedInput = number | string | bigint;

/**
 * Several seeds: an explicit list of distinct seeds, or the `count` consecutive seeds starting at
 * `from` (`{ from: 0, count: 8 }` is 0 … 7).
 */
export type SeedsInput = SeedInput[] | { from: SeedInput; count: number };

/** Injection settings shared by the frames of a spec unless a frame overrides them. */
export interface Injection {
  /** Multiplier of M (the paper: 0.01; 0 = no injection). */
  scale: number;
  /** First and last denoising step receiving the injection, 1-based, inclusive. */
  window: [number, number];
  /** `constant` (the paper's M) or `gaussian` (M times standard normal noise). */
  mode: "constant" | "gaussian";
}

/** One explicitly listed frame, as written in a spec. */
export interface ExplicitFrameInput {
  /** Time on the spec's path; the colour is `path.at(t)` unless `color` is given. */
  t?: number;
  /** The injected colour (any form `parseColor` accepts). Required when there is no `t`. */
  color?: ColorInput;
  /** Overrides of the spec's injection for this frame only (e.g. a sensitivity grid). */
  injection?: Partial<Injection>;
  /** A short human-readable name, shown in the manifest (e.g. `"red"`). */
  label?: string;
}

/**
 * Which frames to render: `count` frames sampled along the path (uniform in time or in arc
 * length), explicit path times `t`, or an explicit list of frames.
 */
export type FramesInput =
  | { count: number; sampling?: "time" | "arcLength" }
  | { t: number[] }
  | ExplicitFrameInput[];

/** Contact sheet options. */
export interface ContactSheetOptions {
  /** Thumbnails per row; default: about square. */
  columns?: number;
  /** Most frames shown (evenly spaced over the run, first and last included); default: all. */
  maxFrames?: number;
  /** Thumbnail width in pixels; default: the frame size up to 30 frames, 128 beyond. */
  tileSize?: number;
}

/** Video options. */
export interface VideoOptions {
  /** Frames per second (the paper's videos: 30). */
  fps?: number;
  /** Containers to write; mp4 needs ffmpeg, gif is always possible. */
  formats?: ("mp4" | "gif")[];
}

/** What to write besides the manifest. */
export interface OutputsInput {
  /** Frames are always written: they are the resume cache. */
  frames?: true;
  /** A grid of all frames (`contact_sheet.png`); default true. */
  contactSheet?: boolean | ContactSheetOptions;
  /** The path through the RGB cube with the frames' colours (`path_plot.png`); default true. */
  pathPlot?: boolean;
  /** `video.mp4` / `video.gif`; `false` for none. Default `{ fps: 30, formats: ["mp4","gif"] }`. */
  video?: false | VideoOptions;
  /**
   * Identity numbers: face descriptors per frame, `summary.identity`, `identity_plot.png`
   * (`lib/identity`). Default on; `false` turns them off (as `--no-identity` does for one run).
   */
  identity?: boolean;
}

/**
 * An experiment as written in a spec file (defaults not yet applied): exactly one of `seed` (one
 * face, today's runs) and `seeds` (a multi-seed run: every seed crossed with every frame).
 */
export type ExperimentInput =
  & ExperimentFields
  & (
    | {
      /** Seed of the shared initial noise: 0 … 2**64-1 (a decimal string or bigint above 2**53). */
      seed: SeedInput;
      /** Not with `seed`. */
      seeds?: never;
    }
    | {
      /**
       * Several seeds (innate factors) crossed with the frames (external factors): the run renders
       * every frame of the path or list for each seed, seed-major (all frames of the first seed,
       * then the second…), and writes `grid.png` (seeds as rows, colours as columns). At most
       * {@link MAX_GRID_FRAMES} frames in all.
       */
      seeds: SeedsInput;
      /** Not with `seeds`. */
      seed?: never;
    }
  );

/** The fields of {@link ExperimentInput} other than the seed(s). */
export interface ExperimentFields {
  /** Slug naming the experiment; runs go to `results/<name>/`. */
  name: string;
  /** What the experiment shows; copied to the manifest. */
  description?: string;
  /** A hub id (`CompVis/ldm-celebahq-256`), a converted model folder, or `tiny`. */
  model: string;
  /** DDIM steps; default 1000 (the paper). */
  steps?: number;
  /** Divide latents by this before decoding; default: the model's `latentScale`. */
  latentScale?: number;
  /** Injection settings; defaults `{ scale: 0.01, window: [1, 10], mode: "constant" }`. */
  injection?: Partial<Injection>;
  /** The colour path; required unless every frame lists its colour. */
  path?: PathSpec;
  /** Which frames to render. */
  frames: FramesInput;
  /**
   * Frames per sampler call, or `"auto"` (default): the best batch `deno task bench` measured for
   * the device, else 2 on the CPU and 8 on CUDA. Does not change the images, only speed and memory.
   */
  batch?: number | "auto";
  /** Pictures to make from the frames. */
  outputs?: OutputsInput;
}

/** An explicit frame after checking: colour normalised to [0, 1]. */
export interface ResolvedExplicitFrame {
  /** Time on the path the colour came from, if any. */
  t?: number;
  /** The colour; absent when it comes from the path at `t`. */
  color?: Rgb;
  /** Per-frame injection overrides. */
  injection?: Partial<Injection>;
  /** Human-readable name. */
  label?: string;
}

/** The resolved frames selection. */
export type ResolvedFrames =
  | { count: number; sampling: "time" | "arcLength" }
  | { t: number[] }
  | ResolvedExplicitFrame[];

/** An experiment with defaults applied, overrides merged, and everything checked. JSON-safe. */
export interface ResolvedExperiment {
  /** Slug. */
  name: string;
  /** Description, if given. */
  description?: string;
  /** Model spec. */
  model: string;
  /** Seed of a single-seed run: a number up to 2**53-1, a decimal string above. */
  seed?: number | string;
  /**
   * Seeds of a multi-seed run (given as a list or a range), in run order, each like `seed`.
   * Exactly one of `seed` and `seeds` is set; see {@link runSeeds}.
   */
  seeds?: (number | string)[];
  /** DDIM steps. */
  steps: number;
  /** Latent scale override, if given. */
  latentScale?: number;
  /** Spec-wide injection. */
  injection: Injection;
  /** Path, if given. */
  path?: PathSpec;
  /** Frames selection. */
  frames: ResolvedFrames;
  /** Frames per sampler call. */
  batch: number | "auto";
  /** Set for a fast preview (`--preview`): not the paper's setting. */
  preview?: PreviewInfo;
  /** Pictures to make. */
  outputs: {
    frames: true;
    contactSheet: false | ContactSheetOptions;
    pathPlot: boolean;
    video: false | { fps: number; formats: ("mp4" | "gif")[] };
    /** Absent = on (absent, not `true`, so that older specs keep their hash). */
    identity?: boolean;
  };
}

/** Values that may replace spec fields for one run (the CLI flags). */
export interface SpecOverrides {
  /** Replaces `model`. */
  model?: unknown;
  /** Sets `frames.count`, or keeps the first N explicit frames / path times. */
  frames?: unknown;
  /** Replaces `steps`. */
  steps?: unknown;
  /** Replaces `batch`. */
  batch?: unknown;
  /** Replaces `seed`, or the spec's `seeds` (the run becomes a single-seed run of that seed). */
  seed?: unknown;
  /**
   * Replaces `seeds`, or the spec's `seed` (the run becomes a multi-seed run): a list or range
   * as in a spec, or the text of `--seeds` (`0..7` inclusive, or `1,2,3`).
   */
  seeds?: unknown;
  /**
   * Fast preview: the number of DDIM steps (or `true` for {@link PREVIEW_STEPS}); injection
   * windows are scaled to the same fraction of the trajectory. Not the paper's setting.
   */
  preview?: unknown;
}

/** DDIM steps of `--preview` unless `--preview-steps` says otherwise. */
export const PREVIEW_STEPS = 50;

/** Recorded in a preview run's spec (and so its manifest): what was changed and from what. */
export interface PreviewInfo {
  /** Steps of the preview. */
  steps: number;
  /** Steps the spec asked for. */
  fromSteps: number;
  /** Always says that this is not the paper's setting. */
  note: string;
}

/**
 * Maps a 1-based inclusive window of `fromSteps` steps to the same fraction of `toSteps` steps
 * (at least one step): `[1, 10]` of 1000 becomes `[1, 1]` of 50, `[11, 20]` becomes `[2, 2]`.
 */
export function scaleWindow(
  window: readonly [number, number],
  fromSteps: number,
  toSteps: number,
): [number, number] {
  const r = toSteps / fromSteps;
  const first = Math.min(toSteps, Math.round((window[0] - 1) * r) + 1);
  const last = Math.max(first, Math.min(toSteps, Math.round(window[1] * r)));
  return [first, last];
}

/** Replacements for the checks that use other modules (tests). */
export interface ResolveHooks {
  /**
   * Builds the path, throwing on bad parameters; its `duration` bounds the frame times.
   * Default: `createPath` from `lib/paths`.
   */
  createPath?: (spec: PathSpec) => { duration: number };
}

/** A spec field that failed validation. The CLI prints it and exits with code 2. */
export class SpecError extends Error {
  /** Dotted path of the field (`injection.window`, `frames.3.color`), or a CLI flag. */
  readonly field: string;
  /** The value found there (undefined when missing). */
  readonly value: unknown;
  /** What would have been accepted. */
  readonly allowed: string;

  /**
   * @param note where the value came from when not from the spec file, e.g. `set by --batch`
   */
  constructor(field: string, value: unknown, allowed: string, note?: string) {
    super(
      `invalid experiment spec: ${field} is ${describeValue(value)}${note ? ` (${note})` : ""}; ` +
        `allowed: ${allowed}`,
    );
    this.name = "SpecError";
    this.field = field;
    this.value = value;
    this.allowed = allowed;
  }
}

/**
 * Short JSON-ish rendering of a value for error messages. Unlike JSON, NaN and ±Infinity are
 * shown as such (JSON would print `null`, hiding the very mistake being reported).
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  let text: string;
  try {
    text = render(value, 0);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function render(value: unknown, depth: number): string {
  switch (typeof value) {
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "string":
      return JSON.stringify(value);
    case "undefined":
      return "undefined";
    case "boolean":
      return String(value);
    case "function":
    case "symbol":
      return `a ${typeof value}`;
  }
  if (value === null) return "null";
  if (depth > 4) return Array.isArray(value) ? "[...]" : "{...}";
  if (Array.isArray(value)) return `[${value.map((v) => render(v, depth + 1)).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${render(v, depth + 1)}`).join(",")}}`;
}

const SEEDS_ALLOWED = "a non-empty list of distinct seeds ([42, 43]) or a range { from, count } " +
  "({ from: 0, count: 8 } is 0 … 7), seeds from 0 to 2**64-1";
const COLOR_ALLOWED =
  'a colour: [r,g,b] in [0,1], [r,g,b] integers in 0–255, "#rrggbb", "#rgb" or "rgb(r,g,b)"';
const WINDOW_ALLOWED = "two integers [first, last] with 1 ≤ first ≤ last ≤ steps";
const FRAME_KEYS = ["t", "color", "injection", "label"];
const INJECTION_KEYS = ["scale", "window", "mode"];

/**
 * What each field accepts, by field pattern (`*` = any list index). Used for the `allowed` part
 * of errors so that the message reads the same whatever zod's wording for the failure.
 */
const ALLOWED: Record<string, string> = {
  name: 'a slug: lowercase letters, digits, "-" and "_", starting with a letter or digit',
  description: "a string",
  model: 'a hub id (owner/name), a converted model folder, or "tiny"',
  seed: "an integer from 0 to 2**64-1 (a number up to 2**53-1, or a decimal string)",
  seeds: SEEDS_ALLOWED,
  "seeds.*": "an integer from 0 to 2**64-1 (a number up to 2**53-1, or a decimal string)",
  "seeds.from": "an integer from 0 to 2**64-1 (a number up to 2**53-1, or a decimal string)",
  "seeds.count": `an integer from 1 to ${MAX_GRID_FRAMES}`,
  steps: `an integer from 1 to ${MAX_STEPS}`,
  latentScale: "a number > 0",
  batch: 'an integer from 1 to 256, or "auto"',
  injection: "an object { scale?, window?, mode? }",
  "injection.scale": "a finite number (the paper: 0.01; 0 = no injection)",
  "injection.window": WINDOW_ALLOWED,
  "injection.window.*": WINDOW_ALLOWED,
  "injection.mode": '"constant" or "gaussian"',
  path: `an object { type, ...params } with type one of ${PATH_TYPES.join(", ")}`,
  "path.type": `one of ${PATH_TYPES.join(", ")}`,
  frames:
    "{ count, sampling? }, { t: [times] }, or a non-empty list of { t?, color?, injection?, " +
    "label? }",
  "frames.count": `an integer from 1 to ${MAX_FRAMES}`,
  "frames.sampling": '"time" or "arcLength"',
  "frames.t": "a non-empty list of times on the path",
  "frames.t.*": "a finite number within the path's duration",
  "frames.*":
    "an object { t?, color?, injection?, label? } with a color, or a t on the spec's path",
  "frames.*.t": "a finite number within the path's duration",
  "frames.*.color": COLOR_ALLOWED,
  "frames.*.color.*": COLOR_ALLOWED,
  "frames.*.label": "a string",
  "frames.*.injection": "an object { scale?, window?, mode? }",
  "frames.*.injection.scale": "a finite number",
  "frames.*.injection.window": WINDOW_ALLOWED,
  "frames.*.injection.window.*": WINDOW_ALLOWED,
  "frames.*.injection.mode": '"constant" or "gaussian"',
  outputs: "an object { frames?, contactSheet?, pathPlot?, video?, identity? }",
  "outputs.frames": "true (frames are the resume cache and are always written)",
  "outputs.contactSheet": "true, false, or { columns?, maxFrames?, tileSize? }",
  "outputs.contactSheet.tileSize": "an integer from 8 to 1024 (pixels)",
  "outputs.contactSheet.columns": "an integer ≥ 1",
  "outputs.contactSheet.maxFrames": "an integer ≥ 1",
  "outputs.pathPlot": "true or false",
  "outputs.identity": "true or false (face-descriptor identity numbers; default true)",
  "outputs.video": 'false, or { fps?, formats? } with formats from "mp4", "gif"',
  "outputs.video.fps": "a number from 1 to 120",
  "outputs.video.formats": 'a non-empty list of "mp4", "gif"',
  "outputs.video.formats.*": '"mp4" or "gif"',
};

/** The top-level fields of a spec, in the order they are usually written. */
export const SPEC_FIELDS: readonly string[] = [
  "name",
  "description",
  "model",
  "seed",
  "seeds",
  "steps",
  "latentScale",
  "injection",
  "path",
  "frames",
  "batch",
  "outputs",
];

/** The fields that exist at each object pattern, for "unknown field" errors. */
const KNOWN_KEYS: Record<string, readonly string[]> = {
  "": SPEC_FIELDS,
  injection: INJECTION_KEYS,
  seeds: ["from", "count"],
  frames: ["count", "sampling", "t"],
  "frames.*": FRAME_KEYS,
  "frames.*.injection": INJECTION_KEYS,
  outputs: ["frames", "contactSheet", "pathPlot", "video", "identity"],
  "outputs.contactSheet": ["columns", "maxFrames", "tileSize"],
  "outputs.video": ["fps", "formats"],
};

const finite = z.number().refine(Number.isFinite);
const int = z.number().int();

const seedSchema = z.union([z.number(), z.string(), z.bigint()]).transform((v, ctx) => {
  let n: bigint;
  try {
    if (typeof v === "number" && !Number.isSafeInteger(v)) throw new RangeError();
    if (typeof v === "string" && !/^\d+$/.test(v.trim())) throw new RangeError();
    n = BigInt(typeof v === "string" ? v.trim() : v);
  } catch {
    ctx.issues.push({ code: "custom", message: ALLOWED.seed, input: v });
    return z.NEVER;
  }
  if (n < 0n || n > MAX_SEED) {
    ctx.issues.push({ code: "custom", message: ALLOWED.seed, input: v });
    return z.NEVER;
  }
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
});

const seedsSchema = z.union([
  z.array(seedSchema),
  z.strictObject({ from: seedSchema, count: int.min(1).max(MAX_GRID_FRAMES) }),
]);

const colorSchema = z.union([z.tuple([z.number(), z.number(), z.number()]), z.string()])
  .transform((v, ctx): Rgb => {
    try {
      return parseColor(v);
    } catch (e) {
      // ColorError says what is wrong in the middle of its message: keep just that part.
      const problem = /^invalid colour .*?: (.*) \(accepted/.exec((e as Error).message)?.[1];
      ctx.issues.push({
        code: "custom",
        message: problem ? `${COLOR_ALLOWED} (here: ${problem})` : COLOR_ALLOWED,
        input: v,
      });
      return z.NEVER;
    }
  });

const windowSchema = z.tuple([int, int]);
const modeSchema = z.enum(["constant", "gaussian"]);

const injectionSchema = z.strictObject({
  scale: finite.default(0.01),
  window: windowSchema.default([1, 10]),
  mode: modeSchema.default("constant"),
});

const injectionOverrideSchema = z.strictObject({
  scale: finite.optional(),
  window: windowSchema.optional(),
  mode: modeSchema.optional(),
});

const pathSchema = z.looseObject({ type: z.enum(PATH_TYPES) });

const framesCountSchema = z.strictObject({
  count: int.min(1).max(MAX_FRAMES),
  sampling: z.enum(["time", "arcLength"]).default("time"),
});
const framesAtSchema = z.strictObject({ t: z.array(finite).min(1) });
const explicitFrameSchema = z.strictObject({
  t: finite.optional(),
  color: colorSchema.optional(),
  injection: injectionOverrideSchema.optional(),
  label: z.string().optional(),
});
const framesListSchema = z.array(explicitFrameSchema).min(1);

const outputsSchema = z.strictObject({
  frames: z.literal(true).default(true),
  contactSheet: z.union([
    z.boolean(),
    z.strictObject({
      columns: int.min(1).optional(),
      maxFrames: int.min(1).optional(),
      tileSize: int.min(8).max(1024).optional(),
    }),
  ]).default(true).transform((v) => (v === true ? {} : v)),
  pathPlot: z.boolean().default(true),
  identity: z.boolean().optional(),
  video: z.union([
    z.literal(false),
    z.strictObject({
      fps: z.number().min(1).max(120).default(30),
      formats: z.array(z.enum(["mp4", "gif"])).min(1).default(["mp4", "gif"]),
    }),
  ]).prefault({}),
});

/** The spec without `frames`, whose three forms are checked by {@link framesSchemaFor}. */
const baseSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
  description: z.string().optional(),
  model: z.string().trim().min(1),
  seed: seedSchema.optional(),
  seeds: seedsSchema.optional(),
  steps: int.min(1).max(MAX_STEPS).default(MAX_STEPS),
  latentScale: z.number().gt(0).refine(Number.isFinite).optional(),
  injection: injectionSchema.prefault({}),
  path: pathSchema.optional(),
  frames: z.unknown(),
  batch: z.union([int.min(1).max(256), z.literal("auto")]).default("auto"),
  // Present only in an already resolved preview spec (re-resolved by the runner).
  preview: z.strictObject({ steps: int.min(1), fromSteps: int.min(1), note: z.string() })
    .optional(),
  outputs: outputsSchema.prefault({}),
});

/** Picks the frames form by shape, so errors speak about the form the author meant. */
function framesSchemaFor(value: unknown) {
  if (Array.isArray(value)) return framesListSchema;
  if (value && typeof value === "object" && "t" in value) return framesAtSchema;
  return framesCountSchema;
}

/**
 * Declares an experiment. Returns the spec unchanged (checked by the type system now, by
 * {@link resolveExperiment} when run), so that a spec file can be imported without side effects.
 */
export function defineExperiment<const T extends ExperimentInput>(spec: T): T {
  return spec;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function pattern(path: readonly PropertyKey[]): string {
  return path.map((k) => (typeof k === "number" ? "*" : String(k))).join(".");
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join(".");
}

/**
 * For a union (`video: false | {...}`), the branch whose shape matched got further into the
 * value: its issue says more than "invalid input".
 */
function deepestIssue(issue: z.core.$ZodIssue): { issue: z.core.$ZodIssue; path: PropertyKey[] } {
  if (issue.code !== "invalid_union") return { issue, path: [...issue.path] };
  let best: { issue: z.core.$ZodIssue; path: PropertyKey[] } | undefined;
  for (const branch of issue.errors) {
    if (branch.length === 0 || branch[0].path.length === 0) continue;
    const inner = deepestIssue(branch[0]);
    if (!best || inner.path.length > best.path.length) best = inner;
  }
  return best
    ? { issue: best.issue, path: [...issue.path, ...best.path] }
    : { issue, path: [...issue.path] };
}

function issueToError(
  zodIssue: z.core.$ZodIssue,
  prefix: PropertyKey[],
  root: unknown,
  sources: Record<string, string>,
): SpecError {
  const { issue, path: issuePath } = deepestIssue(zodIssue);
  const path = [...prefix, ...issuePath];
  if (issue.code === "unrecognized_keys") {
    const field = [...path, issue.keys[0]];
    const known = KNOWN_KEYS[pattern(path)];
    return new SpecError(
      dotted(field),
      valueAt(root, field),
      `no such field${known ? `; fields here: ${known.join(", ")}` : ""}`,
    );
  }
  const field = dotted(path);
  const allowed = issue.code === "custom" ? issue.message : ALLOWED[pattern(path)] ?? issue.message;
  return new SpecError(
    field,
    valueAt(root, path),
    allowed,
    sources[field] && `set by ${sources[field]}`,
  );
}

function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: PropertyKey[],
  root: unknown,
  sources: Record<string, string>,
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw issueToError(result.error.issues[0], prefix, root, sources);
  return result.data;
}

function checkWindow(
  window: [number, number],
  steps: number,
  field: string,
  sources: Record<string, string>,
) {
  const [first, last] = window;
  if (first < 1 || last < first || last > steps) {
    throw new SpecError(
      field,
      window,
      `two integers [first, last] with 1 ≤ first ≤ last ≤ steps (${steps})`,
      sources.steps && `steps ${steps} set by ${sources.steps}`,
    );
  }
}

/**
 * Applies defaults and overrides to a spec and checks every field, including the rules that
 * span fields (windows against steps, path needed for sampled frames, frame times within the
 * path's duration, path parameters via `hooks.createPath`).
 *
 * @throws {SpecError} at the first bad field; nothing else is thrown for bad input.
 */
export function resolveExperiment(
  spec: unknown,
  overrides: SpecOverrides = {},
  hooks: ResolveHooks = {},
): ResolvedExperiment {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new SpecError("(spec)", spec, "an object made with defineExperiment({...})");
  }
  const input: Record<string, unknown> = { ...(spec as Record<string, unknown>) };
  const sources: Record<string, string> = {};
  for (const key of ["model", "steps", "batch"] as const) {
    if (overrides[key] !== undefined) {
      input[key] = overrides[key];
      sources[key] = `--${key}`;
    }
  }
  applySeedOverrides(input, overrides, sources);
  const base = parseOrThrow(baseSchema, input, [], input, sources);
  const seeding = resolveSeeds(base.seed, base.seeds, input, sources);
  const framesValue = input.frames;
  if (framesValue === undefined) throw new SpecError("frames", undefined, ALLOWED.frames);
  let frames = parseOrThrow(
    framesSchemaFor(framesValue),
    framesValue,
    ["frames"],
    input,
    sources,
  ) as ResolvedFrames;
  if (overrides.frames !== undefined) frames = overrideFrames(frames, overrides.frames);
  let steps = base.steps;
  let injection = base.injection as Injection;
  let preview: PreviewInfo | undefined = base.preview;
  if (preview !== undefined && overrides.preview !== undefined) {
    throw new SpecError(
      "preview",
      overrides.preview,
      "no --preview for a spec that is already a preview",
      "set by --preview",
    );
  }
  if (overrides.preview !== undefined && overrides.preview !== false) {
    if (overrides.steps !== undefined) {
      throw new SpecError(
        "steps",
        overrides.steps,
        "no --steps with --preview: use --preview-steps",
        "set by --steps",
      );
    }
    // The spec's own windows must fit its steps before they are scaled.
    checkWindow(injection.window, steps, "injection.window", sources);
    const to = overrides.preview === true ? Math.min(PREVIEW_STEPS, steps) : overrides.preview;
    if (typeof to !== "number" || !Number.isInteger(to) || to < 1 || to > steps) {
      throw new SpecError(
        "preview",
        to,
        `an integer from 1 to the spec's steps (${steps})`,
        "set by --preview-steps",
      );
    }
    preview = {
      steps: to,
      fromSteps: steps,
      note:
        `fast preview: ${to} steps with injection windows scaled from ${steps} steps; not the paper's setting`,
    };
    injection = { ...injection, window: scaleWindow(injection.window, steps, to) };
    if (Array.isArray(frames)) {
      frames = frames.map((frame) => {
        if (!frame.injection?.window) return frame;
        checkWindow(frame.injection.window, steps, "frames.*.injection.window", sources);
        return {
          ...frame,
          injection: { ...frame.injection, window: scaleWindow(frame.injection.window, steps, to) },
        };
      });
    }
    steps = to;
  }
  if (seeding.seeds) checkGridSize(seeding.seeds, frames, input, sources, overrides);

  const resolved: ResolvedExperiment = {
    name: base.name,
    ...(base.description !== undefined ? { description: base.description } : {}),
    model: base.model,
    ...seeding,
    steps,
    ...(base.latentScale !== undefined ? { latentScale: base.latentScale } : {}),
    injection,
    ...(base.path !== undefined ? { path: base.path as PathSpec } : {}),
    frames,
    batch: base.batch,
    ...(preview ? { preview } : {}),
    outputs: base.outputs as ResolvedExperiment["outputs"],
  };
  checkCrossFields(resolved, hooks, sources);
  return resolved;
}

/** What `--seeds` accepts, for messages. */
export const SEEDS_TEXT_ALLOWED =
  'a range "a..b" of seeds (inclusive: 0..7 is the 8 seeds 0 … 7) ' +
  'or a comma-separated list "1,2,3" of distinct seeds, each from 0 to 2**64-1';

/**
 * Parses the text of `--seeds`: `a..b` (inclusive) becomes `{ from: a, count: b - a + 1 }`,
 * `1,2,3` a list; the seeds stay decimal strings so that seeds above 2**53 keep every digit.
 *
 * @throws {SpecError} naming `seeds` for anything else (an empty list, a range that runs
 *   backwards, signs, fractions, hex).
 */
export function parseSeedsText(text: string): SeedsInput {
  const trimmed = text.trim();
  const range = /^(\d+)\s*\.\.\s*(\d+)$/.exec(trimmed);
  if (range) {
    const from = BigInt(range[1]);
    const to = BigInt(range[2]);
    if (to < from) {
      throw new SpecError(
        "seeds",
        text,
        `${SEEDS_TEXT_ALLOWED}; a range must not run backwards (${to} < ${from})`,
        "set by --seeds",
      );
    }
    // An absurd count stays a number for the count check to reject by name.
    return { from: range[1], count: Number(to - from + 1n) };
  }
  if (/^\d+(\s*,\s*\d+)*$/.test(trimmed)) return trimmed.split(",").map((s) => s.trim());
  throw new SpecError("seeds", text, SEEDS_TEXT_ALLOWED, "set by --seeds");
}

/**
 * `--seed` replaces the spec's seed or seeds (a single-seed run: one row of a grid spec, with
 * that row's content keys); `--seeds` replaces either with several (a multi-seed run).
 */
function applySeedOverrides(
  input: Record<string, unknown>,
  overrides: SpecOverrides,
  sources: Record<string, string>,
): void {
  if (overrides.seed !== undefined && overrides.seeds !== undefined) {
    throw new SpecError(
      "seeds",
      overrides.seeds,
      "either --seed (one seed) or --seeds (several), not both",
      "set by --seeds",
    );
  }
  if (overrides.seed !== undefined) {
    delete input.seeds;
    input.seed = overrides.seed;
    sources.seed = "--seed";
  }
  if (overrides.seeds !== undefined) {
    delete input.seed;
    const seeds = typeof overrides.seeds === "string"
      ? parseSeedsText(overrides.seeds)
      : overrides.seeds;
    input.seeds = seeds;
    sources.seeds = "--seeds";
    const parts = Array.isArray(seeds) ? seeds.map((_, i) => String(i)) : ["from", "count"];
    for (const part of parts) sources[`seeds.${part}`] = "--seeds";
  }
}

function normalisedSeed(n: bigint): number | string {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

/**
 * Exactly one of `seed` and `seeds`; a range expanded into its list; every seed distinct.
 * Returns the fields of the resolved spec.
 */
function resolveSeeds(
  seed: number | string | undefined,
  seeds: (number | string)[] | { from: number | string; count: number } | undefined,
  input: Record<string, unknown>,
  sources: Record<string, string>,
): { seed: number | string; seeds?: undefined } | { seeds: (number | string)[]; seed?: undefined } {
  const note = sources.seeds && `set by ${sources.seeds}`;
  if (seeds === undefined) {
    if (seed === undefined) {
      throw new SpecError(
        "seed",
        undefined,
        `${ALLOWED.seed}; or "seeds" (${SEEDS_ALLOWED}) for a multi-seed run`,
      );
    }
    return { seed };
  }
  if (seed !== undefined) {
    throw new SpecError(
      "seeds",
      input.seeds,
      `either "seed" (one seed) or "seeds" (several), not both: the spec also sets seed ` +
        describeValue(input.seed),
    );
  }
  let list: (number | string)[];
  if (Array.isArray(seeds)) {
    if (seeds.length === 0) {
      throw new SpecError("seeds", input.seeds, `${SEEDS_ALLOWED}; the list is empty`, note);
    }
    list = seeds;
  } else {
    const from = BigInt(seeds.from);
    if (from + BigInt(seeds.count) - 1n > MAX_SEED) {
      throw new SpecError(
        "seeds.count",
        seeds.count,
        `at most ${MAX_SEED - from + 1n}: the seeds from ${from} must end at 2**64-1 or below`,
        note,
      );
    }
    list = Array.from({ length: seeds.count }, (_, i) => normalisedSeed(from + BigInt(i)));
  }
  const first = new Map<string, number>();
  list.forEach((s, i) => {
    const decimal = String(s);
    const earlier = first.get(decimal);
    if (earlier !== undefined) {
      throw new SpecError(
        `seeds.${i}`,
        valueAt(input, ["seeds", i]),
        `distinct seeds: seed ${decimal} is given twice (also seeds.${earlier})`,
        note,
      );
    }
    first.set(decimal, i);
  });
  return { seeds: list };
}

/** Frames per seed: the path's samples, the listed times, or the listed frames. */
export function framesPerSeed(frames: ResolvedFrames): number {
  return Array.isArray(frames) ? frames.length : "t" in frames ? frames.t.length : frames.count;
}

function checkGridSize(
  seeds: readonly (number | string)[],
  frames: ResolvedFrames,
  input: Record<string, unknown>,
  sources: Record<string, string>,
  overrides: SpecOverrides,
): void {
  const perSeed = framesPerSeed(frames);
  const total = seeds.length * perSeed;
  if (total <= MAX_GRID_FRAMES) return;
  const notes = [
    sources.seeds && `seeds set by ${sources.seeds}`,
    overrides.frames !== undefined && "frames set by --frames",
  ].filter(Boolean);
  throw new SpecError(
    "seeds",
    // The text of --seeds as typed, rather than the range it was read as.
    typeof overrides.seeds === "string" ? overrides.seeds : input.seeds,
    `at most ${MAX_GRID_FRAMES} frames in a multi-seed run (seeds × frames); here ` +
      `${seeds.length} seeds × ${perSeed} frames = ${total}`,
    notes.length > 0 ? notes.join(", ") : undefined,
  );
}

/**
 * The seeds of a resolved spec as decimal strings, in run order: the one `seed` of a single-seed
 * run, or the `seeds` of a multi-seed run.
 */
export function runSeeds(spec: Pick<ResolvedExperiment, "seed" | "seeds">): string[] {
  if (spec.seeds !== undefined) return spec.seeds.map(String);
  if (spec.seed === undefined) throw new Error("internal error: a spec without seed or seeds");
  return [String(spec.seed)];
}

/** Whether a resolved spec is a multi-seed run (`seeds`, even of one seed). */
export function isMultiSeed(spec: Pick<ResolvedExperiment, "seeds">): boolean {
  return spec.seeds !== undefined;
}

function overrideFrames(frames: ResolvedFrames, value: unknown): ResolvedFrames {
  const n = value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_FRAMES) {
    throw new SpecError("frames", n, `an integer from 1 to ${MAX_FRAMES}`, "set by --frames");
  }
  if (Array.isArray(frames)) {
    if (n > frames.length) {
      throw new SpecError(
        "frames",
        n,
        `at most the ${frames.length} frames the spec lists (--frames keeps the first N)`,
        "set by --frames",
      );
    }
    return frames.slice(0, n);
  }
  if ("t" in frames) {
    if (n > frames.t.length) {
      throw new SpecError(
        "frames",
        n,
        `at most the ${frames.t.length} path times the spec lists (--frames keeps the first N)`,
        "set by --frames",
      );
    }
    return { t: frames.t.slice(0, n) };
  }
  return { ...frames, count: n };
}

function checkCrossFields(
  spec: ResolvedExperiment,
  hooks: ResolveHooks,
  sources: Record<string, string>,
) {
  checkWindow(spec.injection.window, spec.steps, "injection.window", sources);
  let duration = Infinity;
  if (spec.path) {
    try {
      duration = (hooks.createPath ?? createPath)(spec.path).duration;
    } catch (e) {
      // Path errors name the parameter as `<type>.<param>`: point at that field of the spec.
      const message = (e as Error).message;
      const param = new RegExp(`\\b${spec.path.type}\\.(\\w+)`).exec(message)?.[1] ??
        /unknown field "(\w+)"/.exec(message)?.[1];
      if (param !== undefined && param in spec.path) {
        throw new SpecError(
          `path.${param}`,
          (spec.path as Record<string, unknown>)[param],
          message,
        );
      }
      throw new SpecError("path", spec.path, message);
    }
  }
  const needPath = (field: string, value: unknown, why: string) => {
    if (!spec.path) throw new SpecError(field, value, `${why} needs a "path" in the spec`);
  };
  const checkTime = (t: number, field: string) => {
    if (t < 0 || t > duration) {
      throw new SpecError(field, t, `a time from 0 to the path's duration (${duration})`);
    }
  };
  const frames = spec.frames;
  if (Array.isArray(frames)) {
    frames.forEach((frame, i) => {
      const field = `frames.${i}`;
      if (frame.color === undefined) {
        if (frame.t === undefined) throw new SpecError(field, frame, ALLOWED["frames.*"]);
        needPath(`${field}.t`, frame.t, "a frame without a color");
      }
      if (frame.t !== undefined) checkTime(frame.t, `${field}.t`);
      if (frame.injection?.window) {
        checkWindow(frame.injection.window, spec.steps, `${field}.injection.window`, sources);
      }
    });
  } else if ("t" in frames) {
    needPath("frames.t", frames.t, "frames given as path times");
    frames.t.forEach((t, i) => checkTime(t, `frames.t.${i}`));
  } else {
    needPath("frames.count", frames.count, "frames sampled along a path");
  }
}
