import assert from "node:assert/strict";
import { join } from "node:path";
import { cudaProviderStatus } from "../pipelines/cuda.ts";
import { parseBenchArgs } from "./bench.ts";

const CLI = new URL("./bench.ts", import.meta.url).pathname;

Deno.test("bench --small --runs 1 writes JSON with the documented keys", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bench-test-" });
  try {
    const json = join(dir, "bench.json");
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "--small", "--runs", "1", "--batches", "1,2", "--json", json],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.match(new TextDecoder().decode(stdout), /UNet step/);
    const r = JSON.parse(await Deno.readTextFile(json));
    assert.equal(r.mode, "small");
    assert.deepEqual(Object.keys(r.frameStepsPerSec), ["1", "2"]);
    for (const v of Object.values(r.frameStepsPerSec)) assert.ok((v as number) > 0);
    assert.deepEqual(r.unet.batches.map((b: { batch: number }) => b.batch), [1, 2]);
    for (const b of r.unet.batches) {
      assert.equal(b.runsMs.length, 1);
      assert.ok(b.msPerStep > 0 && b.gflops > 0 && b.ratioToMatmul > 0 && b.peakRssBytes > 0);
    }
    assert.ok(r.unet.flopsPerFrameStep > 0 && r.unet.parameters > 0);
    assert.ok(r.matmul.size === 2048 && r.matmul.gflops > 0);
    assert.ok(r.vqDecode.msPerImage > 0 && r.vqDecode.flopsPerImage > 0);
    assert.ok(r.samplerOverhead.steps > 0 && Number.isFinite(r.samplerOverhead.share));
    assert.ok(
      r.peakRssBytes >=
        Math.max(...r.unet.batches.map((b: { peakRssBytes: number }) => b.peakRssBytes)),
    );
    for (const key of ["cpu", "cores", "loadAverage", "deno", "onnxruntime"]) {
      assert.ok(key in r.machine, `machine.${key} missing`);
    }
    assert.equal(r.machine.onnxruntime, "1.30.0");
    assert.ok(r.fusedCpu.stepwiseMsPerStep > 0 && r.fusedCpu.fusedMsPerStep > 0);
    assert.match(new TextDecoder().decode(stdout), /fused loop on the CPU/);
    // The identity figure: the embedder's cost per frame at batch 1 and 8 (whatever --batches
    // says: those are the sampler's), in the JSON and, with the same values, in the printed line.
    assert.match(r.identity.embedder, /face_recognition_model/);
    assert.equal(r.identity.imageSize, 256);
    assert.deepEqual(r.identity.batches.map((b: { batch: number }) => b.batch), [1, 8]);
    for (const b of r.identity.batches) {
      assert.equal(b.runsMs.length, 1);
      assert.ok(b.msPerImage > 0, `batch ${b.batch}: ${b.msPerImage} ms/image`);
      assert.ok(Math.abs(b.msPerImage - b.msPerCall / b.batch) < 1e-9);
    }
    const [one, eight] = r.identity.batches;
    assert.ok(
      new TextDecoder().decode(stdout).includes(
        `256×256, CPU): ${one.msPerImage.toFixed(1)} ms/image at batch 1, ` +
          `${eight.msPerImage.toFixed(1)} ms/image at batch 8`,
      ),
      "the printed face embedding line",
    );
    const cuda = cudaProviderStatus();
    if (!cuda.available) {
      assert.deepEqual(r.gpu, { available: false, reason: cuda.reason });
      assert.ok(new TextDecoder().decode(stdout).includes(`GPU: not available (${cuda.reason})`));
    } else if (r.gpu.available) {
      assert.deepEqual(r.gpu.fp16.map((b: { batch: number }) => b.batch), [1, 2]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench arguments are parsed and bad values named", () => {
  const o = parseBenchArgs(["--small", "--batches", "1,4", "--runs", "3", "--json", "x.json"]);
  assert.deepEqual(
    [o.small, o.batches, o.runs, o.json, o.help],
    [true, [1, 4], 3, "x.json", false],
  );
  assert.throws(() => parseBenchArgs(["--batches", "1,0"]), /--batches: .*"0"/);
  assert.throws(() => parseBenchArgs(["--runs", "two"]), /--runs: .*"two"/);
  assert.throws(() => parseBenchArgs(["--attention", "flash"]), /--attention: .*"flash"/);
});

/** Pids of the processes whose command line mentions `text` (Linux: read from /proc). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).includes(text)) {
        pids.push(Number(entry.name));
      }
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function waitUntil(what: string, ready: () => boolean, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name:
    "bench stopped by SIGINT or SIGTERM kills its worker, removes its temporary models, exits 130/143",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // `kill -INT PID`, `kill PID`, and Ctrl-C in a terminal, which signals the whole process
    // group (the worker too): the bench runs in a session of its own, through setsid.
    const cases = [["SIGINT", 130, false], ["SIGTERM", 143, false], ["SIGINT", 130, true]] as const;
    for (const [signal, exitCode, group] of cases) {
      // The temporary folder is made under $TMPDIR: a folder of the test's own.
      const root = await Deno.makeTempDir({ prefix: "bench-signal-" });
      try {
        const command = [
          Deno.execPath(),
          "run",
          "-A",
          CLI,
          "--small",
          "--runs",
          "1",
          "--batches",
          "1",
        ];
        if (group) command.unshift("setsid");
        const child = new Deno.Command(command[0], {
          args: command.slice(1),
          env: { TMPDIR: root },
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const output = child.output();
        // Stop it while a measuring child runs on the models it wrote (where the time goes).
        await waitUntil("a benchmark worker", () => processesMentioning(root).length > 0);
        // (onnxruntime itself leaves empty mat-debug-<pid>.log files in the temp folder.)
        const benchDirs = () =>
          [...Deno.readDirSync(root)].filter((e) => e.name.startsWith("fluidity-bench-"));
        const models = benchDirs().map((e) => join(root, e.name));
        assert.equal(models.length, 1);
        assert.ok(Deno.statSync(join(models[0], "unet.onnx")).isFile);
        if (group) Deno.kill(-child.pid, signal);
        else child.kill(signal);
        const { code, stderr } = await output;
        const text = new TextDecoder().decode(stderr);
        const label = `${signal}${group ? " to the process group" : ""}`;
        assert.deepEqual(benchDirs(), [], `${label}: temporary models left behind`);
        assert.deepEqual(processesMentioning(root), [], `${label}: worker left running`);
        assert.equal(code, exitCode, `${label}: ${text}`);
        assert.match(text, new RegExp(`bench: stopped: interrupted by ${signal}`));
      } finally {
        // A worker orphaned by a failure of this test would still be writing there.
        for (const pid of processesMentioning(root)) Deno.kill(pid, "SIGKILL");
        await waitUntil("orphaned workers to exit", () => processesMentioning(root).length === 0);
        await Deno.remove(root, { recursive: true });
      }
    }
  },
});
