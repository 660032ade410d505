import assert from "node:assert/strict";
import { join } from "node:path";
import { readTree, startFakeHub } from "../hub/_fake_hub.ts";
import { formatQuantity } from "../hub/progress.ts";
import { main } from "./model_fetch.ts";

const TINY_LDM = new URL("../testdata/ldm-reference/tiny-ldm/", import.meta.url).pathname;
const REPO = "CompVis/ldm-celebahq-256";

/** Captures what one CLI run writes. */
function capture() {
  const decoder = new TextDecoder();
  const out = { text: "" };
  return {
    out,
    writer: {
      writeSync(bytes: Uint8Array) {
        out.text += decoder.decode(bytes);
        return bytes.length;
      },
    },
  };
}

async function withHub(
  fn: (endpoint: string, cacheDir: string, commit: string) => Promise<void>,
): Promise<void> {
  const hub = await startFakeHub({ repo: REPO, files: await readTree(TINY_LDM) });
  const cacheDir = await Deno.makeTempDir({ prefix: "model_fetch_" });
  try {
    await fn(hub.endpoint, cacheDir, hub.commit);
  } finally {
    await hub.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
}

Deno.test("model:fetch --no-convert downloads the snapshot and prints it (exit 0)", async () => {
  await withHub(async (endpoint, cacheDir, commit) => {
    const stdout = capture();
    const stderr = capture();
    const env = (name: string) => ({ HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheDir })[name];
    const code = await main(["--no-convert"], {
      stdout: stdout.writer,
      stderr: stderr.writer,
      env,
    });
    assert.equal(code, 0, stderr.out.text);
    const snapshot = join(cacheDir, "models--CompVis--ldm-celebahq-256", "snapshots", commit);
    assert.equal(stdout.out.text, `snapshot: ${snapshot}\n`);
    assert.deepEqual(
      await Deno.readFile(join(snapshot, "unet/diffusion_pytorch_model.safetensors")),
      await Deno.readFile(join(TINY_LDM, "unet/diffusion_pytorch_model.safetensors")),
    );
    // Everything but model_index.json is counted (it is fetched before the plan is known).
    const files = await readTree(TINY_LDM);
    const weights = [...files].filter(([p]) => p !== "model_index.json" && !p.endsWith(".bin"));
    const size = formatQuantity(weights.reduce((sum, [, bytes]) => sum + bytes.length, 0), "B");
    assert.ok(stderr.out.text.includes(`download  done: ${size}`), stderr.out.text);
    assert.ok(
      stderr.out.text.includes(`${weights.length} file(s) downloaded (${size}), 0 already`),
    );

    const again = capture();
    assert.equal(
      await main(["--no-convert"], { stdout: capture().writer, stderr: again.writer, env }),
      0,
    );
    assert.match(again.out.text, /0 file\(s\) downloaded \(0 B\), 5 already cached/);
  });
});

Deno.test("model:fetch downloads and converts, decoding CompVis latents unscaled", async () => {
  await withHub(async (endpoint, cacheDir) => {
    const out = join(cacheDir, "converted");
    const stdout = capture();
    const stderr = capture();
    const env = (name: string) => ({ HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheDir })[name];
    const code = await main(["--out", out], { stdout: stdout.writer, stderr: stderr.writer, env });
    assert.equal(code, 0, stderr.out.text);
    assert.match(stdout.out.text, new RegExp(`model: ${out}\n$`));
    const info = JSON.parse(await Deno.readTextFile(join(out, "model.json")));
    // The tiny config says scaling_factor 0.18215; the paper's model must decode with 1.0.
    assert.equal(info.vqvae.scaling_factor, 0.18215);
    assert.equal(info.latentScale, 1);
    assert.match(info.source.id, /^CompVis\/ldm-celebahq-256@[0-9a-f]+$/);
    assert.deepEqual(Object.keys(info.sha256).sort(), [
      "unet.onnx",
      "unet_loop.onnx",
      "vqvae_decoder.onnx",
    ]);
  });
});

Deno.test("model:fetch reports hub errors with exit code 1", async () => {
  await withHub(async (endpoint, cacheDir) => {
    const stderr = capture();
    const env = (name: string) => ({ HF_ENDPOINT: endpoint })[name];
    const code = await main(
      ["--revision", "nope", "--cache-dir", cacheDir, "--no-convert"],
      { stdout: capture().writer, stderr: stderr.writer, env },
    );
    assert.equal(code, 1);
    assert.match(
      stderr.out.text,
      /error: revision "nope" not found in repo CompVis\/ldm-celebahq-256/,
    );
  });
});

Deno.test("model:fetch rejects bad usage with exit code 2", async () => {
  for (const args of [["--bogus"], ["a/b", "c/d"], ["not/a/repo"], ["--revision"]]) {
    const stderr = capture();
    const code = await main(args, {
      stdout: capture().writer,
      stderr: stderr.writer,
      env: () => undefined,
    });
    assert.equal(code, 2, `${args}`);
    assert.match(stderr.out.text, /Usage: deno task model:fetch/);
  }
});

Deno.test("model:fetch as a program: environment, exit codes", async () => {
  await withHub(async (endpoint, cacheDir, commit) => {
    const script = new URL("./model_fetch.ts", import.meta.url).pathname;
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, ...args],
        env: { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cacheDir, HF_TOKEN: "", NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const ok = await run(["--no-convert"]);
    assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    assert.match(new TextDecoder().decode(ok.stdout), new RegExp(`snapshots/${commit}\n$`));
    const bad = await run(["--out"]);
    assert.equal(bad.code, 2);
  });
});
