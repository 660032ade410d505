/**
 * The snapshot regression check (every experiment in snapshots/snapshots.json re-run on the tiny
 * model and compared with its reference), and that the check catches a tampered reference,
 * writes the diff picture, and that `--update` reports what changed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { decodePng, encodePng } from "../render/png.ts";
import { sha256File } from "../util/hash.ts";
import { main } from "../cli/snapshot.ts";
import {
  checkSnapshots,
  CONFIG_FILE,
  formatSnapshotResults,
  formatSnapshotUpdates,
  readSnapshotConfig,
  type SnapshotRenderer,
  SNAPSHOTS_DIR,
  updateSnapshots,
} from "./snapshot.ts";
import { MIN_PANEL_HEIGHT } from "./side_by_side.ts";
import { captureIo } from "./_test_util.ts";
import type { Manifest } from "../experiments/manifest.ts";

/** A renderer that hands out runs made earlier (so the model runs once per experiment). */
function replay(runs: Map<string, string>): SnapshotRenderer {
  return async (entry, out) => {
    const from = runs.get(entry.name);
    assert.ok(from, `no run of ${entry.name}`);
    await Deno.mkdir(join(out, "frames"), { recursive: true });
    await Deno.copyFile(join(from, "manifest.json"), join(out, "manifest.json"));
    for await (const f of Deno.readDir(join(from, "frames"))) {
      await Deno.copyFile(join(from, "frames", f.name), join(out, "frames", f.name));
    }
  };
}

/** Copies the config and one reference into a scratch snapshots folder. */
async function scratchSnapshots(dir: string, name: string): Promise<void> {
  await Deno.mkdir(join(dir, name, "frames"), { recursive: true });
  await Deno.copyFile(join(SNAPSHOTS_DIR, CONFIG_FILE), join(dir, CONFIG_FILE));
  await Deno.copyFile(join(SNAPSHOTS_DIR, name, "manifest.json"), join(dir, name, "manifest.json"));
  for await (const f of Deno.readDir(join(SNAPSHOTS_DIR, name, "frames"))) {
    await Deno.copyFile(
      join(SNAPSHOTS_DIR, name, "frames", f.name),
      join(dir, name, "frames", f.name),
    );
  }
}

/** Inverts the red channel of a 16×16 block of a reference frame, rewriting its PNG in place. */
async function tamperFrame(snapshotsDir: string, name: string, index: number): Promise<void> {
  const manifest: Manifest = JSON.parse(
    await Deno.readTextFile(join(snapshotsDir, name, "manifest.json")),
  );
  const path = join(snapshotsDir, name, manifest.frames.find((f) => f.index === index)!.file);
  const image = await decodePng(await Deno.readFile(path), path);
  for (let y = 0; y < 16; y++) {
    for (let x = 0; x < 16; x++) {
      const p = (y * image.width + x) * 4;
      image.rgba[p] = 255 - image.rgba[p];
    }
  }
  await Deno.writeFile(path, await encodePng(image.rgba, image.width, image.height));
}

/** File name → SHA-256 of every frame of a reference. */
async function frameHashes(dir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for await (const f of Deno.readDir(join(dir, "frames"))) {
    hashes[f.name] = await sha256File(join(dir, "frames", f.name));
  }
  return hashes;
}

/** Every string value in a JSON value, with its path. */
function strings(value: unknown, path = ""): [string, string][] {
  if (typeof value === "string") return [[path, value]];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => strings(v, path ? `${path}.${k}` : k));
}

Deno.test("the committed snapshot manifests carry no path of the machine that made them", async () => {
  for (const entry of await readSnapshotConfig()) {
    const manifest = JSON.parse(
      await Deno.readTextFile(join(SNAPSHOTS_DIR, entry.name, "manifest.json")),
    );
    assert.equal(manifest.model.dir, undefined, `${entry.name}: model.dir`);
    const absolute = strings(manifest).filter(([, s]) => /^(\/|[A-Za-z]:[\\/])/.test(s));
    assert.deepEqual(absolute, [], `${entry.name}: absolute paths`);
  }
});

Deno.test("snapshots: the bundled experiments reproduce their references", async (t) => {
  const work = await Deno.makeTempDir({ prefix: "snapshot_test_" });
  try {
    const entries = await readSnapshotConfig();
    const results = await checkSnapshots({ workDir: work });
    assert.deepEqual(results.map((r) => r.name), entries.map((e) => e.name));
    for (const r of results) {
      assert.equal(r.status, "pass", formatSnapshotResults([r]));
      assert.ok(r.comparison!.frames.length > 0);
    }
    const runs = new Map(results.map((r) => [r.name, r.runDir]));
    const name = entries[0].name;

    await t.step("a tampered reference frame fails and gets a diff picture", async () => {
      const snapshots = join(work, "tampered");
      await scratchSnapshots(snapshots, name);
      await tamperFrame(snapshots, name, 1);
      const io = captureIo();
      const diffWork = join(work, "check");
      const code = await main(["--snapshots", snapshots, "--work-dir", diffWork, name], {
        ...io.io,
        render: replay(runs),
      });
      assert.equal(code, 1, io.out.join("\n"));
      const report = io.out.join("\n");
      assert.match(report, new RegExp(`${name}: FAIL`));
      assert.match(report, /frame 1: different/);
      assert.match(report, /reference: .* does not have its recorded SHA-256/);
      const picture = join(diffWork, "diff", name, "1.png");
      assert.match(report, new RegExp(`diff \\(reference \\| new \\| diff\\): ${picture}`));
      const image = await decodePng(await Deno.readFile(picture), picture);
      const frame = await decodePng(
        await Deno.readFile(join(SNAPSHOTS_DIR, name, results[0].comparison!.frames[1].a!.file)),
      );
      const scale = Math.max(1, Math.ceil(MIN_PANEL_HEIGHT / frame.height));
      assert.equal(image.height, frame.height * scale);
      assert.ok(image.width > 3 * frame.width * scale);
      // Only frame 1 was tampered with, so it is the only picture.
      assert.deepEqual([...Deno.readDirSync(join(diffWork, "diff", name))].map((e) => e.name), [
        "1.png",
      ]);
    });

    await t.step(
      "--update reports the changed frame and then leaves the reference alone",
      async () => {
        const snapshots = join(work, "update");
        await scratchSnapshots(snapshots, name);
        await tamperFrame(snapshots, name, 2);
        const options = {
          snapshotsDir: snapshots,
          names: [name],
          workDir: join(work, "update-work"),
          render: replay(runs),
        };
        const [first] = await updateSnapshots(options);
        assert.equal(first.action, "updated");
        // The references were made on another CPU (an Intel Xeon with AVX-512; onnxruntime's
        // kernels differ by instruction set), so frames other than the tampered one may come
        // back within tolerance rather than identical: what the check above found for them is
        // what --update must report, and frame 2 is different.
        const expected = results[0].comparison!.frames
          .map((f) => [f.index, f.index === 2 ? "different" : f.status])
          .filter(([, status]) => status !== "identical");
        assert.deepEqual(first.changed.map((c) => [c.index, c.status]), expected);
        assert.deepEqual([first.added, first.removed], [[], []]);
        const [check] = await checkSnapshots(options);
        assert.equal(check.status, "pass");
        assert.equal(check.comparison!.counts.identical, check.comparison!.frames.length);
        const [second] = await updateSnapshots(options);
        assert.equal(second.action, "unchanged");
      },
    );

    await t.step(
      "--update rewrites a reference whose model record changed, keeping its frames",
      async () => {
        const snapshots = join(work, "model-record");
        await scratchSnapshots(snapshots, name);
        const options = {
          snapshotsDir: snapshots,
          names: [name],
          workDir: join(work, "model-record-work"),
          render: replay(runs),
        };
        // This CPU's frames first (the committed ones may differ within tolerance, see above), so
        // that only the model record differs below.
        await updateSnapshots(options);
        // The reference as the first release wrote it: with the build machine's model folder.
        const path = join(snapshots, name, "manifest.json");
        const old = JSON.parse(await Deno.readTextFile(path));
        old.model = { spec: old.model.spec, dir: "/work/main/models/tiny", info: old.model.info };
        await Deno.writeTextFile(path, JSON.stringify(old, null, 2));
        const frames = () => frameHashes(join(snapshots, name));
        const before = await frames();
        const [update] = await updateSnapshots(options);
        assert.equal(update.action, "updated");
        assert.deepEqual(update.model.map((c) => [c.path, c.kind]), [["model.dir", "removed"]]);
        assert.deepEqual([update.changed, update.added, update.removed], [[], [], []]);
        assert.match(
          formatSnapshotUpdates([update]),
          /^ {2}model\.dir: "\/work\/main\/models\/tiny" → \(absent\)$/m,
        );
        assert.deepEqual(await frames(), before, "frames byte-identical");
        assert.equal(JSON.parse(await Deno.readTextFile(path)).model.dir, undefined);
        assert.equal((await updateSnapshots(options))[0].action, "unchanged");
      },
    );

    await t.step("usage errors exit 2", async () => {
      const unknown = captureIo();
      assert.equal(await main(["no-such-experiment"], { ...unknown.io, render: replay(runs) }), 2);
      assert.match(unknown.err.join(), /no snapshot named no-such-experiment \(known: /);
      const folder = captureIo();
      assert.equal(await main(["--snapshots", join(work, "nope")], folder.io), 2);
      assert.match(folder.err.join(), /--snapshots: no such folder/);
      assert.equal(await main(["--max-share", "2"], captureIo().io), 2);
    });

    await t.step("a missing reference is reported, not skipped", async () => {
      const snapshots = join(work, "empty");
      await Deno.mkdir(snapshots);
      await Deno.copyFile(join(SNAPSHOTS_DIR, CONFIG_FILE), join(snapshots, CONFIG_FILE));
      const [result] = await checkSnapshots({
        snapshotsDir: snapshots,
        names: [name],
        workDir: join(work, "empty-work"),
        render: replay(runs),
      });
      assert.equal(result.status, "no-reference");
      assert.match(result.error!, /snapshot --update/);
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
