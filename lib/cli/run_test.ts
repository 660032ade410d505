/**
 * `lib/cli/run.ts` as real processes on the tiny model: bad input, kill -9 and resume, SIGTERM
 * and SIGINT, and two processes on one folder.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256File } from "../util/hash.ts";
import { acquireLock, readLock } from "../util/lock.ts";
import type { Manifest } from "../experiments/manifest.ts";
import { TEMP_FILE_PATTERN } from "../experiments/files.ts";
import { PROJECT_ROOT as root, runDeno as deno } from "../util/_test_process.ts";

const RUN = ["run", "-A", "lib/cli/run.ts"];
/** The kill -9 setting of the brief: 6 batches, so there is time to stop it in the middle. */
const PATH1 = ["experiments/path1.ts", "--model", "tiny", "--frames", "12", "--steps", "30"];
const SMALL = ["experiments/colors.ts", "--model", "tiny", "--frames", "2", "--steps", "10"];

/** A child process whose stderr is collected as it comes. */
function spawn(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const collected = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (stderr += chunk) }),
  );
  return {
    child,
    stderr: () => stderr,
    async done() {
      const status = await child.status;
      await collected;
      return { code: status.code, signal: status.signal, stderr };
    },
  };
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The manifest as a concurrent reader sees it; it must always parse (atomic writes), never be
 * half a file. Null while there is none.
 */
async function readManifest(dir: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, "manifest.json"));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return JSON.parse(text);
}

/** Starts a run and stops it with `signal` once the manifest lists at least 2 frames. */
async function stopMidway(out: string, signal: Deno.Signal) {
  const run = spawn([...RUN, ...PATH1, "--batch", "2", "--out", out]);
  let atStop: Manifest | null = null;
  await waitFor("2 frames in the manifest", async () => {
    atStop = await readManifest(out);
    return (atStop?.frames.length ?? 0) >= 2;
  });
  run.child.kill(signal);
  const result = await run.done();
  assert.notEqual(atStop!.status, "complete", "stopped in the middle, not after the end");
  return result;
}

/** Every file under frames/ is whole: named by its own SHA-256, or a dot-prefixed temp file. */
async function checkNoPartialFiles(dir: string) {
  for await (const entry of Deno.readDir(join(dir, "frames"))) {
    if (TEMP_FILE_PATTERN.test(entry.name)) continue;
    assert.match(entry.name, /^[0-9a-f]{64}\.png$/);
    assert.equal(`${await sha256File(join(dir, "frames", entry.name))}.png`, entry.name);
  }
  const manifest = (await readManifest(dir))!;
  for (const frame of manifest.frames) {
    assert.equal(await sha256File(join(dir, frame.file)), frame.sha256, frame.file);
  }
}

function frameList(manifest: Manifest) {
  return manifest.frames.map((f) => [f.index, f.key, f.file, f.sha256]);
}

const tmp = await Deno.makeTempDir({ prefix: "run_cli_test_" });
let baseline: Promise<Manifest> | undefined;
/** An uninterrupted run of the kill -9 setting (computed once). */
function uninterrupted(): Promise<Manifest> {
  baseline ??= (async () => {
    const out = join(tmp, "baseline");
    const result = await deno([...RUN, ...PATH1, "--batch", "2", "--out", out]);
    assert.equal(result.code, 0, result.stderr);
    const manifest = (await readManifest(out))!;
    assert.equal(manifest.frames.length, 12);
    return manifest;
  })();
  return baseline;
}

function listing(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

Deno.test("bad input as real processes: exit 2, the field named, no folder, nothing under results/", async () => {
  const specFile = join(tmp, "bad_spec.ts");
  const mod = new URL("../experiments/mod.ts", import.meta.url).href;
  await Deno.writeTextFile(
    specFile,
    `import { defineExperiment } from "${mod}";\n` +
      `export default defineExperiment({ name: "bad", model: "tiny", seed: 1, steps: NaN, ` +
      `path: { type: "linear" }, frames: { count: 2 } });\n`,
  );
  const before = listing(join(root, "results", "path1"));
  const out = (name: string) => join(tmp, "bad", name);
  const cases: [string[], RegExp][] = [
    [[...RUN, "experiments/path1.ts", "--steps", "5", "--out", out("a")], /injection\.window is/],
    [[...RUN, "experiments/path1.ts", "--shard", "3/2", "--out", out("b")], /shard is "3\/2"/],
    [[...RUN, "experiments/path1.ts", "--colour", "red"], /--colour/],
    [[...RUN, "experiments/path1.ts", "--model", "nobody/nothing", "--out", out("c")], /model is/],
    [[...RUN, "experiments/path1.ts", "--seed=-1", "--out", out("d")], /seed is "-1"/],
    [["run", "-A", "experiments/path1.ts", "--frames=0", "--out", out("e")], /frames is 0/],
    [[...RUN, "experiments/nope.ts"], /cannot load experiment file experiments\/nope\.ts/],
    [[...RUN, specFile, "--out", out("f")], /steps is NaN/],
  ];
  const results = await Promise.all(cases.map(([args]) => deno(args)));
  results.forEach((result, i) => {
    const [args, pattern] = cases[i];
    assert.equal(result.code, 2, `${args.join(" ")}\n${result.stderr}`);
    assert.match(result.stderr, /^error: /m);
    assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
    assert.equal(result.stdout, "");
  });
  assert.deepEqual(listing(join(tmp, "bad")), [], "no --out folder was created");
  assert.deepEqual(
    listing(join(root, "results", "path1")),
    before,
    "nothing new in results/",
  );
});

Deno.test("kill -9 in the middle, then the same command: the run completes with the frames and hashes of an uninterrupted run", async () => {
  const reference = await uninterrupted();
  const out = join(tmp, "killed");
  const killed = await stopMidway(out, "SIGKILL");
  assert.equal(killed.signal, "SIGKILL");
  const left = (await readManifest(out))!;
  assert.equal(left.status, "running", "a killed run leaves its last consistent manifest");
  assert.ok(left.frames.length >= 2 && left.frames.length < 12);
  await checkNoPartialFiles(out);
  const stale = await readLock(join(out, ".lock"));
  assert.ok(stale && stale.pid !== Deno.pid, "the killed run's lock is left behind");

  const again = await deno([...RUN, ...PATH1, "--batch", "2", "--out", out]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /taking over the stale lock .* no longer running/);
  const resumed = (await readManifest(out))!;
  assert.equal(resumed.status, "complete");
  assert.deepEqual(frameList(resumed), frameList(reference));
  assert.ok(resumed.summary!.reused >= left.frames.length);
  await checkNoPartialFiles(out);
  assert.deepEqual(
    (listing(out)).filter((n) => n.startsWith(".")),
    [],
    "no lock or temporary file left",
  );
});

Deno.test("SIGTERM and SIGINT stop cleanly: exit 143/130, manifest 'interrupted', no lock; the same command resumes", async () => {
  const reference = await uninterrupted();
  for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    const out = join(tmp, signal);
    const stopped = await stopMidway(out, signal);
    assert.equal(stopped.code, code, stopped.stderr);
    assert.match(stopped.stderr, new RegExp(`stopped: interrupted by ${signal}: \\d+ of 12`));
    const manifest = (await readManifest(out))!;
    assert.equal(manifest.status, "interrupted");
    assert.ok(manifest.frames.length < 12);
    assert.deepEqual((listing(out)).filter((n) => n.startsWith(".")), []);
    await checkNoPartialFiles(out);
    if (signal === "SIGTERM") {
      const again = await deno([...RUN, ...PATH1, "--batch", "3", "--out", out]);
      assert.equal(again.code, 0, again.stderr);
      const resumed = (await readManifest(out))!;
      assert.equal(resumed.summary!.reused, manifest.frames.length);
      // Another batch size on resume: the same images (batch size is not part of the key).
      assert.deepEqual(frameList(resumed), frameList(reference));
    }
  }
});

Deno.test("two processes on one folder: the second refuses, naming folder and holder; --wait waits", async () => {
  const out = join(tmp, "locked");
  await Deno.mkdir(out, { recursive: true });
  const lock = await acquireLock(join(out, ".lock"), { purpose: "run_test holder" });
  try {
    const refused = await deno([...RUN, ...SMALL, "--out", out]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `^error: run folder ${out} is in use by pid ${Deno.pid} on host .* \\(run_test holder\\)`,
        "m",
      ),
    );
    assert.equal(await readManifest(out), null, "the second process wrote nothing");

    const waiting = spawn([...RUN, ...SMALL, "--out", out, "--wait"]);
    await waitFor("the waiting message", () => waiting.stderr().includes("waiting for run folder"));
    assert.equal(await readManifest(out), null, "still waiting");
    await lock.release();
    const result = await waiting.done();
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await readManifest(out))!.status, "complete");
  } finally {
    await lock.release();
  }
});

Deno.test("cleanup of the run_test folders", async () => {
  await Deno.remove(tmp, { recursive: true });
});
