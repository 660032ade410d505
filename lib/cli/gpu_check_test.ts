import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cudaProviderStatus } from "../pipelines/cuda.ts";
import { PROJECT_ROOT, runDeno } from "../util/_test_process.ts";
import { parseGpuCheckArgs } from "./gpu_check.ts";

Deno.test("gpu-check arguments: defaults, and bad values name the field", () => {
  assert.deepEqual(parseGpuCheckArgs([]), {
    device: "cuda",
    full: undefined,
    batches: undefined,
    benchSteps: undefined,
    threads: undefined,
    json: false,
    help: false,
  });
  const a = parseGpuCheckArgs(["--device", "cpu", "--full", "--batches", "1, 4", "--json"]);
  assert.equal(a.device, "cpu");
  assert.equal(a.full, true);
  assert.deepEqual(a.batches, [1, 4]);
  assert.equal(parseGpuCheckArgs(["--tiny-only"]).full, false);
  assert.throws(
    () => parseGpuCheckArgs(["--device", "rocm"]),
    /--device: expected cuda or cpu, got "rocm"/,
  );
  assert.throws(
    () => parseGpuCheckArgs(["--batches", "0"]),
    /--batches: expected a positive integer, got "0"/,
  );
  assert.throws(() => parseGpuCheckArgs(["--tiny-only", "--full"]), /exclude each other/);
});

Deno.test("gpu-check: bad command line exits 2 naming the field", async () => {
  const out = await runDeno(["run", "-A", "lib/cli/gpu_check.ts", "--device", "tpu"]);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /--device: expected cuda or cpu, got "tpu"/);
  assert.equal(out.stdout, "");
});

Deno.test({
  name: "gpu-check without the CUDA provider: 'CUDA provider not found: <reason>', exit 3",
  ignore: cudaProviderStatus().available,
  async fn() {
    const out = await runDeno(["run", "-A", "lib/cli/gpu_check.ts"]);
    assert.equal(out.code, 3, out.stderr);
    assert.match(
      out.stdout,
      /^CUDA provider not found: .*deno install --allow-scripts=npm:onnxruntime-node/,
    );
    const json = await runDeno(["run", "-A", "lib/cli/gpu_check.ts", "--json"]);
    assert.equal(json.code, 3);
    const report = JSON.parse(json.stdout);
    assert.equal(report.status, "provider-not-found");
    assert.equal(report.provider.found, false);
    assert.equal(
      report.provider.installCommand,
      "deno install --allow-scripts=npm:onnxruntime-node",
    );
  },
});

Deno.test("gpu-check stopped by SIGINT removes its temporary models and exits 130", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/gpu_check.ts", "--device", "cpu"],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  let workDir: string | undefined;
  const decoder = new TextDecoder();
  const reader = child.stderr.getReader();
  while (workDir === undefined) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += decoder.decode(value);
    workDir = /building the tiny model \(fp32\) in (\S+)\/tiny-fp32/.exec(stderr)?.[1];
  }
  assert.ok(workDir, stderr);
  child.kill("SIGINT");
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      stderr += decoder.decode(value);
    }
  })();
  const status = await child.status;
  await rest;
  await child.stdout.cancel();
  assert.equal(status.code, 130, stderr);
  assert.match(stderr, /SIGINT: stopping, removing/);
  assert.equal(existsSync(workDir), false, `${workDir} is still there`);
});
