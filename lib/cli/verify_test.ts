import assert from "node:assert/strict";
import { join } from "node:path";
import { EXIT_INCOMPLETE, main } from "./verify.ts";
import { captureIo, gradientImage, writeTestRun } from "../compare/_test_util.ts";
import type { VerifyReport } from "../compare/verify.ts";
import { fakeDeps, quietWriter } from "../experiments/_fakes.ts";
import { InterruptedError } from "../experiments/interrupt.ts";
import { runExperiment } from "../experiments/runner.ts";

Deno.test("verify CLI: exit codes 0, 1 and 2; --json", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const manifest = await writeTestRun(tmp, [{ rgba: gradientImage(16, 16) }]);
    assert.equal(await main([tmp], captureIo().io), 0);

    const path = join(tmp, manifest.frames[0].file);
    const bytes = await Deno.readFile(path);
    bytes[bytes.length - 20] ^= 0xff;
    await Deno.writeFile(path, bytes);
    const json = captureIo();
    assert.equal(await main(["--json", tmp], json.io), 1);
    const report = JSON.parse(json.out.join("\n")) as VerifyReport;
    assert.equal(report.ok, false);
    assert.equal(report.corrupt[0].file, manifest.frames[0].file);

    const missing = captureIo();
    assert.equal(await main([join(tmp, "nope")], missing.io), 2);
    assert.match(missing.err.join(), /nope: no such run folder/);
    assert.equal(await main([], captureIo().io), 2);
    assert.equal(await main(["--what", tmp], captureIo().io), 2);

    await Deno.writeTextFile(join(tmp, "manifest.json"), "{");
    const corrupt = captureIo();
    assert.equal(await main([tmp], corrupt.io), 1);
    assert.match(corrupt.err.join(), /manifest\.json is damaged \(not valid JSON/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

const runnerSpec = {
  name: "verify-test",
  model: "tiny",
  seed: 3,
  steps: 12,
  path: { type: "linear" },
  frames: { count: 6 },
  batch: 2,
};

/** A real run (fake model) into `out`; `stopOnCall` aborts it like SIGINT at that sampler call. */
async function render(out: string, frames: number, stopOnCall?: number) {
  const controller = new AbortController();
  const { deps } = fakeDeps({
    beforeSample: (call) => call === stopOnCall && controller.abort(new InterruptedError("SIGINT")),
  });
  await runExperiment({ ...runnerSpec, frames: { count: frames } }, {
    out,
    deps,
    signal: controller.signal,
    log: () => {},
    progressWriter: quietWriter,
  }).catch((e) => {
    if (!(e instanceof InterruptedError)) throw e;
  });
}

Deno.test("verify CLI: an interrupted run exits 3 with a status line, never OK", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await render(tmp, 6, 2);
    const io = captureIo();
    assert.equal(await main([tmp], io.io), EXIT_INCOMPLETE);
    const text = io.out.join("\n");
    assert.match(text, /^status: interrupted: the run did not finish; the manifest lists the 2 /m);
    assert.match(
      text,
      /^INCOMPLETE: run status "interrupted"; the 2 file\(s\) listed so far are intact$/m,
    );
    assert.doesNotMatch(text, /^OK/m);
    const json = captureIo();
    assert.equal(await main(["--json", tmp], json.io), 3);
    const report = JSON.parse(json.out.join("\n")) as VerifyReport;
    assert.deepEqual([report.ok, report.verdict, report.status], [
      false,
      "incomplete",
      "interrupted",
    ]);
    // Resuming finishes it, and then it verifies.
    await render(tmp, 6);
    assert.equal(await main([tmp], captureIo().io), 0);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("verify CLI: PNGs left by re-running fewer frames into a folder are a warning, exit 0", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await render(tmp, 6);
    // 3 frames sample the path at t = 0, 0.5, 1: of the 6 earlier frames (t = 0, 0.2, …, 1)
    // only the two ends are reused, 4 PNGs are left over.
    await render(tmp, 3);
    const io = captureIo();
    assert.equal(await main([tmp], io.io), 0, io.out.join("\n"));
    const text = io.out.join("\n");
    assert.equal(
      text.match(/^warning: frames\/[0-9a-f]{64}\.png is not in the manifest/gm)?.length,
      4,
    );
    assert.match(text, /^OK: all 3 file\(s\) intact, 4 warning\(s\)$/m);
    const json = captureIo();
    assert.equal(await main(["--json", tmp], json.io), 0);
    assert.equal((JSON.parse(json.out.join("\n")) as VerifyReport).extra.length, 4);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
