/**
 * Whether onnxruntime-node can use the CUDA execution provider here, and how to install it.
 *
 * onnxruntime-node 1.30 does not ship the CUDA provider in its npm package: on Linux x64 its
 * install script (`script/install.js`, an npm `postinstall` script, which Deno runs only when
 * allowed) downloads `libonnxruntime_providers_cuda.so` from NuGet when
 * `ONNXRUNTIME_NODE_INSTALL=cuda12` is set. Without it, asking for `cuda` makes session creation
 * fail ("OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library", after
 * onnxruntime logs the missing file to stderr) — there is no silent fallback. We look for the
 * file first, so the usual case gets a clear message and no native log.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { arch, platform } from "node:os";

/** How to install the CUDA provider, for error messages and the README. */
export const CUDA_INSTALL_HINT =
  "install onnxruntime-node's CUDA provider with `ONNXRUNTIME_NODE_INSTALL=cuda12 deno install " +
  "--allow-scripts=npm:onnxruntime-node` (runs onnxruntime-node's install script, which " +
  "downloads it from NuGet); it needs an NVIDIA GPU with CUDA 12 and cuDNN 9 libraries on the " +
  "library path";

/** Outcome of {@link cudaProviderStatus}. */
export interface CudaProviderStatus {
  /** Whether the provider library is present (it may still fail to load its CUDA libraries). */
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
  /** Where onnxruntime-node looks for the provider library. */
  libraryPath: string;
}

/** The folder holding onnxruntime-node's native binding and libraries. */
export function ortBinaryDir(): string {
  const index = fileURLToPath(import.meta.resolve("onnxruntime-node"));
  return join(dirname(index), "..", "bin", "napi-v6", platform(), arch());
}

/**
 * Checks for onnxruntime-node's CUDA provider library without loading it. Only platforms where
 * onnxruntime-node can run CUDA (Linux and Windows x64) can be available.
 */
export function cudaProviderStatus(): CudaProviderStatus {
  const dir = ortBinaryDir();
  const file = platform() === "win32"
    ? "onnxruntime_providers_cuda.dll"
    : "libonnxruntime_providers_cuda.so";
  const libraryPath = join(dir, file);
  if (!(platform() === "linux" || platform() === "win32") || arch() !== "x64") {
    return {
      available: false,
      reason: `onnxruntime-node has no CUDA provider for ${platform()}/${arch()}`,
      libraryPath,
    };
  }
  try {
    Deno.statSync(libraryPath);
    return { available: true, libraryPath };
  } catch {
    return {
      available: false,
      reason: `onnxruntime-node's CUDA provider is not installed (${libraryPath} is missing)`,
      libraryPath,
    };
  }
}
