import assert from "node:assert/strict";
import { join } from "node:path";
import { cudaProviderStatus, ortBinaryDir } from "../pipelines/cuda.ts";
import {
  formatGpuCheck,
  GPU_CHECK_EXIT,
  missingFromLdd,
  parseNvidiaSmi,
  runGpuCheck,
} from "./check.ts";

const NOT_INSTALLED = {
  available: false,
  reason: "onnxruntime-node's CUDA provider is not installed (missing x.so in /nowhere); run `y`",
  libraryPath: "/nowhere/libonnxruntime_providers_cuda.so",
  files: [{ path: "/nowhere/libonnxruntime_providers_cuda.so", present: false }],
  installScript: "not-run" as const,
};

Deno.test("provider not found: exit code 3, the reason and the install command, nothing run", async () => {
  const workDir = await Deno.makeTempDir({ prefix: "fluidity-gpu-check-test-" });
  try {
    const report = await runGpuCheck({
      device: "cuda",
      workDir,
      progress: false,
      log: () => {},
      providerStatus: NOT_INSTALLED,
    });
    assert.equal(report.status, "provider-not-found");
    assert.equal(report.exitCode, GPU_CHECK_EXIT.providerNotFound);
    assert.equal(report.exitCode, 3);
    assert.deepEqual(report.models, []);
    assert.deepEqual([...Deno.readDirSync(workDir)], [], "no model was built");
    const text = formatGpuCheck(report);
    assert.ok(text.startsWith(`CUDA provider not found: ${NOT_INSTALLED.reason}`), text);
    assert.match(text, /install \(Linux x64\): deno install --allow-scripts=npm:onnxruntime-node/);
    assert.match(text, /deno task gpu-check --device cpu/);
    // The bug-report block is there even so, with the versions.
    assert.match(
      text,
      /----- fluidity gpu-check report .*-----\nstatus: provider-not-found \(exit 3\)/,
    );
    assert.match(text, /versions: deno \S+, onnxruntime-node 1\.30\.0/);
    // The static kernel check needs no GPU and still runs.
    assert.ok(report.kernels.signatures > 20);
    assert.deepEqual(report.kernels.uncovered, []);
  } finally {
    await Deno.remove(workDir, { recursive: true });
  }
});

Deno.test({
  name: "provider files claimed present but absent: onnxruntime's own load error, from its folder",
  ignore: cudaProviderStatus().available || Deno.build.os !== "linux" ||
    Deno.build.arch !== "x86_64",
  async fn() {
    const workDir = await Deno.makeTempDir({ prefix: "fluidity-gpu-check-test-" });
    try {
      const real = cudaProviderStatus();
      const report = await runGpuCheck({
        device: "cuda",
        workDir,
        progress: false,
        log: () => {},
        providerStatus: { ...real, available: true, reason: undefined },
      });
      assert.equal(report.exitCode, 3);
      assert.match(
        report.provider.reason!,
        /^the CUDA provider is installed but could not start: /,
      );
      // onnxruntime 1.30 really asks for the shared provider library first, in the folder
      // cuda.ts checks (provider_bridge_ort.cc: "Failed to load library <path> with error: …").
      const expected = join(ortBinaryDir(), "libonnxruntime_providers_shared.so");
      assert.ok(
        report.provider.reason!.includes(`Failed to load library ${expected}`),
        report.provider.reason,
      );
      assert.match(
        formatGpuCheck(report),
        /^CUDA provider not found: the CUDA provider is installed/,
      );
    } finally {
      await Deno.remove(workDir, { recursive: true });
    }
  },
});

Deno.test("CPU self-test on the tiny model: placement read, fp32 identical, fp16 within tolerance", async () => {
  const workDir = await Deno.makeTempDir({ prefix: "fluidity-gpu-check-test-" });
  try {
    const report = await runGpuCheck({
      device: "cpu",
      workDir,
      batches: [1],
      benchSteps: 2,
      compareSteps: 3,
      threads: 1,
      progress: false,
      log: () => {},
    });
    assert.deepEqual(report.problems, []);
    assert.equal(report.status, "ok");
    assert.equal(report.exitCode, 0);
    assert.deepEqual(report.models.map((m) => `${m.model} ${m.precision}`), [
      "tiny fp32",
      "tiny fp16",
    ]);
    for (const m of report.models) {
      for (const file of ["unet_loop.onnx", "unet.onnx", "vqvae_decoder.onnx"]) {
        const p = m.placement[file];
        assert.ok(p && !("error" in p), `${m.precision} ${file}: ${JSON.stringify(p)}`);
        assert.equal(p.onlyProvider, "CPUExecutionProvider");
        assert.ok(p.total > 100, `${file}: ${p.total} nodes`);
      }
      assert.deepEqual(Object.keys(m.comparisons), ["eps", "latents", "images"]);
    }
    const [fp32, fp16] = report.models;
    // Same graphs, same provider, same threads: the same numbers.
    for (const c of Object.values(fp32.comparisons)) assert.ok(c.maxRel <= 1e-6, `${c.maxRel}`);
    // fp16 really differs from the fp32 reference, and stays within its tolerance.
    for (const [key, c] of Object.entries(fp16.comparisons)) {
      assert.ok(c.maxRel > 0 && c.ok, `${key}: ${JSON.stringify(c)}`);
    }
    for (const t of report.throughput) {
      assert.equal(t.best?.batch, 1);
      assert.ok(t.best!.frameStepsPerSecond > 0);
      assert.ok(Math.abs(t.best!.msPer1000StepFrame * t.best!.frameStepsPerSecond - 1e6) < 1e-3);
    }
    const text = formatGpuCheck(report);
    assert.match(text, /^self-test on the CPU/);
    assert.match(text, /tiny fp16: ok; cpu nodes \(loop unet vq\) (\d+)\/\1 (\d+)\/\2 (\d+)\/\3/);
    assert.match(text, /throughput tiny fp32: best batch 1 /);
    // The models were built in the work folder given.
    assert.ok(Deno.statSync(join(workDir, "tiny-fp16", "unet_loop.onnx")).isFile);
  } finally {
    await Deno.remove(workDir, { recursive: true });
  }
});

Deno.test("ldd output: the libraries not found", async () => {
  const lib = join(ortBinaryDir(), "libonnxruntime.so.1");
  const real = await new Deno.Command("ldd", { args: [lib], stdout: "piped" }).output()
    .then((o) => new TextDecoder().decode(o.stdout), () => undefined);
  if (real !== undefined) {
    assert.match(real, /=>/);
    assert.deepEqual(missingFromLdd(real), []); // the shipped runtime loads here
  }
  const broken = `${real ?? ""}\n\tlibcublasLt.so.12 => not found\n\tlibcudnn.so.9 => not found\n`;
  assert.deepEqual(missingFromLdd(broken), ["libcublasLt.so.12", "libcudnn.so.9"]);
});

Deno.test("nvidia-smi: name, driver, memory and the CUDA version of its banner", () => {
  const gpu = parseNvidiaSmi(
    "NVIDIA A100-SXM4-40GB, 550.54.15, 40960 MiB\n",
    "| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4     |",
  );
  assert.deepEqual(gpu, {
    name: "NVIDIA A100-SXM4-40GB",
    driver: "550.54.15",
    memory: "40960 MiB",
    cuda: "12.4",
  });
  assert.equal(parseNvidiaSmi("\n"), undefined);
});
