import assert from "node:assert/strict";
import { join } from "node:path";
import { fakeDeps, quietWriter } from "../experiments/_fakes.ts";
import type { Manifest } from "../experiments/manifest.ts";
import { runExperiment } from "../experiments/runner.ts";
import type { ExperimentInput } from "../experiments/spec.ts";
import { fakeEmbedder } from "../identity/_fake_embedder.ts";
import { gridSheet } from "../render/grid_sheet.ts";
import { PROJECT_ROOT, runDeno } from "../util/_test_process.ts";
import { analyzeMain } from "./analyze.ts";

const FRAMES = 240;

/** A run folder made with fakes; its descriptors come from the fake embedder (another sha). */
async function fakeRun(dir: string): Promise<Manifest> {
  const spec = {
    name: "analyze-cli",
    model: "tiny",
    seed: 9,
    steps: 12,
    path: { type: "linear", from: [0, 0, 0], to: [1, 1, 1] },
    frames: { count: FRAMES },
    batch: 50,
  } satisfies ExperimentInput;
  const { deps } = fakeDeps({ size: 16, embedder: fakeEmbedder().embedder });
  return (await runExperiment(spec, {
    out: dir,
    deps,
    log: () => {},
    progressWriter: quietWriter,
  })).manifest;
}

async function readManifest(dir: string): Promise<Manifest | null> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
  } catch {
    return null; // between the write of the temporary file and the rename: read again
  }
}

Deno.test("analyze CLI: bad usage exits 2 naming the problem, a missing manifest names RUN_DIR", async () => {
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  assert.equal(await analyzeMain([], io), 2);
  assert.match(lines.join("\n"), /one run folder, got 0/);
  assert.equal(await analyzeMain(["a", "--threads", "x"], io), 2);
  assert.match(lines.join("\n"), /threads is "x"/);
  const empty = await Deno.makeTempDir({ prefix: "analyze_cli_" });
  try {
    assert.equal(await analyzeMain([empty], io), 2);
    assert.match(lines.join("\n"), /RUN_DIR is .*no manifest.json/);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("analyze CLI: names grid.png among the files updated only when it was drawn again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "analyze_cli_" });
  try {
    const spec = {
      name: "analyze-cli-grid",
      model: "tiny",
      seeds: [1, 2],
      steps: 12,
      path: { type: "linear", from: [0, 0, 0], to: [1, 1, 1] },
      frames: { count: 3 },
    } satisfies ExperimentInput;
    const { deps } = fakeDeps({ size: 16, embedder: fakeEmbedder().embedder });
    // The real grid picture: the fake's is one constant pixel, the same with numbers or without.
    const withGrid = { ...deps, gridSheet };
    await runExperiment(spec, {
      out: dir,
      deps: withGrid,
      identity: false,
      log: () => {},
      progressWriter: quietWriter,
    });
    const analyze = async () => {
      const lines: string[] = [];
      const code = await analyzeMain([dir], {
        out: () => {},
        err: (l) => lines.push(l),
        analyze: {
          deps: { ...withGrid, loadEmbedder: () => Promise.resolve(fakeEmbedder().embedder) },
          progressWriter: quietWriter,
        },
      });
      assert.equal(code, 0, lines.join("\n"));
      return lines.find((l) => l.startsWith("analyze: "))!;
    };
    // The numbers are new: the grid is drawn with them.
    assert.match(await analyze(), /, identity_plot\.png, grid\.png updated in /);
    // Nothing new: grid.png shows these numbers already and is not named.
    const again = await analyze();
    assert.match(again, /identity_plot\.png updated in /);
    assert.doesNotMatch(again, /grid\.png/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "analyze CLI (real process, real embedder): SIGINT keeps the saved descriptors, a re-run finishes with the numbers of an uninterrupted one",
  // The child loads onnxruntime: its resources are its own.
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "analyze_cli_" });
    try {
      const dir = join(root, "interrupted");
      const fake = await fakeRun(dir);
      const fakeSha = fake.identity!.embedder.sha256;
      await Deno.mkdir(join(root, "whole"));
      await new Deno.Command("cp", { args: ["-r", `${dir}/.`, join(root, "whole")] }).output();

      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "lib/cli/analyze.ts", dir],
        cwd: PROJECT_ROOT,
        stdout: "null",
        stderr: "piped",
      }).spawn();
      // Wait until some, not all, frames carry the real embedder's descriptors, then Ctrl-C.
      let partial = 0;
      for (let i = 0; i < 3000 && partial === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const m = await readManifest(dir);
        if (m?.identity && m.identity.embedder.sha256 !== fakeSha) {
          partial = m.frames.filter((f) => f.identity).length;
        }
      }
      assert.ok(partial > 0 && partial < FRAMES, `caught the child at ${partial} frames`);
      child.kill("SIGINT");
      const status = await child.status;
      const stderr = new TextDecoder().decode((await child.output().catch(() => null))?.stderr);
      assert.equal(status.code, 130, stderr);
      const stopped = (await readManifest(dir))!;
      const saved = stopped.frames.filter((f) => f.identity).length;
      assert.ok(saved >= partial && saved < FRAMES, `${saved} saved`);
      assert.notEqual(stopped.identity!.embedder.sha256, fakeSha);

      const resumed = await runDeno(["run", "-A", "lib/cli/analyze.ts", dir]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, new RegExp(`${saved} with a descriptor already`));
      const whole = await runDeno(["run", "-A", "lib/cli/analyze.ts", join(root, "whole")]);
      assert.equal(whole.code, 0, whole.stderr);
      const [a, b] = [(await readManifest(dir))!, (await readManifest(join(root, "whole")))!];
      assert.ok(a.frames.every((f) => f.identity));
      assert.deepEqual(a.frames.map((f) => f.identity), b.frames.map((f) => f.identity));
      assert.deepEqual(a.identity, b.identity);
      assert.deepEqual(a.summary!.identity, b.summary!.identity);
      // No frame image was recomputed or touched.
      assert.deepEqual(a.frames.map((f) => f.sha256), fake.frames.map((f) => f.sha256));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
