import assert from "node:assert/strict";
import { LDM_CELEBAHQ_UNET_CONFIG, LDM_CELEBAHQ_VQVAE_CONFIG } from "../models/mod.ts";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { readSafetensors } from "../io/safetensors.ts";
import { toFloat32 } from "../io/tensor.ts";
import { sha256File } from "../util/hash.ts";
import { main } from "../cli/model_convert.ts";
import { loadModel, sample } from "../pipelines/mod.ts";
import {
  convertDiffusers,
  CONVERTER_VERSION,
  ConvertError,
  defaultLatentScale,
} from "./convert.ts";
import { FUSED_LOOP_FILE } from "../pipelines/model.ts";
import { verifyModelFiles } from "../pipelines/model_files.ts";

const REF = new URL("../testdata/ldm-reference/", import.meta.url).pathname;

/** fp16 against fp32 sampling of the tiny model: image values, and latents relative to max. */
const FP16_IMAGE_TOLERANCE = 5e-3;
const FP16_LATENT_TOLERANCE = 1e-3;

async function withTemp(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "convert_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A copy of tiny-ldm with only the .bin weights (the form the CompVis repo ships). */
async function binOnlyCopy(dir: string): Promise<string> {
  const src = join(REF, "tiny-ldm");
  const dst = join(dir, "bin-only");
  for (const sub of ["unet", "vqvae", "scheduler"]) {
    await Deno.mkdir(join(dst, sub), { recursive: true });
    for (const entry of Deno.readDirSync(join(src, sub))) {
      if (entry.name.endsWith(".safetensors")) continue;
      await Deno.copyFile(join(src, sub, entry.name), join(dst, sub, entry.name));
    }
  }
  return dst;
}

Deno.test("safetensors, .bin and legacy-named .bin convert to byte-identical graphs", async () => {
  await withTemp(async (dir) => {
    const sources = [join(REF, "tiny-ldm"), await binOnlyCopy(dir), join(REF, "tiny-ldm-legacy")];
    const hashes: Record<string, string>[] = [];
    for (const [i, src] of sources.entries()) {
      const info = await convertDiffusers(src, join(dir, `out${i}`));
      hashes.push(info.sha256);
      for (const [file, hash] of Object.entries(info.sha256)) {
        assert.equal(
          await sha256File(join(dir, `out${i}`, file)),
          hash,
          `model.json hash of ${file}`,
        );
      }
    }
    assert.deepEqual(hashes[1], hashes[0]);
    assert.deepEqual(hashes[2], hashes[0]);
  });
});

Deno.test("converted unet.onnx and vqvae_decoder.onnx reproduce diffusers' outputs", async () => {
  await withTemp(async (dir) => {
    const info = await convertDiffusers(join(REF, "tiny-ldm-legacy"), dir);
    assert.equal(info.latentChannels, 3);
    assert.equal(info.latentSize, 16);
    assert.equal(info.imageSize, 64);
    const unetIo = await readSafetensors(join(REF, "unet_io.safetensors"));
    const x = toFloat32(unetIo.tensors.get("x")!);
    const unet = await ort.InferenceSession.create(join(dir, "unet.onnx"));
    for (const t of [999, 500, 10, 0]) {
      const out = await unet.run({
        sample: new ort.Tensor("float32", x, [2, 3, 16, 16]),
        timestep: new ort.Tensor("float32", new Float32Array([t, t]), [2]),
      });
      const ref = toFloat32(unetIo.tensors.get(`eps_t${t}`)!);
      const eps = out.eps.data as Float32Array;
      let max = 0;
      for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(eps[i] - ref[i]));
      assert.ok(max <= 1e-4, `t=${t}: eps differs by ${max}`);
    }
    await unet.release();
    const vq = await readSafetensors(join(REF, "vqvae_io.safetensors"));
    const decoder = await ort.InferenceSession.create(join(dir, "vqvae_decoder.onnx"));
    const out = await decoder.run({
      latents: new ort.Tensor("float32", toFloat32(vq.tensors.get("z")!), [2, 3, 16, 16]),
    });
    assert.deepEqual(
      Array.from(out.codes.data as BigInt64Array),
      Array.from(new BigInt64Array(vq.tensors.get("codes")!.bytes.slice().buffer)),
    );
    const ref = toFloat32(vq.tensors.get("decoded_quantized")!);
    const image = out.image.data as Float32Array;
    let max = 0;
    for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(image[i] - ref[i]));
    assert.ok(max <= 1e-3, `decoded image differs by ${max}`);
    await decoder.release();
  });
});

Deno.test("latent scale: 1.0 for CompVis/ldm-celebahq-256, else the config, overridable", async () => {
  const tiny = {
    unet: JSON.parse(await Deno.readTextFile(join(REF, "tiny-ldm/unet/config.json"))),
    vqvae: JSON.parse(await Deno.readTextFile(join(REF, "tiny-ldm/vqvae/config.json"))),
  };
  assert.equal(defaultLatentScale(tiny, { id: "CompVis/ldm-celebahq-256@abc" }).value, 1);
  assert.equal(
    defaultLatentScale(tiny, { dir: "/cache/models--CompVis--ldm-celebahq-256/snapshots/x" }).value,
    1,
  );
  assert.equal(defaultLatentScale(tiny, { id: "someone/other-ldm" }).value, 0.18215);
  // The CompVis architecture is recognised under any name, even with a re-saved scaling_factor.
  const compvis = {
    unet: { ...LDM_CELEBAHQ_UNET_CONFIG },
    vqvae: { ...LDM_CELEBAHQ_VQVAE_CONFIG, scaling_factor: 0.18215 },
  };
  assert.equal(defaultLatentScale(compvis, { dir: "/home/me/ldm-celebahq-256" }).value, 1);
  // Another model without scaling_factor gets diffusers' default, as the stock pipeline would.
  const other = { unet: tiny.unet, vqvae: { ...tiny.vqvae, scaling_factor: undefined } };
  assert.equal(defaultLatentScale(other, { id: "someone/other-ldm" }).value, 0.18215);
  const scaled = { unet: tiny.unet, vqvae: { ...tiny.vqvae, scaling_factor: 0.5 } };
  assert.equal(defaultLatentScale(scaled).value, 0.5);
  await withTemp(async (dir) => {
    const info = await convertDiffusers(join(REF, "tiny-ldm"), dir, { latentScale: 0.5 });
    assert.equal(info.latentScale, 0.5);
    const info2 = await convertDiffusers(join(REF, "tiny-ldm"), dir, {
      sourceId: "CompVis/ldm-celebahq-256",
    });
    assert.equal(info2.latentScale, 1);
  });
});

Deno.test("conversion errors name the file or the config field; no partial output is left", async () => {
  await withTemp(async (dir) => {
    await assert.rejects(
      convertDiffusers(join(dir, "nowhere"), join(dir, "out")),
      (e: Error) =>
        e instanceof ConvertError && e.message.includes("unet/config.json") &&
        e.message.includes("not found"),
    );
    const src = await binOnlyCopy(dir);
    const configPath = join(src, "unet", "config.json");
    const config = JSON.parse(await Deno.readTextFile(configPath));
    await Deno.writeTextFile(configPath, JSON.stringify({ ...config, act_fn: "gelu" }));
    await assert.rejects(convertDiffusers(src, join(dir, "out")), /act_fn/);
    await Deno.writeTextFile(configPath, "{ not json");
    await assert.rejects(
      convertDiffusers(src, join(dir, "out")),
      /config\.json.*not a valid config/,
    );
    await Deno.writeTextFile(configPath, JSON.stringify(config));
    await Deno.remove(join(src, "vqvae", "diffusion_pytorch_model.bin"));
    await assert.rejects(convertDiffusers(src, join(dir, "out")), /vqvae/);
    const leftovers = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
      n.startsWith("out")
    );
    assert.deepEqual(leftovers, []);
  });
});

Deno.test("the converter writes unet_loop.onnx and records the precision", async () => {
  await withTemp(async (dir) => {
    const info = await convertDiffusers(join(REF, "tiny-ldm"), dir);
    assert.equal(info.converterVersion, CONVERTER_VERSION);
    assert.equal(info.precision, "fp32");
    assert.ok(FUSED_LOOP_FILE in info.sha256, "unet_loop.onnx is hashed in model.json");
    const session = await ort.InferenceSession.create(join(dir, FUSED_LOOP_FILE));
    assert.deepEqual(session.outputNames, ["denoised"]);
    await session.release();
  });
});

Deno.test("an fp16 conversion samples close to fp32 (step by step and fused)", async () => {
  await withTemp(async (dir) => {
    const fp32Dir = join(dir, "fp32");
    const fp16Dir = join(dir, "fp16");
    await convertDiffusers(join(REF, "tiny-ldm"), fp32Dir);
    const info = await convertDiffusers(join(REF, "tiny-ldm"), fp16Dir, { precision: "fp16" });
    assert.equal(info.precision, "fp16");
    const bytes = (d: string) => Deno.statSync(join(d, "unet.onnx")).size;
    assert.ok(bytes(fp16Dir) < 0.6 * bytes(fp32Dir), "fp16 weights take half the space");
    const options = {
      seed: 0,
      steps: 50,
      colors: [[1, 0, 0], [0.2, 0.6, 1]] as [number, number, number][],
      scale: 0.5,
    };
    const fp32 = await loadModel(fp32Dir, { threads: 1 });
    const fp16 = await loadModel(fp16Dir, { threads: 1 });
    try {
      const ref = await sample(fp32, options);
      for (const fused of [false, true]) {
        const half = await sample(fp16, { ...options, fused });
        let latMax = 0;
        let latMag = 0;
        for (let i = 0; i < ref.latents.length; i++) {
          latMax = Math.max(latMax, Math.abs(half.latents[i] - ref.latents[i]));
          latMag = Math.max(latMag, Math.abs(ref.latents[i]));
        }
        let imgMax = 0;
        let within = 0;
        for (let i = 0; i < ref.images.length; i++) {
          const d = Math.abs(half.images[i] - ref.images[i]);
          imgMax = Math.max(imgMax, d);
          if (d <= FP16_IMAGE_TOLERANCE) within++;
        }
        const share = within / ref.images.length;
        console.log(
          `  fp16 vs fp32 (fused ${fused}): latents max ${latMax.toExponential(2)} ` +
            `(${(latMax / latMag).toExponential(2)} of max |latent|), images max ` +
            `${imgMax.toExponential(2)}, ${
              (100 * share).toFixed(2)
            } % within ${FP16_IMAGE_TOLERANCE}`,
        );
        assert.ok(latMax / latMag <= FP16_LATENT_TOLERANCE, `latents differ by ${latMax}`);
        assert.ok(share >= 0.999, `only ${share} of image values within ${FP16_IMAGE_TOLERANCE}`);
      }
    } finally {
      await fp32.release();
      await fp16.release();
    }
  });
});

Deno.test("model:convert --precision accepts fp32 and fp16 only", async () => {
  assert.equal(await main(["--precision", "fp8", "a", "b"]), 2);
});

Deno.test("conversions started together into one folder take turns and leave one complete model", async () => {
  await withTemp(async (dir) => {
    const out = join(dir, "model");
    const infos = await Promise.all(
      [0, 1, 2, 3].map(() => convertDiffusers(join(REF, "tiny-ldm"), out)),
    );
    for (const info of infos) assert.deepEqual(info.sha256, infos[0].sha256);
    for (const [file, hash] of Object.entries(infos[0].sha256)) {
      assert.equal(await sha256File(join(out, file)), hash, file);
    }
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names.filter((n) => !n.startsWith(".")), ["model"], names.join(", "));
  });
});

Deno.test("reuse keeps an intact, current conversion and rebuilds a changed or damaged one", async () => {
  await withTemp(async (dir) => {
    const src = join(REF, "tiny-ldm");
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const first = await convertDiffusers(src, dir, { latentScale: 1, reuse: true, log });
    const mtime = (await Deno.stat(join(dir, "unet.onnx"))).mtime?.getTime();
    lines.length = 0;
    const again = await convertDiffusers(src, dir, { latentScale: 1, reuse: true, log });
    assert.deepEqual(again, first);
    assert.ok(lines.some((l) => l.endsWith("is up to date")), lines.join("\n"));
    assert.equal((await Deno.stat(join(dir, "unet.onnx"))).mtime?.getTime(), mtime);
    // Another latent scale is another conversion.
    const rescaled = await convertDiffusers(src, dir, { latentScale: 0.5, reuse: true });
    assert.equal(rescaled.latentScale, 0.5);
    // A damaged file is rebuilt, not trusted.
    const bytes = await Deno.readFile(join(dir, "vqvae_decoder.onnx"));
    bytes[bytes.length - 1] ^= 0xff;
    await Deno.writeFile(join(dir, "vqvae_decoder.onnx"), bytes);
    lines.length = 0;
    const repaired = await convertDiffusers(src, dir, { latentScale: 0.5, reuse: true, log });
    assert.ok(lines.some((l) => l.startsWith("converting")), lines.join("\n"));
    assert.equal(
      await sha256File(join(dir, "vqvae_decoder.onnx")),
      repaired.sha256["vqvae_decoder.onnx"],
    );
  });
});

Deno.test("the converter hashes what it writes as it writes it: no converted file is read back", async () => {
  await withTemp(async (dir) => {
    const out = join(dir, "model");
    const opened: string[] = [];
    const open = Deno.open;
    const readFile = Deno.readFile;
    // Every way the project reads a file (sha256File streams through Deno.open); folders are
    // opened too, to make renames durable.
    Deno.open = (path, options) => {
      const reads = !options?.write && !options?.append && !options?.create;
      if (reads && Deno.statSync(path).isFile) opened.push(String(path));
      return open(path, options);
    };
    Deno.readFile = (path, options) => {
      opened.push(String(path));
      return readFile(path, options);
    };
    let info;
    try {
      info = await convertDiffusers(join(REF, "tiny-ldm"), out);
    } finally {
      Deno.open = open;
      Deno.readFile = readFile;
    }
    const readBack = opened.filter((p) => p.startsWith(out));
    assert.deepEqual(readBack, [], "converted files read back");
    assert.ok(opened.some((p) => p.startsWith(join(REF, "tiny-ldm"))), "the source is read");
    for (const [file, hash] of Object.entries(info.sha256)) {
      assert.equal(await sha256File(join(out, file)), hash, file);
    }
    assert.deepEqual(
      Object.keys(info.sha256),
      [...Deno.readDirSync(out)].map((e) => e.name).filter((n) =>
        n.endsWith(".onnx") ||
        n.endsWith(".data")
      ).sort((a, b) => a.localeCompare(b)),
    );
  });
});

Deno.test("a conversion records its files as verified: the first check after it hashes nothing", async () => {
  await withTemp(async (dir) => {
    const out = join(dir, "model");
    const info = await convertDiffusers(join(REF, "tiny-ldm"), out);
    const hashed: string[] = [];
    const hashFile = (path: string) => (hashed.push(path), sha256File(path));
    await verifyModelFiles(out, () => {}, { hashFile });
    assert.deepEqual(hashed, []);
    // …and the record is the real thing: a full check agrees with it.
    await verifyModelFiles(out, () => {}, { hashFile, rehash: true });
    assert.deepEqual(hashed.sort(), Object.keys(info.sha256).map((f) => join(out, f)).sort());
  });
});
