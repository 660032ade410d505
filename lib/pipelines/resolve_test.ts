import assert from "node:assert/strict";
import { deadPid } from "../util/_test_process.ts";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { verifyModelFiles } from "./model_files.ts";
import { resolveModel } from "./resolve.ts";

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

async function withModelsDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "resolve_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function conversions(lines: string[]): number {
  return lines.filter((l) => l.startsWith("converting ")).length;
}

Deno.test("resolveModel('tiny') started twice at once in one process converts once", async () => {
  await withModelsDir(async (modelsDir) => {
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const dirs = await Promise.all([
      resolveModel("tiny", { modelsDir, log }),
      resolveModel("tiny", { modelsDir, log }),
    ]);
    assert.equal(dirs[0], join(modelsDir, "tiny"));
    assert.equal(dirs[1], dirs[0]);
    assert.equal(conversions(lines), 1, lines.join("\n"));
    await verifyModelFiles(dirs[0]);
    assert.deepEqual([...Deno.readDirSync(modelsDir)].map((e) => e.name), ["tiny"]);
  });
});

Deno.test("resolveModel('tiny') in three processes at once: one conversion, one intact folder", async () => {
  await withModelsDir(async (modelsDir) => {
    const code = `import { resolveModel } from "./lib/pipelines/resolve.ts";
      console.log(await resolveModel("tiny", { log: (l) => console.error(l) }));`;
    const outputs = await Promise.all(
      [0, 1, 2].map(() =>
        new Deno.Command(Deno.execPath(), {
          args: ["eval", code],
          cwd: root,
          env: { FLUIDITY_MODELS: modelsDir },
          stdout: "piped",
          stderr: "piped",
        }).output()
      ),
    );
    const decoder = new TextDecoder();
    const stderr = outputs.map((o) => decoder.decode(o.stderr));
    for (const [i, o] of outputs.entries()) {
      assert.equal(o.code, 0, stderr[i]);
      assert.equal(decoder.decode(o.stdout).trim(), join(modelsDir, "tiny"));
    }
    assert.equal(conversions(stderr.join("\n").split("\n")), 1, stderr.join("\n---\n"));
    await verifyModelFiles(join(modelsDir, "tiny"));
    assert.deepEqual([...Deno.readDirSync(modelsDir)].map((e) => e.name), ["tiny"]);
  });
});

Deno.test("a damaged tiny conversion is redone; leftovers and a stale lock of a killed conversion are cleared", async () => {
  await withModelsDir(async (modelsDir) => {
    const tiny = await resolveModel("tiny", { modelsDir });
    const unet = join(tiny, "unet.onnx");
    const bytes = await Deno.readFile(unet);
    await Deno.writeFile(unet, bytes.subarray(0, bytes.length >> 1));
    await Deno.mkdir(join(modelsDir, "tiny.partial-0a1b2c3d"));
    const dead = await deadPid();
    await Deno.writeTextFile(
      join(modelsDir, ".tiny.convert.lock"),
      JSON.stringify({
        pid: dead,
        hostname: Deno.hostname(),
        startedAt: new Date().toISOString(),
        token: "killed",
      }),
    );
    const lines: string[] = [];
    await resolveModel("tiny", { modelsDir, log: (l) => lines.push(l) });
    assert.equal(conversions(lines), 1);
    assert.ok(
      lines.some((l) => /taking over the stale lock .*\.tiny\.convert\.lock/.test(l)),
      lines.join("\n"),
    );
    await verifyModelFiles(tiny);
    assert.deepEqual([...Deno.readDirSync(modelsDir)].map((e) => e.name), ["tiny"]);
  });
});
