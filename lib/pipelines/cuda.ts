/**
 * Whether onnxruntime-node can use the CUDA execution provider here, and how to install it.
 *
 * What onnxruntime-node 1.30 does (file:line of the npm package, `node_modules/.deno/
 * onnxruntime-node@1.30.0/node_modules/onnxruntime-node/`):
 * - The npm package ships no CUDA provider; its `postinstall` script (`package.json:21`,
 *   `node ./script/install`) fetches it. On Linux x64 it does so by default:
 *   `script/install-metadata.js:13` lists `'linux/x64': ['cuda12']`, every other platform `[]`.
 *   The binding itself says the same: `listSupportedBackends()` reports `cuda` with
 *   `bundled: false` (`lib/backend.ts:163`), and the package README's platform table marks CUDA
 *   for Linux x64 only (`README.md:32`).
 * - It downloads the NuGet package `Microsoft.ML.OnnxRuntime.Gpu.Linux` 1.30.0 from
 *   `https://api.nuget.org/v3/index.json` (`install-metadata.js:41-49`,
 *   `install-metadata-versions.js:7`, `install-utils.js:111-199`) and copies
 *   `libonnxruntime_providers_cuda.so`, `libonnxruntime_providers_shared.so` and
 *   `libonnxruntime_providers_tensorrt.so` into `bin/napi-v6/linux/x64/`, next to
 *   `libonnxruntime.so.1` (`install-metadata.js:20-33`, `install.js:95`, `install-utils.js:186`).
 *   onnxruntime loads provider libraries from the folder of `libonnxruntime.so`, so this is
 *   where they must be.
 * - `ONNXRUNTIME_NODE_INSTALL=cuda12` is not needed, and is in fact ignored: `parseInstallFlag`
 *   returns a value only for `true`/`1`/`ON` (force) and `skip` (`install-utils.js:247-271`, the
 *   `default:` branch returns nothing), so `cuda12` behaves like no flag, which on Linux x64
 *   means "fetch cuda12 unless the files are already there" (`install.js:82`, `121-132`).
 *   `ONNXRUNTIME_NODE_INSTALL=1` forces a fresh download; `skip` skips it.
 * - Deno runs the script only when allowed: `deno install --allow-scripts=npm:onnxruntime-node`.
 *   Deno records a run in `node_modules/.deno/onnxruntime-node@1.30.0/.scripts-run` even when
 *   the script failed (seen with Deno 2.9.6, the download made to fail), and then never runs
 *   it again: after a failed download that marker must be deleted before retrying.
 *
 * Without the provider, asking for `cuda` makes session creation fail (onnxruntime logs the
 * missing library to stderr) — there is no silent fallback — so we look for the files first and
 * give the usual case a clear message and no native log.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { arch as osArch, platform as osPlatform } from "node:os";
import * as ort from "onnxruntime-node";

/** The command that installs onnxruntime-node's CUDA provider in this project (Linux x64). */
export const CUDA_INSTALL_COMMAND = "deno install --allow-scripts=npm:onnxruntime-node";

/** How to install the CUDA provider, for error messages and the README. */
export const CUDA_INSTALL_HINT =
  `install onnxruntime-node's CUDA provider with \`${CUDA_INSTALL_COMMAND}\` (runs ` +
  "onnxruntime-node's install script, which on Linux x64 downloads it from NuGet into " +
  "node_modules/.deno/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/bin/napi-v6/linux/x64); " +
  "it needs an NVIDIA GPU with CUDA 12 and cuDNN 9 libraries on the library path";

/**
 * The libraries the CUDA provider needs beside `libonnxruntime.so.1`: the shared provider
 * bridge, loaded first, and the provider itself (`install-metadata.js:21-28`).
 */
export const CUDA_PROVIDER_FILES = [
  "libonnxruntime_providers_shared.so",
  "libonnxruntime_providers_cuda.so",
] as const;

/** Outcome of {@link cudaProviderStatus}. */
export interface CudaProviderStatus {
  /** Whether the provider libraries are present (they may still fail to load CUDA itself). */
  available: boolean;
  /** Why not, when not available, including what to do about it. */
  reason?: string;
  /** The CUDA provider library, where onnxruntime-node loads it from. */
  libraryPath: string;
  /** Every library the provider needs, and whether it is there. */
  files: { path: string; present: boolean }[];
  /**
   * Whether Deno ran onnxruntime-node's install script (`ran`), never ran it (`not-run`), or
   * the package is not in a Deno `node_modules` folder (`unknown`).
   */
  installScript: "ran" | "not-run" | "unknown";
}

/** Where to look; every field defaults to this machine and this project's onnxruntime-node. */
export interface CudaProbeOptions {
  /** `process.platform`-style name. */
  platform?: string;
  /** `process.arch`-style name. */
  arch?: string;
  /** onnxruntime-node's package folder (holding `bin/napi-v6`). */
  packageDir?: string;
  /** The backends the native binding was built with (`ort.listSupportedBackends()`). */
  backends?: readonly { name: string; bundled: boolean }[];
}

/** onnxruntime-node's package folder (the one holding `package.json` and `bin/`). */
export function ortPackageDir(): string {
  const index = fileURLToPath(import.meta.resolve("onnxruntime-node"));
  return join(dirname(index), "..");
}

/**
 * The folder holding onnxruntime-node's native binding and libraries, as `lib/binding.ts:58`
 * requires it and `script/install.js:95` installs into it.
 */
export function ortBinaryDir(
  packageDir: string = ortPackageDir(),
  platform: string = osPlatform(),
  arch: string = osArch(),
): string {
  return join(packageDir, "bin", "napi-v6", platform, arch);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Deno's record of the install script: `node_modules/.deno/<name>@<version>/.scripts-run`
 * (written after a run, even a failed one) and `.scripts-warned` (scripts were skipped).
 */
function installScriptState(packageDir: string): {
  state: CudaProviderStatus["installScript"];
  marker: string;
} {
  const folder = join(packageDir, "..", "..");
  const marker = join(folder, ".scripts-run");
  if (!/^onnxruntime-node@/.test(folder.split(/[\\/]/).filter(Boolean).pop() ?? "")) {
    return { state: "unknown", marker };
  }
  return { state: exists(marker) ? "ran" : "not-run", marker };
}

/**
 * Checks for onnxruntime-node's CUDA provider without loading it: the binding must have been
 * built with CUDA (only the Linux x64 one is) and both provider libraries must be present.
 */
export function cudaProviderStatus(options: CudaProbeOptions = {}): CudaProviderStatus {
  const platform: string = options.platform ?? osPlatform();
  const arch: string = options.arch ?? osArch();
  const packageDir = options.packageDir ?? ortPackageDir();
  const dir = ortBinaryDir(packageDir, platform, arch);
  const files = CUDA_PROVIDER_FILES.map((name) => {
    const path = join(dir, name);
    return { path, present: exists(path) };
  });
  const libraryPath = files[1].path;
  const script = installScriptState(packageDir);
  const base = { libraryPath, files, installScript: script.state };
  if (platform !== "linux" || arch !== "x64") {
    return {
      ...base,
      available: false,
      reason: `onnxruntime-node 1.30 has no CUDA provider for ${platform}/${arch} ` +
        "(its pre-built CUDA provider is for Linux x64 only)",
    };
  }
  const backends = options.backends ?? ort.listSupportedBackends();
  if (!backends.some((b) => b.name === "cuda")) {
    return {
      ...base,
      available: false,
      reason: `this onnxruntime-node binding was built without CUDA (its backends: ${
        backends.map((b) => b.name).join(", ")
      })`,
    };
  }
  const missing = files.filter((f) => !f.present).map((f) => basename(f.path));
  if (missing.length === 0) return { ...base, available: true };
  const what = `onnxruntime-node's CUDA provider is not installed (missing ${
    missing.join(" and ")
  } in ${dir})`;
  const advice = script.state === "ran"
    ? `; onnxruntime-node's install script already ran here without installing it (a failed ` +
      `download, or ONNXRUNTIME_NODE_INSTALL=skip), and Deno runs it only once: delete ` +
      `${script.marker}, then run \`${CUDA_INSTALL_COMMAND}\``
    : `; run \`${CUDA_INSTALL_COMMAND}\``;
  return { ...base, available: false, reason: what + advice };
}
