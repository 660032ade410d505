import assert from "node:assert/strict";
import { join } from "node:path";
import {
  replaceDirAtomic,
  writeChunksAtomic,
  writeFileAtomic,
  writeTextFileAtomic,
} from "./atomic.ts";
import { sha256File, sha256Hex } from "./hash.ts";

Deno.test("writeFileAtomic replaces the file and leaves no temporary behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "a.json");
    await writeTextFileAtomic(path, "one");
    await writeTextFileAtomic(path, "two");
    assert.equal(await Deno.readTextFile(path), "two");
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, ["a.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic into a missing folder fails and leaves nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(writeFileAtomic(join(dir, "missing", "x.bin"), new Uint8Array(3)));
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sha256 of bytes and of a file agree with the published test vector", async () => {
  const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  assert.equal(sha256Hex("abc"), abc);
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "abc");
    await Deno.writeTextFile(path, "abc");
    assert.equal(await sha256File(path), abc);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replaceDirAtomic swaps folders, and puts the old one back when the swap fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const target = join(dir, "model");
    const staging = join(dir, "staging");
    await Deno.mkdir(target);
    await Deno.writeTextFile(join(target, "a"), "old");
    await Deno.mkdir(staging);
    await Deno.writeTextFile(join(staging, "a"), "new");
    await replaceDirAtomic(staging, target);
    assert.equal(await Deno.readTextFile(join(target, "a")), "new");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["model"]);
    // A staging folder that does not exist: the rename fails, the old folder stays in place.
    await assert.rejects(replaceDirAtomic(join(dir, "missing"), target));
    assert.equal(await Deno.readTextFile(join(target, "a")), "new");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["model"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeChunksAtomic writes the chunks in order; a failing source leaves the old file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "w.data");
    await writeChunksAtomic(path, [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])]);
    assert.deepEqual(await Deno.readFile(path), new Uint8Array([1, 2, 3]));
    const failing = async function* () {
      yield new Uint8Array([9, 9, 9, 9]);
      throw new Error("source failed");
    };
    await assert.rejects(writeChunksAtomic(path, failing()), /source failed/);
    assert.deepEqual(await Deno.readFile(path), new Uint8Array([1, 2, 3]), "old contents kept");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.data"], "no temporary");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
