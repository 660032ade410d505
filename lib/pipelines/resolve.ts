/**
 * From what a user writes as `model` — `tiny`, a folder, or a hub id — to a converted model
 * folder. Conversions are cached under the models folder and redone only when the source files or
 * the converter changed.
 *
 * Several processes may ask for the same conversion at once (the shards of a run starting
 * together): a lock file beside the target (`<models>/.<name>.lock`) lets one convert while the
 * others wait and then find the folder up to date.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { convertDiffusers } from "../convert/convert.ts";

/** The bundled test checkpoint (random weights, same block types as the paper's model). */
export const TINY_SOURCE: string = fileURLToPath(
  new URL("../testdata/ldm-reference/tiny-ldm", import.meta.url),
);

/** Where converted models live: `$FLUIDITY_MODELS`, else `models/` at the project root. */
export function modelsDir(): string {
  return Deno.env.get("FLUIDITY_MODELS") ?? fileURLToPath(new URL("../../models", import.meta.url));
}

/** The folder name a hub id converts into: `CompVis/ldm-celebahq-256` → `ldm-celebahq-256`. */
export function modelFolderName(hubId: string): string {
  return hubId.split("@")[0].split("/").pop()!;
}

/** Options of {@link resolveModel}. */
export interface ResolveOptions {
  /** Converted models folder (default {@link modelsDir}). */
  modelsDir?: string;
  /** Receives progress lines of a conversion. */
  log?: (line: string) => void;
}

/** Raised when a model reference cannot be resolved; the message says what to run. */
export class ModelNotFoundError extends Error {
  /** Creates a ModelNotFoundError. */
  constructor(message: string) {
    super(message);
    this.name = "ModelNotFoundError";
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Converts `srcDir` into `outDir` unless it already holds an intact, current conversion of it. */
async function convertCached(
  srcDir: string,
  outDir: string,
  options: { latentScale?: number; sourceId: string; log?: (line: string) => void },
): Promise<string> {
  await convertDiffusers(srcDir, outDir, { ...options, reuse: true });
  return outDir;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Resolves a model reference to a converted model folder.
 *
 * - `tiny`: the bundled test checkpoint, converted into `<models>/tiny` on first use (latent
 *   scale 1.0, as for the paper's model).
 * - a folder with `model.json`: used as it is.
 * - a diffusers folder (`unet/config.json`): converted into `<models>/<folder name>`.
 * - a hub id (`CompVis/ldm-celebahq-256`): `<models>/<name>` as written by `deno task model:fetch`.
 *
 * @throws {ModelNotFoundError} with the command to run when nothing matches
 */
export async function resolveModel(spec: string, options: ResolveOptions = {}): Promise<string> {
  const root = options.modelsDir ?? modelsDir();
  if (spec === "tiny") {
    return await convertCached(TINY_SOURCE, join(root, "tiny"), {
      latentScale: 1,
      sourceId: "tiny (bundled test checkpoint, lib/testdata/ldm-reference/tiny-ldm)",
      log: options.log,
    });
  }
  if (await isDir(spec)) {
    if (await isFile(join(spec, "model.json"))) return resolve(spec);
    if (await isFile(join(spec, "unet", "config.json"))) {
      return await convertCached(spec, join(root, basename(resolve(spec))), {
        sourceId: resolve(spec),
        log: options.log,
      });
    }
    throw new ModelNotFoundError(
      `model folder ${spec} holds neither model.json (a converted model) nor unet/config.json ` +
        `(a diffusers checkpoint)`,
    );
  }
  if (/^[\w.-]+\/[\w.-]+(@[\w./-]+)?$/.test(spec)) {
    const dir = join(root, modelFolderName(spec));
    if (await isFile(join(dir, "model.json"))) return dir;
    throw new ModelNotFoundError(
      `model ${spec} is not downloaded yet: run \`deno task model:fetch ${spec}\` ` +
        `(or pass --model tiny to try the bundled test model)`,
    );
  }
  throw new ModelNotFoundError(
    `model ${JSON.stringify(spec)} is neither "tiny", an existing folder, nor a hub id like ` +
      `CompVis/ldm-celebahq-256`,
  );
}
