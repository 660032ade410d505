import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CUDA_INSTALL_COMMAND,
  CUDA_PROVIDER_FILES,
  cudaProviderStatus,
  ortBinaryDir,
  ortPackageDir,
} from "./cuda.ts";

const WITH_CUDA = [{ name: "cpu", bundled: true }, { name: "cuda", bundled: false }];

/** The status on Linux x64 with a CUDA-built binding, for a package folder. */
function onLinux(packageDir: string) {
  return cudaProviderStatus({ platform: "linux", arch: "x64", packageDir, backends: WITH_CUDA });
}

/** A fake Deno node_modules layout: `.deno/onnxruntime-node@1.30.0/node_modules/onnxruntime-node`. */
async function fakePackage(
  options: { files?: readonly string[]; scriptsRun?: boolean } = {},
): Promise<{ root: string; packageDir: string; binDir: string }> {
  const root = await Deno.makeTempDir({ prefix: "fluidity-cuda-" });
  const state = join(root, ".deno", "onnxruntime-node@1.30.0");
  const packageDir = join(state, "node_modules", "onnxruntime-node");
  const binDir = join(packageDir, "bin", "napi-v6", "linux", "x64");
  await Deno.mkdir(binDir, { recursive: true });
  await Deno.writeTextFile(join(binDir, "libonnxruntime.so.1"), "");
  for (const f of options.files ?? []) await Deno.writeTextFile(join(binDir, f), "");
  await Deno.writeTextFile(join(state, ".scripts-warned"), "");
  if (options.scriptsRun) await Deno.writeTextFile(join(state, ".scripts-run"), "");
  return { root, packageDir, binDir };
}

Deno.test("the binary folder is where onnxruntime-node's binding and install script put it", () => {
  const dir = ortBinaryDir(ortPackageDir(), "linux", "x64");
  assert.match(dir, /onnxruntime-node[\\/]bin[\\/]napi-v6[\\/]linux[\\/]x64$/);
  // The folder the binding loads from (lib/binding.ts:58) holds the shipped libonnxruntime.
  Deno.statSync(join(dir, "libonnxruntime.so.1"));
  Deno.statSync(join(dir, "onnxruntime_binding.node"));
});

Deno.test("CUDA is available only when both provider libraries are in the binary folder", async () => {
  const both = await fakePackage({ files: CUDA_PROVIDER_FILES, scriptsRun: true });
  const onlyCuda = await fakePackage({ files: ["libonnxruntime_providers_cuda.so"] });
  try {
    const ok = onLinux(both.packageDir);
    assert.equal(ok.available, true, ok.reason);
    assert.equal(ok.libraryPath, join(both.binDir, "libonnxruntime_providers_cuda.so"));
    assert.equal(ok.installScript, "ran");

    const half = onLinux(onlyCuda.packageDir);
    assert.equal(half.available, false);
    assert.match(half.reason!, /libonnxruntime_providers_shared\.so/);
    assert.doesNotMatch(half.reason!, /missing [^;]*libonnxruntime_providers_cuda\.so/);
    assert.deepEqual(half.files.map((f) => f.present), [false, true]);
  } finally {
    await Deno.remove(both.root, { recursive: true });
    await Deno.remove(onlyCuda.root, { recursive: true });
  }
});

Deno.test("a missing provider names the install command, and the marker after a failed run", async () => {
  const never = await fakePackage();
  const failed = await fakePackage({ scriptsRun: true });
  try {
    const a = onLinux(never.packageDir);
    assert.equal(a.available, false);
    assert.equal(a.installScript, "not-run");
    assert.ok(a.reason!.includes(CUDA_INSTALL_COMMAND), a.reason);
    assert.doesNotMatch(a.reason!, /scripts-run/);
    // Not the ignored ONNXRUNTIME_NODE_INSTALL=cuda12 (install-utils.js:247-271).
    assert.doesNotMatch(a.reason!, /cuda12/);

    const b = onLinux(failed.packageDir);
    assert.equal(b.installScript, "ran");
    assert.ok(
      b.reason!.includes(join(failed.root, ".deno", "onnxruntime-node@1.30.0", ".scripts-run")),
      b.reason,
    );
    assert.ok(b.reason!.includes(CUDA_INSTALL_COMMAND));
  } finally {
    await Deno.remove(never.root, { recursive: true });
    await Deno.remove(failed.root, { recursive: true });
  }
});

Deno.test("only Linux x64 with a CUDA-built binding can have the provider", async () => {
  const pkg = await fakePackage({ files: CUDA_PROVIDER_FILES });
  try {
    for (const [platform, arch] of [["win32", "x64"], ["darwin", "arm64"], ["linux", "arm64"]]) {
      const s = cudaProviderStatus({
        platform,
        arch,
        packageDir: pkg.packageDir,
        backends: WITH_CUDA,
      });
      assert.equal(s.available, false);
      assert.match(s.reason!, new RegExp(`no CUDA provider for ${platform}/${arch}`));
    }
    const cpuOnly = cudaProviderStatus({
      platform: "linux",
      arch: "x64",
      packageDir: pkg.packageDir,
      backends: [{ name: "cpu", bundled: true }],
    });
    assert.equal(cpuOnly.available, false);
    assert.match(cpuOnly.reason!, /built without CUDA \(its backends: cpu\)/);
  } finally {
    await Deno.remove(pkg.root, { recursive: true });
  }
});

Deno.test("this machine's real onnxruntime-node: Deno layout found, CUDA compiled in", () => {
  const status = cudaProviderStatus();
  // deno.json's nodeModulesDir: the package sits in node_modules/.deno/onnxruntime-node@1.30.0.
  assert.notEqual(status.installScript, "unknown");
  if (Deno.build.os === "linux" && Deno.build.arch === "x86_64") {
    // lib/backend.ts:163 → the binding's own list: cuda is compiled in, its library fetched apart.
    assert.doesNotMatch(status.reason ?? "", /built without CUDA/);
  }
  if (status.available) {
    assert.ok(status.files.every((f) => f.present));
  } else {
    assert.match(status.reason!, /no CUDA provider for|deno install --allow-scripts/);
  }
});
