import assert from "node:assert/strict";
import { join } from "node:path";
import { tempPathBeside } from "../util/atomic.ts";
import {
  DiskFullError,
  firstMissingAncestor,
  isDiskFull,
  removeTempFiles,
  TEMP_FILE_PATTERN,
  writeRunFile,
} from "./files.ts";

Deno.test("removeTempFiles: only the atomic writer's temporary files go", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const temp = tempPathBeside(join(dir, "manifest.json"));
    assert.match(temp.split("/").pop()!, TEMP_FILE_PATTERN);
    for (const name of [temp, join(dir, "manifest.json"), join(dir, ".lock"), join(dir, "a.tmp")]) {
      await Deno.writeTextFile(name, "x");
    }
    assert.equal(await removeTempFiles(dir), 1);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      [".lock", "a.tmp", "manifest.json"],
    );
    assert.equal(await removeTempFiles(join(dir, "missing")), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("isDiskFull: recognises the OS error of a full device", async () => {
  let error: unknown;
  try {
    await Deno.writeFile("/dev/full", new Uint8Array(16));
  } catch (e) {
    error = e;
  }
  if (Deno.build.os === "linux") assert.ok(isDiskFull(error), String(error));
  assert.ok(isDiskFull(Object.assign(new Error("x"), { code: "EDQUOT" })));
  assert.ok(!isDiskFull(new Deno.errors.NotFound("No such file (os error 2)")));
  assert.ok(!isDiskFull("No space left on device"));
});

Deno.test("writeRunFile: a full disk becomes a DiskFullError naming the file and the advice", async () => {
  const full = () => Promise.reject(new Error("No space left on device (os error 28)"));
  await assert.rejects(
    writeRunFile("/x/frames/a.png", new Uint8Array(1), "free some space", full),
    (e) =>
      e instanceof DiskFullError && e.path === "/x/frames/a.png" &&
      e.message === "no space left on the device while writing /x/frames/a.png: free some space",
  );
  const other = () => Promise.reject(new Deno.errors.PermissionDenied("denied"));
  await assert.rejects(
    writeRunFile("/x", new Uint8Array(1), "", other),
    Deno.errors.PermissionDenied,
  );
});

Deno.test("firstMissingAncestor: what mkdir -p would create", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await firstMissingAncestor(dir), null);
    assert.equal(await firstMissingAncestor(join(dir, "a", "b", "c")), join(dir, "a"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
