/**
 * One manifest schema for every reader: a bad manifest is refused by the runner (resume), merge,
 * verify and compare with the same message, naming the file, the field, the value and what is
 * allowed; and manifests written by the first release still validate.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { main as compareMain } from "../cli/compare.ts";
import { main as verifyMain } from "../cli/verify.ts";
import { captureIo } from "../compare/_test_util.ts";
import { openRun } from "../compare/run_folder.ts";
import { fakeDeps, quietWriter, withTempDir } from "./_fakes.ts";
import { type Manifest, MANIFEST_FILE, readManifest } from "./manifest.ts";
import { mergeShards } from "./merge.ts";
import { runExperiment } from "./runner.ts";
import type { Shard } from "./shard.ts";

const PREFIX = "manifest_schema_test_";

const spec = {
  name: "schema-test",
  model: "tiny",
  seed: 7,
  steps: 12,
  path: { type: "linear" },
  frames: { count: 4 },
  batch: 2,
};

function run(out: string, shard?: Shard) {
  const { deps, log } = fakeDeps();
  const result = runExperiment(spec, {
    out,
    deps,
    shard,
    log: () => {},
    progressWriter: quietWriter,
  });
  return { result, log };
}

/** Two finished shards of `spec` in `root/shard-0` and `root/shard-1`. */
async function twoShards(root: string): Promise<string[]> {
  const dirs = [join(root, "shard-0"), join(root, "shard-1")];
  for (const [index, dir] of dirs.entries()) await run(dir, { index, count: 2 }).result;
  return dirs;
}

/**
 * The message of every entry point that reads `dir`'s manifest: the runner resuming it, merge
 * joining it with `other`, verify and compare (CLIs, as a user sees them). Each must refuse.
 */
async function refusals(dir: string, other: string, out: string): Promise<Record<string, string>> {
  const messages: Record<string, string> = {};
  const resumed = run(dir, { index: 0, count: 2 });
  await assert.rejects(resumed.result, (e: Error) => (messages.runner = e.message, true));
  assert.equal(resumed.log.samples.length, 0, "the runner computed nothing");
  const { deps } = fakeDeps();
  await assert.rejects(
    mergeShards(out, [dir, other], { deps, log: () => {} }),
    (e: Error) => (messages.merge = e.message, true),
  );
  const verify = captureIo();
  assert.equal(await verifyMain([dir], verify.io), 1);
  messages.verify = verify.err.join("\n").replace(/^error: /, "");
  const compare = captureIo();
  assert.equal(await compareMain([other, dir], compare.io), 1);
  messages.compare = compare.err.join("\n").replace(/^error: /, "");
  return messages;
}

/** Asserts that every entry point refused with `expected` (after the file name) as its message. */
async function expectSameRefusal(dir: string, other: string, out: string, expected: string) {
  const path = join(dir, MANIFEST_FILE);
  const before = await Deno.readTextFile(path);
  const messages = await refusals(dir, other, out);
  const core = messages.verify;
  assert.ok(core.startsWith(`${path}${expected}`), `verify said: ${core}`);
  assert.equal(messages.compare, core, "compare and verify say the same");
  // The runner and merge add what to do about it, after the same words.
  const advice = `. It is the record of which frame file holds which image, so it is not ` +
    `overwritten: move it away (mv ${path} ${path}.bad)`;
  assert.ok(messages.runner.startsWith(core + advice), `runner said: ${messages.runner}`);
  assert.ok(messages.merge.startsWith(core + advice), `merge said: ${messages.merge}`);
  assert.equal(await Deno.readTextFile(path), before, "the manifest is left as found");
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound, "merge created no output folder");
}

type Mutation = (m: Manifest & Record<string, unknown>) => void;
const without = (object: object, field: string) =>
  delete (object as Record<string, unknown>)[field];
const frame = (m: Manifest, i: number) => m.frames[i] as unknown as Record<string, unknown>;

/** Bad manifests and what every reader must say about them (after the file name). */
const BAD_MANIFESTS: [string, Mutation | string, string][] = [
  ["empty file", "", " is damaged (the file is empty)"],
  ["truncated JSON", '{"version": 1, "fra', " is damaged (not valid JSON, truncated or corrupt: "],
  ["a JSON list", "[1, 2]", " is damaged (not a JSON object)"],
  [
    "another version",
    (m) => (m.version = 2),
    " is a manifest of version 2, this program reads version 1",
  ],
  [
    "no frames list",
    (m) => without(m, "frames"),
    " is not a valid run manifest: frames is missing; allowed: a list of frames",
  ],
  [
    "a bad status",
    (m) => (m.status = "done" as Manifest["status"]),
    ' is not a valid run manifest: status is "done"; allowed: "running", "complete", "interrupted" or "failed"',
  ],
  [
    "a spec hash that is not one",
    (m) => (m.specHash = "h"),
    ' is not a valid run manifest: specHash is "h"; allowed: a SHA-256: 64 lower-case hex digits',
  ],
  [
    "no model file hashes",
    (m) => without(m.model.info, "sha256"),
    " is not a valid run manifest: model.info.sha256 is missing; allowed: { file: SHA-256 } of the model files",
  ],
  [
    "a frame hash that is not one",
    (m) => (frame(m, 1).sha256 = "xyz"),
    ' is not a valid run manifest: frames[1].sha256 is "xyz"; allowed: a SHA-256: 64 lower-case hex digits',
  ],
  [
    "a frame without its content key",
    (m) => without(m.frames[0], "key"),
    " is not a valid run manifest: frames[0].key is missing; allowed: a SHA-256: 64 lower-case hex digits",
  ],
  [
    "a colour of two numbers",
    (m) => (frame(m, 0).color = [1, 2]),
    " is not a valid run manifest: frames[0].color is [1,2]; allowed: [r, g, b]: three finite numbers",
  ],
  [
    "a frame index twice",
    (m) => (frame(m, 1).index = m.frames[0].index),
    " is not a valid run manifest: frames[1].index is 0; allowed: an index no other frame has",
  ],
  [
    "a frame path climbing out of the folder",
    (m) => (frame(m, 0).file = "../../etc/passwd"),
    ' is not a valid run manifest: frames[0].file is "../../etc/passwd"; allowed: ' +
    "frames/<sha256>.png, relative to the run folder, named by the frame's own sha256",
  ],
  [
    "an absolute frame path",
    (m) => (frame(m, 0).file = `/tmp/frames/${m.frames[0].sha256}.png`),
    ` is not a valid run manifest: frames[0].file is "/tmp/frames/`,
  ],
  [
    "a picture path climbing out of the folder",
    (m) => (m.outputs.contactSheet = "../sheet.png"),
    ' is not a valid run manifest: outputs.contactSheet is "../sheet.png"; allowed: a path ' +
    "relative to the run folder, without .. or \\",
  ],
];

Deno.test("a table of bad manifests: each refused by runner, merge, verify and compare with one message", async () => {
  await withTempDir(PREFIX, async (root) => {
    const [dir, other] = await twoShards(root);
    const path = join(dir, MANIFEST_FILE);
    const good = await Deno.readTextFile(path);
    for (const [name, mutation, expected] of BAD_MANIFESTS) {
      let text: string;
      if (typeof mutation === "string") {
        text = mutation;
      } else {
        const manifest = JSON.parse(good);
        mutation(manifest);
        text = JSON.stringify(manifest, null, 2);
      }
      await Deno.writeTextFile(path, text);
      try {
        await expectSameRefusal(dir, other, join(root, "out"), expected);
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`, { cause: e });
      }
    }
    // The manifest as written is accepted by all of them again.
    await Deno.writeTextFile(path, good);
    assert.equal((await run(dir, { index: 0, count: 2 }).result).manifest.status, "complete");
    assert.equal(await verifyMain([dir], captureIo().io), 0);
  });
});

Deno.test("the old frame-path discrepancy: a frame file not named by its SHA-256 is refused by all alike", async () => {
  // The first release had two rules: compare and verify accepted any path inside the folder (so
  // verify said OK here), the runner silently recomputed such a frame, and merge refused it.
  await withTempDir(PREFIX, async (root) => {
    const [dir, other] = await twoShards(root);
    const path = join(dir, MANIFEST_FILE);
    const manifest: Manifest = JSON.parse(await Deno.readTextFile(path));
    await Deno.copyFile(join(dir, manifest.frames[0].file), join(dir, "frames", "first.png"));
    manifest.frames[0].file = "frames/first.png"; // same bytes, same sha256: only the name is off
    await Deno.writeTextFile(path, JSON.stringify(manifest, null, 2));
    await expectSameRefusal(
      dir,
      other,
      join(root, "out"),
      ' is not a valid run manifest: frames[0].file is "frames/first.png"; allowed: ' +
        "frames/<sha256>.png, relative to the run folder, named by the frame's own sha256",
    );
  });
});

Deno.test("a manifest of the first release (model.dir, no new fields) is read by every reader", async () => {
  // Written by the first release into snapshots/path1 (before model.dir was dropped).
  const fixture = new URL("./testdata/first_release_manifest.json", import.meta.url);
  const text = await Deno.readTextFile(fixture);
  assert.match(text, /"dir": "\/work\/main\/models\/tiny"/, "the fixture is such a manifest");
  await withTempDir(PREFIX, async (dir) => {
    await Deno.writeTextFile(join(dir, MANIFEST_FILE), text);
    const read = await readManifest(dir);
    assert.deepEqual(read, JSON.parse(text), "read as found, nothing dropped");
    assert.deepEqual((await openRun(dir)).manifest, read);
  });
});

Deno.test("the optional fields other parts of fluidity add validate, and unknown fields pass through", async () => {
  await withTempDir(PREFIX, async (root) => {
    const [dir] = await twoShards(root);
    const path = join(dir, MANIFEST_FILE);
    const manifest = JSON.parse(await Deno.readTextFile(path));
    Object.assign(manifest.frames[0], {
      seed: "18446744073709551615",
      colorIndex: 0,
      identity: { descriptor: [0.25, -0.5], toReference: 0.1, toPrevious: null },
    });
    manifest.identity = {
      embedder: {
        name: "test",
        source: "x",
        sha256: "3".repeat(64),
        dimension: 2,
        threshold: 0.6,
        preprocessing: "none",
      },
      references: [{
        seed: "7",
        key: manifest.frames[0].key,
        file: manifest.frames[0].file,
        sha256: manifest.frames[0].sha256,
        descriptor: [0.25, -0.5],
      }],
    };
    manifest.summary.identity = { meanToReference: 0.1, anything: { nested: true } };
    manifest.futureField = { kept: true };
    await Deno.writeTextFile(path, JSON.stringify(manifest));
    assert.deepEqual(await readManifest(dir), manifest);
    assert.deepEqual((await openRun(dir)).manifest, manifest);
    assert.equal(await verifyMain([dir], captureIo().io), 0);

    manifest.frames[0].seed = "-1";
    await Deno.writeTextFile(path, JSON.stringify(manifest));
    await assert.rejects(
      readManifest(dir),
      new RegExp(`frames\\[0\\]\\.seed is "-1"; allowed: a decimal integer as a string`),
    );
  });
});
