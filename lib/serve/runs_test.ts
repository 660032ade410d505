import assert from "node:assert/strict";
import { join } from "node:path";
import type { Manifest } from "../experiments/manifest.ts";
import { editManifest, makeTestResults } from "./_test_util.ts";
import { readRunManifest, scanRuns, servedFiles, summarize } from "./runs.ts";
import { RunOpenError } from "../compare/run_folder.ts";

Deno.test("scanRuns: runs down to the depth limit, hidden folders and symlinks skipped, invalid ones listed", async () => {
  const r = await makeTestResults();
  try {
    const root = await Deno.realPath(r.root);
    // A run too deep, one in a hidden folder, and a link to a run.
    await Deno.mkdir(join(root, "a/b/c/d"), { recursive: true });
    await new Deno.Command("cp", { args: ["-r", join(root, r.running), join(root, "a/b/c/d")] })
      .output();
    await Deno.mkdir(join(root, ".staging"));
    await new Deno.Command("cp", { args: ["-r", join(root, r.running), join(root, ".staging")] })
      .output();
    await Deno.symlink(join(root, r.complete), join(root, "exp", "latest"));

    const paths = (await scanRuns(root)).map((e) => e.path);
    assert.deepEqual(paths, [r.invalid, r.complete, r.other, r.running]);
    assert.deepEqual((await scanRuns(root, 5)).map((e) => e.path), [
      "a/b/c/d/run",
      ...paths,
    ]);
    assert.deepEqual((await scanRuns(root, 1)).map((e) => e.path), []);
  } finally {
    await Deno.remove(r.root, { recursive: true });
  }
});

Deno.test("summarize: identity numbers when the run has them", async () => {
  const r = await makeTestResults();
  try {
    const dir = join(r.root, r.complete);
    await editManifest(dir, (m) => {
      (m.summary as Record<string, unknown>).identity = {
        frames: 3,
        threshold: 0.6,
        largestJump: { index: 1, seed: "1", value: 0.3 },
        pathLength: 0.5,
        meanStep: 0.25,
        farthestFromReference: null,
        meanToReference: 0.2,
        framesAboveThreshold: 0,
        crossings: [],
      };
    });
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))) as Manifest;
    assert.deepEqual(summarize(r.complete, manifest).identity, {
      meanToReference: 0.2,
      pathLength: 0.5,
      largestJump: { index: 1, value: 0.3 },
      framesAboveThreshold: 0,
      threshold: 0.6,
    });
  } finally {
    await Deno.remove(r.root, { recursive: true });
  }
});

Deno.test("servedFiles: the manifest's references only, never climbing or hidden paths", async () => {
  const r = await makeTestResults();
  try {
    const m = structuredClone(r.completeManifest);
    m.outputs = {
      contactSheet: "contact_sheet.png",
      pathPlot: "../elsewhere.png",
      video: { mp4: "video.mp4", gif: "/etc/passwd" },
      identityPlot: ".hidden.png",
      grid: "sub/./grid.png",
    };
    m.identity = {
      embedder: {} as never,
      references: [{ seed: "1", key: "k", file: "frames/ref.png", sha256: "s", descriptor: [] }],
    };
    assert.deepEqual(
      [...servedFiles(m)].sort(),
      [
        "contact_sheet.png",
        "frames/ref.png",
        ...r.completeManifest.frames.map((f) => f.file),
        "manifest.json",
        "sub/grid.png",
        "video.mp4",
      ].sort(),
    );
  } finally {
    await Deno.remove(r.root, { recursive: true });
  }
});

Deno.test("readRunManifest trusts a settled manifest's inode, size and mtime: it is not read again", async () => {
  const results = await makeTestResults();
  try {
    const root = await Deno.realPath(results.root);
    const segments = results.running.split("/");
    const path = join(root, results.running, "manifest.json");
    const settled = new Date("2025-01-01T00:00:00Z");
    await Deno.utime(path, settled, settled);
    const first = await readRunManifest(root, segments);
    assert.ok(first);
    // Edited in place to the same size, its mtime put back: only reading could tell.
    await editManifest(join(root, results.running), (m) => {
      m.updatedAt = "2025-01-01T00:09:00.000Z";
    });
    await Deno.utime(path, settled, settled);
    assert.equal(await readRunManifest(root, segments), first, "not read again");
    // A new mtime is looked at; the file is read (and, the text changed, checked) again.
    await Deno.utime(path, settled, new Date("2025-01-02T00:00:00Z"));
    const second = await readRunManifest(root, segments);
    assert.notEqual(second, first);
    assert.equal(second!.updatedAt, "2025-01-01T00:09:00.000Z");
    // Replaced by a rename, as the runner writes: same size and mtime, but a new inode.
    const edited = JSON.parse(await Deno.readTextFile(path));
    edited.updatedAt = "2025-01-01T00:10:00.000Z";
    const copy = `${path}.copy`;
    await Deno.writeTextFile(copy, JSON.stringify(edited, null, 2));
    await Deno.utime(copy, settled, new Date("2025-01-02T00:00:00Z"));
    await Deno.rename(copy, path);
    assert.equal((await readRunManifest(root, segments))!.updatedAt, "2025-01-01T00:10:00.000Z");
  } finally {
    await Deno.remove(results.root, { recursive: true });
  }
});

Deno.test("readRunManifest checks a manifest once while its text is unchanged, again when it changes", async () => {
  const results = await makeTestResults();
  try {
    const root = await Deno.realPath(results.root);
    const segments = results.running.split("/");
    const first = await readRunManifest(root, segments);
    assert.ok(first);
    assert.equal(
      await readRunManifest(root, segments),
      first,
      "unchanged: the same checked object",
    );
    await editManifest(join(root, results.running), (m) => {
      m.updatedAt = "2025-01-01T00:09:00.000Z"; // same length: only the text tells
    });
    const second = await readRunManifest(root, segments);
    assert.notEqual(second, first);
    assert.equal(second!.updatedAt, "2025-01-01T00:09:00.000Z");
    // A manifest that turns bad is refused, also when asked again.
    await Deno.writeTextFile(join(root, results.running, "manifest.json"), "{}");
    for (let i = 0; i < 2; i++) {
      await assert.rejects(() => readRunManifest(root, segments), RunOpenError);
    }
  } finally {
    await Deno.remove(results.root, { recursive: true });
  }
});
