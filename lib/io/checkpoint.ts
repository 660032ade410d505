/**
 * One entry point for model weights whatever their container: safetensors or a torch zip
 * checkpoint, chosen by file extension, plus the lookup of a diffusers component's weights file.
 *
 * @module
 */

import { parseSafetensors } from "./safetensors.ts";
import type { RawTensor } from "./tensor.ts";
import { parseTorchCheckpoint } from "./torch_checkpoint.ts";

/** Extensions of torch zip checkpoints (`torch.save` output). */
export const TORCH_EXTENSIONS: readonly string[] = [".bin", ".pt", ".pth", ".ckpt"];

/** Extension of safetensors files. */
export const SAFETENSORS_EXTENSION = ".safetensors";

/** Weights file names of a diffusers component, most preferred first. */
export const WEIGHTS_FILE_NAMES: readonly string[] = [
  "diffusion_pytorch_model.safetensors",
  "diffusion_pytorch_model.bin",
];

function extensionOf(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot).toLowerCase();
}

/**
 * Loads every tensor of a weights file, by extension: `.safetensors`, or a torch zip checkpoint
 * (`.bin`, `.pt`, `.pth`, `.ckpt`). Tensors are views into the file's bytes where possible.
 *
 * @throws {Error} for an unknown extension, naming the ones supported; otherwise the reader's
 *   own error (SafetensorsError, ZipError, PickleError, TorchCheckpointError).
 */
export async function loadCheckpoint(path: string): Promise<Map<string, RawTensor>> {
  // The name is checked before anything is read: an unknown file is refused without loading it.
  checkpointFormat(path);
  return parseCheckpoint(await Deno.readFile(path), path);
}

/**
 * Parses a checkpoint already read into memory, by the file name's extension. Tensors are views
 * into `bytes`: callers that also hash the file read it once and pass the same bytes here.
 */
export function parseCheckpoint(bytes: Uint8Array, path: string): Map<string, RawTensor> {
  return checkpointFormat(path) === "safetensors"
    ? parseSafetensors(bytes, path).tensors
    : parseTorchCheckpoint(bytes, path);
}

function checkpointFormat(path: string): "safetensors" | "torch" {
  const ext = extensionOf(path);
  if (ext === SAFETENSORS_EXTENSION) return "safetensors";
  if (TORCH_EXTENSIONS.includes(ext)) return "torch";
  throw new Error(
    `${path}: unknown weights file extension "${ext}" (supported: ${
      [SAFETENSORS_EXTENSION, ...TORCH_EXTENSIONS].join(", ")
    })`,
  );
}

/**
 * The weights file of a diffusers component folder (such as `unet/` or `vqvae/`), preferring
 * safetensors over a torch `.bin`.
 *
 * @throws {Error} listing the file names looked for and what the folder holds, if none exists.
 */
export async function findWeightsFile(componentDir: string): Promise<string> {
  const dir = componentDir.replace(/\/+$/, "") || "/";
  for (const name of WEIGHTS_FILE_NAMES) {
    const path = `${dir}/${name}`;
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  let contents: string;
  try {
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    contents = names.length ? `it holds: ${names.sort().join(", ")}` : "it is empty";
  } catch (e) {
    contents = e instanceof Deno.errors.NotFound
      ? "the folder does not exist"
      : `${(e as Error).message}`;
  }
  throw new Error(
    `${dir}: no weights file; looked for ${WEIGHTS_FILE_NAMES.join(", ")} (${contents})`,
  );
}
