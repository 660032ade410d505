import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../util/hash.ts";
import {
  type Manifest,
  MANIFEST_FILE,
  ManifestError,
  type ManifestFrame,
  readManifest,
  reusableFrames,
  writeManifest,
} from "./manifest.ts";

function frameEntry(index: number, file: string, sha256: string, key: string): ManifestFrame {
  return {
    index,
    t: null,
    color: [0, 0, 0],
    injection: { scale: 0.01, window: [1, 10], mode: "constant" },
    key,
    file,
    sha256,
    width: 1,
    height: 1,
    computed: true,
    timings: { sampleMs: 1, batchMs: 1, batchSize: 1 },
    meanColor: [0, 0, 0],
    distanceToPrevious: null,
  };
}

function manifestWith(frames: ManifestFrame[]): Manifest {
  return {
    version: 1,
    status: "running",
    runId: "r",
    specHash: "5".repeat(64),
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    spec: { name: "r" } as Manifest["spec"],
    model: { spec: "tiny", info: { sha256: { "unet.onnx": "1".repeat(64) } } },
    runtime: {
      deno: "2.9.6",
      v8: "1",
      onnxruntime: "1.30.0",
      device: "cpu",
      threads: 1,
      os: "linux",
      arch: "x86_64",
      cpu: { model: "test", cores: 2 },
    },
    frames,
    summary: null,
    outputs: { contactSheet: null, pathPlot: null, video: { mp4: null, gif: null } },
    warnings: [],
  };
}

Deno.test("writeManifest: atomic replace, no temporary files left, readable back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeManifest(dir, manifestWith([]));
    const sha = "0".repeat(64);
    const second = manifestWith([frameEntry(0, `frames/${sha}.png`, sha, "a".repeat(64))]);
    await writeManifest(dir, second);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [MANIFEST_FILE]);
    assert.deepEqual(await readManifest(dir), second);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeManifest: a reader never sees a partial file during rewrites", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const big = manifestWith(
      Array.from({ length: 2000 }, (_, i) => frameEntry(i, "frames/x.png", "0".repeat(64), `${i}`)),
    );
    await writeManifest(dir, big);
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        JSON.parse(await Deno.readTextFile(join(dir, MANIFEST_FILE))); // throws on a torn file
        reads++;
      }
    })();
    for (let i = 0; i < 20; i++) await writeManifest(dir, big);
    writing = false;
    await reader;
    assert.ok(reads > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readManifest: absent → null; damaged or foreign → an error naming the file and the way out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await readManifest(dir), null);
    const path = join(dir, MANIFEST_FILE);
    for (
      const [text, problem] of [
        ["{ not json", /not valid JSON/],
        ['{"version": 1, "frames": [', /not valid JSON/],
        ["[1, 2]", /not a JSON object/],
        ["null", /not a JSON object/],
        [JSON.stringify({ version: 99, frames: [] }), /version 99/],
        [JSON.stringify({ ...manifestWith([]), frames: undefined }), /frames is missing/],
      ] as const
    ) {
      await Deno.writeTextFile(path, text);
      await assert.rejects(
        readManifest(dir),
        (e) =>
          e instanceof ManifestError && e.path === path && problem.test(e.message) &&
          e.message.includes(`mv ${path} ${path}.bad`),
        text,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reusableFrames: only frames whose PNG exists with the recorded hash", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "frames"));
    const good = new Uint8Array([1, 2, 3]);
    const goodSha = sha256Hex(good);
    await Deno.writeFile(join(dir, `frames/${goodSha}.png`), good);
    const altered = new Uint8Array([4, 5, 6]);
    const alteredSha = sha256Hex(altered);
    await Deno.writeFile(join(dir, `frames/${alteredSha}.png`), new Uint8Array([4, 5, 7]));
    const missingSha = sha256Hex("missing");
    const manifest = manifestWith([
      frameEntry(0, `frames/${goodSha}.png`, goodSha, "good"),
      frameEntry(1, `frames/${alteredSha}.png`, alteredSha, "altered"),
      frameEntry(2, `frames/${missingSha}.png`, missingSha, "missing"),
      frameEntry(3, "../outside.png", goodSha, "outside"),
    ]);
    const warnings: string[] = [];
    const reusable = await reusableFrames(dir, manifest, (w) => warnings.push(w));
    assert.deepEqual([...reusable.keys()], ["good"]);
    assert.equal(warnings.length, 2);
    assert.match(
      warnings[0],
      new RegExp(`${alteredSha}\\.png \\(frame 1\\) does not have the SHA-256`),
    );
    assert.match(warnings[1], new RegExp(`${missingSha}\\.png \\(frame 2\\) is missing`));
    assert.equal((await reusableFrames(dir, null)).size, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
