/**
 * When things go wrong inside a run folder (in-process, fake sampling): damaged frames and
 * manifests, interruption, locks, leftovers of killed runs, a full disk. Real processes (kill -9,
 * signals, two processes on one folder) are tested in `lib/cli/run_test.ts`.
 */

import assert from "node:assert/strict";
import { deadPid } from "../util/_test_process.ts";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { sha256File } from "../util/hash.ts";
import { fakeDeps, type FakeOptions, quietWriter } from "./_fakes.ts";
import { main } from "./cli.ts";
import { DiskFullError } from "./files.ts";
import { InterruptedError } from "./interrupt.ts";
import { acquireLock, readLock } from "../util/lock.ts";
import { type Manifest, MANIFEST_FILE } from "./manifest.ts";
import { LOCK_FILE, runExperiment, type RunOptions } from "./runner.ts";
import type { ExperimentInput } from "./spec.ts";
import { readReportData } from "../report/_read_report.ts";
import { REPORT_FILE } from "../report/write.ts";

const spec = {
  name: "robustness",
  model: "tiny",
  seed: 9,
  steps: 12,
  path: { type: "linear", from: [0, 0, 0], to: [1, 1, 0] },
  frames: { count: 6 },
  batch: 2,
} satisfies ExperimentInput;

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "robustness_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function run(out: string, fake: FakeOptions = {}, options: RunOptions = {}) {
  const { deps, log } = fakeDeps(fake);
  const messages: string[] = [];
  const result = runExperiment(spec, {
    out,
    deps,
    log: (m) => messages.push(m),
    progressWriter: quietWriter,
    ...options,
  });
  return { result, log, messages };
}

async function cli(args: string[], fake: FakeOptions = {}, signal?: AbortSignal) {
  const { deps, log } = fakeDeps(fake);
  const lines: string[] = [];
  const code = await main(spec, args, {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
    signal: signal ?? new AbortController().signal,
    runner: { deps, log: (l) => lines.push(l), progressWriter: quietWriter },
  });
  return { code, text: lines.join("\n"), log };
}

async function readDiskManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await Deno.readTextFile(join(dir, MANIFEST_FILE)));
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("a damaged frame PNG is not trusted: recomputed with a warning naming it", async () => {
  await withTempDir(async (dir) => {
    const first = (await run(dir).result).manifest;
    const damaged = join(dir, first.frames[2].file);
    const bytes = await Deno.readFile(damaged);
    await Deno.writeFile(damaged, bytes.subarray(0, bytes.length - 7)); // truncated
    const again = run(dir);
    const manifest = (await again.result).manifest;
    assert.deepEqual(again.log.samples.map((s) => s.colors), [[first.frames[2].color]]);
    const warning = `${damaged} (frame 2) does not have the SHA-256 recorded in the manifest ` +
      "(damaged or altered): recomputing it";
    assert.ok(again.messages.includes(`warning: ${warning}`));
    assert.ok(manifest.warnings.includes(warning));
    assert.equal(await sha256File(damaged), first.frames[2].sha256, "the file is whole again");
    assert.deepEqual(manifest.frames.map((f) => f.sha256), first.frames.map((f) => f.sha256));
  });
});

Deno.test("a damaged manifest.json: exit 1 naming the file and how to proceed; nothing touched", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "run");
    await run(dir).result;
    const path = join(dir, MANIFEST_FILE);
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, text.slice(0, text.length / 2));
    const before = names(join(dir, "frames"));
    const { code, text: out, log } = await cli(["--out", dir]);
    assert.equal(code, 1);
    assert.match(out, new RegExp(`^error: ${path} is damaged \\(not valid JSON`, "m"));
    assert.ok(out.includes(`move it away (mv ${path} ${path}.bad)`));
    assert.doesNotMatch(out, /^\s+at /m, "no stack trace");
    assert.equal(log.samples.length, 0);
    assert.equal(await Deno.readTextFile(path), text.slice(0, text.length / 2), "left as found");
    assert.deepEqual(names(join(dir, "frames")), before);
    assert.equal(await readLock(join(dir, LOCK_FILE)), undefined, "lock released");
    // Following the advice works.
    await Deno.rename(path, `${path}.bad`);
    assert.equal((await cli(["--out", dir])).code, 0);
  });
});

Deno.test("an abort drops the batch in flight, saves an 'interrupted' manifest, and resumes", async () => {
  await withTempDir(async (dir) => {
    const controller = new AbortController();
    const stopped = run(dir, {
      beforeSample: (call) => call === 2 && controller.abort(new InterruptedError("SIGTERM")),
    }, { signal: controller.signal });
    await assert.rejects(stopped.result, (e) => {
      assert.ok(e instanceof InterruptedError);
      assert.equal(e.exitCode, 143);
      assert.match(e.message, /interrupted by SIGTERM: 2 of 6 frame\(s\) are saved in .*resume/);
      return true;
    });
    const partial = await readDiskManifest(dir);
    assert.equal(partial.status, "interrupted");
    assert.deepEqual(partial.frames.map((f) => f.index), [0, 1]);
    assert.deepEqual(names(dir), ["frames", MANIFEST_FILE, REPORT_FILE], "no lock, no temp files");
    assert.equal(names(join(dir, "frames")).length, 2, "no frame of the dropped batch");
    // The report shows the interrupted run as saved.
    const report = await readReportData(dir);
    assert.equal(report.status, "interrupted");
    assert.deepEqual(report.frames.map((f) => f.index), [0, 1]);
    const resumed = run(dir);
    const manifest = (await resumed.result).manifest;
    assert.equal(manifest.status, "complete");
    assert.deepEqual(resumed.log.samples.map((s) => s.colors.length), [2, 2]);
  });
});

Deno.test("main: an interrupted run exits 130 (SIGINT) or 143 (SIGTERM)", async () => {
  await withTempDir(async (root) => {
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      const controller = new AbortController();
      const result = await cli(
        ["--out", join(root, signal)],
        { beforeSample: () => controller.abort(new InterruptedError(signal)) },
        controller.signal,
      );
      assert.equal(result.code, code);
      assert.match(result.text, new RegExp(`^stopped: interrupted by ${signal}: 0 of 6`, "m"));
      assert.equal((await readDiskManifest(join(root, signal))).status, "interrupted");
    }
  });
});

Deno.test("a folder in use: refused naming folder and holder; --wait waits; a stale lock is taken over", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "run");
    await Deno.mkdir(dir);
    const lock = await acquireLock(join(dir, LOCK_FILE), { purpose: "the other run" });
    const refused = await cli(["--out", dir]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.text,
      new RegExp(
        `^error: run folder ${dir} is in use by pid ${Deno.pid} on host .* \\(the other run\\): ` +
          "wait for it to finish or pass --wait to wait",
        "m",
      ),
    );
    assert.equal(refused.log.samples.length, 0);
    assert.equal((await readLock(join(dir, LOCK_FILE)))?.token, lock.holder.token, "lock kept");
    assert.ok(names(dir).every((n) => n === "frames" || n === LOCK_FILE), "nothing written");

    setTimeout(() => lock.release(), 150);
    const waited = await cli(["--out", dir, "--wait"]);
    assert.equal(waited.code, 0, waited.text);
    assert.match(waited.text, /waiting for run folder .* in use by pid/);

    const dead = await deadPid();
    const stale = { ...lock.holder, pid: dead, token: "old" };
    await Deno.writeTextFile(join(dir, LOCK_FILE), JSON.stringify(stale));
    const takeover = await cli(["--out", dir]);
    assert.equal(takeover.code, 0, takeover.text);
    assert.match(takeover.text, new RegExp(`taking over the stale lock .* of pid ${dead}`));
    assert.equal(await readLock(join(dir, LOCK_FILE)), undefined);
  });
});

Deno.test("temporary files left by a killed run are removed by the next run", async () => {
  await withTempDir(async (dir) => {
    await run(dir).result;
    await Deno.writeTextFile(join(dir, ".manifest.json.1a2b3c4d.tmp"), '{"half');
    await Deno.writeFile(
      join(dir, "frames", `.${"e".repeat(64)}.png.5e6f7a8b.tmp`),
      new Uint8Array(9),
    );
    const again = run(dir);
    await again.result;
    assert.ok(again.messages.some((m) => /removed 2 temporary file\(s\)/.test(m)));
    assert.ok(names(dir).every((n) => !n.endsWith(".tmp")));
    assert.ok(names(join(dir, "frames")).every((n) => !n.endsWith(".tmp")));
  });
});

Deno.test("a full disk: exit 1 naming the file and what to do; what was saved stays valid", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "run");
    let writes = 0;
    // The 6th write fails as on a full device (the real OS error where /dev/full exists).
    const writeFile = async (path: string, data: Uint8Array) => {
      if (++writes === 6) {
        if (Deno.build.os === "linux") await Deno.writeFile("/dev/full", data); // ENOSPC
        throw new Error("No space left on device (os error 28)");
      }
      await writeFileAtomic(path, data);
    };
    const failing = run(dir, {}, { writeFile });
    let kept = -1;
    await assert.rejects(failing.result, (e) => {
      assert.ok(e instanceof DiskFullError, String(e));
      const match = new RegExp(
        `^no space left on the device while writing ${dir}/frames/[0-9a-f]{64}\\.png: free ` +
          `some space \\(or choose another --out\\), then run the same command again: the (\\d+) ` +
          `finished frame\\(s\\) in ${dir} are kept`,
      ).exec(e.message);
      assert.ok(match, e.message);
      kept = Number(match[1]);
      return true;
    });
    const saved = await readDiskManifest(dir);
    assert.equal(saved.frames.length, kept, "the message counts what the manifest holds");
    assert.ok(kept >= 2);
    for (const frame of saved.frames) {
      assert.equal(await sha256File(join(dir, frame.file)), frame.sha256);
    }
    assert.ok(names(dir).every((n) => !n.endsWith(".tmp") && n !== LOCK_FILE));
    const resumed = run(dir);
    assert.equal((await resumed.result).manifest.summary!.reused, kept);
  });
});

/** Mounts a small tmpfs (needs root); null where that is not allowed. */
async function smallTmpfs(kilobytes: number): Promise<string | null> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return null;
  const dir = await Deno.makeTempDir({ prefix: "tmpfs_" });
  const { success } = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${kilobytes}k`, "tmpfs", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => ({ success: false }));
  if (!success) {
    await Deno.remove(dir);
    return null;
  }
  return dir;
}

Deno.test("a really full disk (small tmpfs, when root may mount one)", async (t) => {
  const mount = await smallTmpfs(96);
  if (!mount) {
    await t.step({ name: "mounting a tmpfs is not allowed here", ignore: true, fn: () => {} });
    return;
  }
  try {
    const dir = join(mount, "run");
    const { deps } = fakeDeps({ size: 96 });
    const lines: string[] = [];
    const code = await main({ ...spec, frames: { count: 200 } }, ["--out", dir], {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
      signal: new AbortController().signal,
      runner: { deps, log: () => {}, progressWriter: quietWriter },
    });
    const text = lines.join("\n");
    assert.equal(code, 1);
    assert.match(text, /^error: no space left on the device while writing /m);
    assert.match(text, /run the same command again: the \d+ finished frame\(s\)/);
    const saved = await readDiskManifest(dir);
    assert.ok(saved.frames.length > 0 && saved.frames.length < 200);
    for (const frame of saved.frames) {
      assert.equal(await sha256File(join(dir, frame.file)), frame.sha256);
    }
    assert.ok(names(dir).every((n) => !n.endsWith(".tmp") && n !== LOCK_FILE));
    assert.ok(names(join(dir, "frames")).every((n) => !n.endsWith(".tmp")));
  } finally {
    await new Deno.Command("umount", { args: [mount] }).output();
    await Deno.remove(mount, { recursive: true });
  }
});

Deno.test("a run that fails after waiting for a finished run's lock leaves that run's folder alone", async () => {
  await withTempDir(async (root) => {
    const out = join(root, "fresh");
    // Both start on a folder that does not exist yet; the second waits, then fails at once.
    const first = run(out, {}, { wait: true });
    const second = run(out, { loadError: new Error("out of GPU memory") }, { wait: true });
    // Handled from the start: the second run may fail before the first one's result is read.
    const secondError = second.result.then(() => undefined, (e: Error) => e);
    const done = await first.result;
    assert.match(String((await secondError)?.message), /out of GPU memory/);
    assert.equal(done.manifest.status, "complete");
    const manifest = await readDiskManifest(out);
    assert.equal(manifest.status, "complete");
    assert.equal(manifest.frames.length, 6);
  });
});

Deno.test("a full disk while writing the video: status failed, the frames kept, the disk named", async () => {
  await withTempDir(async (root) => {
    const out = join(root, "run");
    const full = new Error("No space left on device (os error 28)");
    const { result } = run(out, { gifError: full });
    await assert.rejects(
      result,
      (e: Error) =>
        e instanceof DiskFullError && e.message.includes(out) && /frame/.test(e.message),
    );
    const manifest = await readDiskManifest(out);
    assert.equal(manifest.status, "failed");
    assert.equal(manifest.frames.length, 6);
    // The same command afterwards finishes without computing a frame again.
    const again = await run(out).result;
    assert.equal(again.manifest.status, "complete");
    assert.equal(again.manifest.summary?.computed, 0);
  });
});
