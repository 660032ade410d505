import assert from "node:assert/strict";
import { join } from "node:path";
import { deadPid } from "../util/_test_process.ts";
import { acquireLock, readLock, thisHost } from "../util/lock.ts";
import { BENCH_DIR_PREFIX, makeBenchTempDir, removeAbandonedBenchDirs } from "./temp_models.ts";

Deno.test("a bench's temporary folder is locked by it and removed with its lock", async () => {
  const temp = await makeBenchTempDir();
  assert.ok(temp.path.split("/").at(-1)!.startsWith(BENCH_DIR_PREFIX));
  assert.equal((await readLock(join(temp.path, ".lock")))?.pid, Deno.pid);
  await temp.remove();
  await assert.rejects(Deno.stat(temp.path), Deno.errors.NotFound);
});

Deno.test("folders of benchmarks no longer running are removed; live, fresh and foreign ones kept", async () => {
  const root = await Deno.makeTempDir({ prefix: "bench-leftovers-" });
  try {
    const make = async (name: string) => {
      await Deno.mkdir(join(root, name, "sub"), { recursive: true });
      await Deno.writeFile(join(root, name, "sub", "unet.onnx.data"), new Uint8Array(64));
      return join(root, name);
    };
    const deadLock = async (dir: string) =>
      await Deno.writeTextFile(
        join(dir, ".lock"),
        JSON.stringify({
          pid: await deadPid(),
          hostname: thisHost(),
          startedAt: new Date().toISOString(),
          token: crypto.randomUUID(),
          purpose: "deno task bench",
        }),
      );
    const killed = await make(`${BENCH_DIR_PREFIX}killed`);
    await deadLock(killed);
    const running = await make(`${BENCH_DIR_PREFIX}running`);
    const lock = await acquireLock(join(running, ".lock"));
    const oldUnlocked = await make(`${BENCH_DIR_PREFIX}old`);
    const longAgo = new Date(Date.now() - 2 * 3600_000);
    await Deno.utime(oldUnlocked, longAgo, longAgo);
    await make(`${BENCH_DIR_PREFIX}fresh`);
    const foreign = await make("someone-else");
    await deadLock(foreign);
    const own = await make(`${BENCH_DIR_PREFIX}own`);
    await deadLock(own);

    const lines: string[] = [];
    await removeAbandonedBenchDirs(root, own, (l) => lines.push(l));
    const left = [...Deno.readDirSync(root)].map((e) => e.name).sort();
    assert.deepEqual(left, [
      `${BENCH_DIR_PREFIX}fresh`,
      `${BENCH_DIR_PREFIX}own`,
      `${BENCH_DIR_PREFIX}running`,
      "someone-else",
    ]);
    assert.deepEqual(lines.sort(), [
      `removed ${killed}, left behind by a benchmark that is no longer running`,
      `removed ${oldUnlocked}, left behind by a benchmark that is no longer running`,
    ]);
    await lock.release();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
