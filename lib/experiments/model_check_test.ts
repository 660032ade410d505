import assert from "node:assert/strict";
import { join } from "node:path";
import { loadModel } from "../pipelines/model.ts";
import { resolveModel } from "../pipelines/resolve.ts";
import { sha256File } from "../util/hash.ts";
import { fakeDeps, quietWriter } from "./_fakes.ts";
import { main } from "./cli.ts";
import { ModelFileError, verifyModelFiles } from "../pipelines/model_files.ts";

const root = await Deno.makeTempDir({ prefix: "model_check_" });
const converted = await resolveModel("tiny", { modelsDir: join(root, "models") });

/** A fresh copy of the converted tiny model. */
async function copyModel(name: string): Promise<string> {
  const dir = join(root, name);
  await Deno.mkdir(dir);
  for (const entry of Deno.readDirSync(converted)) {
    await Deno.copyFile(join(converted, entry.name), join(dir, entry.name));
  }
  return dir;
}

async function truncate(path: string, keep = 0.5) {
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(path, bytes.subarray(0, Math.floor(bytes.length * keep)));
}

Deno.test("verifyModelFiles: an intact model passes", async () => {
  await verifyModelFiles(converted);
});

Deno.test("verifyModelFiles: truncated, altered or missing files are named", async () => {
  const cases: [string, (dir: string) => Promise<void>, string, RegExp][] = [
    ["truncated unet", (d) => truncate(join(d, "unet.onnx")), "unet.onnx", /damaged or truncated/],
    [
      "one flipped byte",
      async (d) => {
        const path = join(d, "vqvae_decoder.onnx");
        const bytes = await Deno.readFile(path);
        bytes[bytes.length - 100] ^= 1;
        await Deno.writeFile(path, bytes);
      },
      "vqvae_decoder.onnx",
      /damaged or truncated/,
    ],
    [
      "missing decoder",
      (d) => Deno.remove(join(d, "vqvae_decoder.onnx")),
      "vqvae_decoder.onnx",
      /missing/,
    ],
    [
      "truncated model.json",
      (d) => truncate(join(d, "model.json")),
      "model.json",
      /not valid JSON/,
    ],
    [
      "model.json without hashes",
      (d) => Deno.writeTextFile(join(d, "model.json"), "{}"),
      "model.json",
      /no file hashes/,
    ],
    ["no model.json", (d) => Deno.remove(join(d, "model.json")), "model.json", /cannot read/],
  ];
  for (const [label, damage, file, problem] of cases) {
    const dir = await copyModel(label.replaceAll(" ", "-"));
    await damage(dir);
    await assert.rejects(
      verifyModelFiles(dir),
      (e) =>
        e instanceof ModelFileError && e.path === join(dir, file) && problem.test(e.message) &&
        e.message.includes("convert the model again"),
      label,
    );
  }
});

async function runOn(model: string, out: string, realLoad = false) {
  const { deps, log } = fakeDeps();
  deps.resolveModel = (spec, l) => resolveModel(spec, { modelsDir: join(root, "models"), log: l });
  deps.verifyModel = verifyModelFiles;
  if (realLoad) deps.loadModel = (dir, options) => loadModel(dir, options);
  const lines: string[] = [];
  const code = await main(
    { name: "damaged", model, seed: 1, steps: 10, path: { type: "linear" }, frames: { count: 2 } },
    ["--out", out],
    {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
      signal: new AbortController().signal,
      runner: { deps, log: () => {}, progressWriter: quietWriter },
    },
  );
  return { code, text: lines.join("\n"), log };
}

Deno.test("a run on a damaged model exits 1 naming the file, samples nothing, leaves no folder", async () => {
  const dir = await copyModel("run-truncated");
  await truncate(join(dir, "unet.onnx"));
  const out = join(root, "out-truncated");
  const { code, text, log } = await runOn(dir, out);
  assert.equal(code, 1);
  assert.match(text, new RegExp(`^error: ${join(dir, "unet.onnx")} is damaged or truncated`));
  assert.doesNotMatch(text, /^\s+at /m, "no stack trace");
  assert.equal(log.samples.length, 0);
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
});

Deno.test("an unloadable unet.onnx whose hash was recorded anyway: onnxruntime's error names the file", async () => {
  const dir = await copyModel("run-unloadable");
  const unet = join(dir, "unet.onnx");
  await Deno.writeTextFile(unet, "not a protobuf at all");
  const info = JSON.parse(await Deno.readTextFile(join(dir, "model.json")));
  info.sha256["unet.onnx"] = await sha256File(unet);
  await Deno.writeTextFile(join(dir, "model.json"), JSON.stringify(info));
  const out = join(root, "out-unloadable");
  const { code, text } = await runOn(dir, out, true);
  assert.equal(code, 1);
  assert.match(text, new RegExp(`^error: cannot load ${unet} on cpu`));
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound, "no run folder left behind");
});

Deno.test("cleanup of the model fixtures", async () => {
  await Deno.remove(root, { recursive: true });
});
