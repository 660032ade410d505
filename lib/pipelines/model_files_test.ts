import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256File, sha256Hex } from "../util/hash.ts";
import {
  ModelFileError,
  REHASH_ENV,
  VERIFIED_RECORD_FILE,
  verifyModelFiles,
} from "./model_files.ts";

/** A model folder: two files and the model.json listing their hashes. */
async function makeModel(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "model_files_" });
  const files: Record<string, Uint8Array> = {
    "unet.onnx": new TextEncoder().encode("a model file"),
    "unet.onnx.data": Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff),
  };
  const sha256: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(files)) {
    await Deno.writeFile(join(dir, name), bytes);
    sha256[name] = sha256Hex(bytes);
  }
  await Deno.writeTextFile(join(dir, "model.json"), JSON.stringify({ sha256 }));
  return dir;
}

/** A hasher that records which files it read. */
function countingHasher() {
  const hashed: string[] = [];
  return {
    hashed,
    hashFile: (path: string) => {
      hashed.push(path.split("/").at(-1)!);
      return sha256File(path);
    },
  };
}

async function withModel(fn: (dir: string) => Promise<void>) {
  const dir = await makeModel();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Flips one byte of `path`, keeping its size, and sets its mtime to `mtime`. */
async function alter(path: string, mtime: Date) {
  const bytes = await Deno.readFile(path);
  bytes[100] ^= 0xff;
  await Deno.writeFile(path, bytes);
  await Deno.utime(path, mtime, mtime);
}

Deno.test("verifyModelFiles hashes once, then reuses the record while size and mtime hold", async () => {
  await withModel(async (dir) => {
    const first = countingHasher();
    await verifyModelFiles(dir, () => {}, { hashFile: first.hashFile });
    assert.deepEqual(first.hashed.sort(), ["unet.onnx", "unet.onnx.data"]);
    const record = JSON.parse(await Deno.readTextFile(join(dir, VERIFIED_RECORD_FILE)));
    const info = JSON.parse(await Deno.readTextFile(join(dir, "model.json")));
    for (const [file, sha256] of Object.entries(info.sha256)) {
      const stat = await Deno.stat(join(dir, file));
      assert.deepEqual(record.files[file], {
        size: stat.size,
        mtimeMs: stat.mtime!.getTime(),
        sha256,
      });
    }

    const second = countingHasher();
    const before = await Deno.stat(join(dir, VERIFIED_RECORD_FILE));
    await verifyModelFiles(dir, () => {}, { hashFile: second.hashFile });
    assert.deepEqual(second.hashed, [], "no file bytes read");
    const after = await Deno.stat(join(dir, VERIFIED_RECORD_FILE));
    assert.equal(after.mtime?.getTime(), before.mtime?.getTime(), "record not rewritten");
  });
});

Deno.test("a file altered to the same size with a new mtime is hashed again and refused", async () => {
  await withModel(async (dir) => {
    await verifyModelFiles(dir);
    const data = join(dir, "unet.onnx.data");
    const { size, mtime } = await Deno.stat(data);
    await alter(data, new Date(mtime!.getTime() + 5000));
    assert.equal((await Deno.stat(data)).size, size);
    const hasher = countingHasher();
    await assert.rejects(
      verifyModelFiles(dir, () => {}, { hashFile: hasher.hashFile }),
      (e) =>
        e instanceof ModelFileError && e.path === data && /damaged or truncated/.test(e.message),
    );
    assert.deepEqual(hasher.hashed, ["unet.onnx.data"], "only the changed file is read");
    // Still refused next time: a failed check records nothing.
    await assert.rejects(verifyModelFiles(dir), ModelFileError);
  });
});

Deno.test("the trade-off: an edit keeping size and mtime passes until a full check is forced", async () => {
  await withModel(async (dir) => {
    await verifyModelFiles(dir);
    const data = join(dir, "unet.onnx.data");
    await alter(data, (await Deno.stat(data)).mtime!);
    await verifyModelFiles(dir); // not caught: the record vouches for size and mtime only
    await assert.rejects(verifyModelFiles(dir, () => {}, { rehash: true }), ModelFileError);
    Deno.env.set(REHASH_ENV, "1");
    try {
      await assert.rejects(verifyModelFiles(dir), ModelFileError);
    } finally {
      Deno.env.delete(REHASH_ENV);
    }
    await Deno.remove(join(dir, VERIFIED_RECORD_FILE));
    await assert.rejects(verifyModelFiles(dir), ModelFileError, "deleting the record works too");
  });
});

Deno.test("a damaged or foreign record is ignored: every file is hashed and the record rewritten", async () => {
  await withModel(async (dir) => {
    await verifyModelFiles(dir);
    const path = join(dir, VERIFIED_RECORD_FILE);
    const good = JSON.parse(await Deno.readTextFile(path));
    const stat = await Deno.stat(join(dir, "unet.onnx"));
    const damaged: [string, string][] = [
      ["truncated", JSON.stringify(good).slice(0, 40)],
      ["not an object", "null"],
      ["files is a list", JSON.stringify({ files: [good.files["unet.onnx"]] })],
      [
        "entries of the wrong type",
        JSON.stringify({
          files: Object.fromEntries(
            Object.entries(good.files).map(([f, e]) => [f, { ...(e as object), size: "12" }]),
          ),
        }),
      ],
      [
        "a hash other than model.json's",
        JSON.stringify({
          files: {
            ...good.files,
            "unet.onnx": {
              size: stat.size,
              mtimeMs: stat.mtime!.getTime(),
              sha256: "0".repeat(64),
            },
            "unet.onnx.data": { ...good.files["unet.onnx.data"], sha256: "not hex" },
          },
        }),
      ],
    ];
    for (const [label, text] of damaged) {
      await Deno.writeTextFile(path, text);
      const hasher = countingHasher();
      await verifyModelFiles(dir, () => {}, { hashFile: hasher.hashFile });
      assert.deepEqual(hasher.hashed.sort(), ["unet.onnx", "unet.onnx.data"], label);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(path)).files, good.files, label);
    }
    // A damaged record does not hide a damaged file either.
    await Deno.writeTextFile(path, "{");
    const data = join(dir, "unet.onnx.data");
    await alter(data, (await Deno.stat(data)).mtime!);
    await assert.rejects(verifyModelFiles(dir), ModelFileError);
  });
});

Deno.test("a record that cannot be written leaves the check intact, with a note", async () => {
  await withModel(async (dir) => {
    // A folder in the record's place: no one, not even root, can rename a file over it.
    await Deno.mkdir(join(dir, VERIFIED_RECORD_FILE));
    const lines: string[] = [];
    const hasher = countingHasher();
    await verifyModelFiles(dir, (l) => lines.push(l), { hashFile: hasher.hashFile });
    assert.equal(hasher.hashed.length, 2);
    assert.ok(lines.some((l) => l.includes("will be hashed again next time")), lines.join("\n"));
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      [VERIFIED_RECORD_FILE, "model.json", "unet.onnx", "unet.onnx.data"],
      "no temporary file left",
    );
  });
});
