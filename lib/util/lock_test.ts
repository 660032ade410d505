import assert from "node:assert/strict";
import { deadPid } from "./_test_process.ts";
import { join } from "node:path";
import {
  acquireLock,
  holderState,
  LockHeldError,
  type LockHolder,
  processAlive,
  processStartTime,
  readLock,
  thisHost,
} from "./lock.ts";

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "lock_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function holder(fields: Partial<LockHolder>): LockHolder {
  return {
    pid: Deno.pid,
    hostname: thisHost(),
    startedAt: "2025-01-01T00:00:00.000Z",
    token: crypto.randomUUID(),
    ...fields,
  };
}

Deno.test("acquireLock: the lock file names its holder; a second taker is refused by name", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".lock");
    const lock = await acquireLock(path, { purpose: "test run", what: `run folder ${dir}` });
    const onDisk = await readLock(path);
    assert.equal(onDisk?.pid, Deno.pid);
    assert.equal(onDisk?.hostname, thisHost());
    assert.equal(onDisk?.purpose, "test run");
    assert.ok(!Number.isNaN(Date.parse(onDisk!.startedAt)));
    await assert.rejects(
      acquireLock(path, { what: `run folder ${dir}`, waitHint: "pass --wait to wait" }),
      (e) =>
        e instanceof LockHeldError && e.message.includes(
          `run folder ${dir} is in use by pid ` +
            `${Deno.pid} on host ${JSON.stringify(thisHost())}`,
        ) &&
        e.message.includes("pass --wait to wait"),
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [".lock"], "no temp files");
    await lock.release();
    await lock.release(); // idempotent
    assert.equal(await readLock(path), undefined);
    const again = await acquireLock(path);
    await again.release();
  });
});

Deno.test("acquireLock: a taker whose temporary file and folder are cleaned away under it tries again", async () => {
  await withTempDir(async (dir) => {
    const folder = join(dir, "run");
    const path = join(folder, ".lock");
    await Deno.mkdir(folder);
    // What a finishing holder does between our temporary file and its link (seen on CI): its
    // run removes the temporary files of interrupted runs, then the folder it leaves empty.
    const link = Deno.link;
    let cleaned = 0;
    Deno.link = async (from: string, to: string) => {
      if (cleaned++ === 0) {
        for (const entry of Deno.readDirSync(folder)) await Deno.remove(join(folder, entry.name));
        await Deno.remove(folder);
      }
      return await link(from, to);
    };
    try {
      const lock = await acquireLock(path, { wait: true, pollMs: 10 });
      assert.equal((await readLock(path))?.pid, Deno.pid);
      assert.deepEqual([...Deno.readDirSync(folder)].map((e) => e.name), [".lock"]);
      await lock.release();
    } finally {
      Deno.link = link;
    }
    assert.equal(cleaned, 2, "one attempt cleaned away, the next one took the lock");
  });
});

Deno.test("acquireLock: of many concurrent takers exactly one wins", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".lock");
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => acquireLock(path, { log: () => {} })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    assert.equal(won.length, 1);
    assert.ok(
      results.every((r) => r.status === "fulfilled" || r.reason instanceof LockHeldError),
    );
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
  });
});

Deno.test("acquireLock with wait: proceeds once the holder releases", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".lock");
    const first = await acquireLock(path);
    const messages: string[] = [];
    let acquired = false;
    const second = acquireLock(path, { wait: true, pollMs: 10, log: (m) => messages.push(m) })
      .then((lock) => {
        acquired = true;
        return lock;
      });
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(acquired, false, "still waiting while the lock is held");
    assert.match(messages[0], /^waiting for .* in use by pid/);
    await first.release();
    const lock = await second;
    assert.equal((await readLock(path))?.token, lock.holder.token);
    await lock.release();
  });
});

Deno.test("acquireLock with wait: an abort stops the waiting", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".lock");
    const first = await acquireLock(path);
    const controller = new AbortController();
    const waiting = acquireLock(path, {
      wait: true,
      pollMs: 10,
      signal: controller.signal,
      log: () => {},
    });
    setTimeout(() => controller.abort(new Error("stop")), 30);
    await assert.rejects(waiting, /stop/);
    await first.release();
  });
});

Deno.test("a lock of another worker of this process (same pid and start) is alive", () => {
  const start = processStartTime(Deno.pid);
  const other = holder({ pid: Deno.pid, ...(start !== null ? { processStart: start } : {}) });
  assert.equal(holderState(other), "alive");
});

Deno.test("stale locks (dead pid, reused pid, our pid from an earlier life) are taken over with a warning", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".lock");
    const dead = await deadPid();
    const stale = [
      holder({ pid: dead }),
    ];
    if (processStartTime(Deno.pid) !== null) {
      // Our own pid but another start time: a previous container incarnation.
      stale.push(holder({ pid: Deno.pid, processStart: "1" }));
      // A live pid whose process started at another time: the pid was reused.
      stale.push(holder({ pid: Deno.pid === 1 ? 2 : 1, processStart: "1" }));
    }
    for (const old of stale) {
      await Deno.writeTextFile(path, JSON.stringify(old));
      assert.equal(holderState(old), "dead", JSON.stringify(old));
      const warnings: string[] = [];
      const lock = await acquireLock(path, { log: (m) => warnings.push(m) });
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], new RegExp(`stale lock .* of pid ${old.pid} .* no longer running`));
      await lock.release();
    }
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing left behind");
  });
});

Deno.test("a lock from another host is never taken over; the message says what to delete", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".lock");
    await Deno.writeTextFile(path, JSON.stringify(holder({ hostname: "other-node-7", pid: 42 })));
    await assert.rejects(
      acquireLock(path, { what: "the folder" }),
      (e) =>
        e instanceof LockHeldError && e.holder?.hostname === "other-node-7" &&
        e.message.includes('pid 42 on host "other-node-7"') &&
        e.message.includes(`delete ${path}`),
    );
  });
});

Deno.test("an unreadable lock file is waited on while fresh and taken over when old", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, ".lock");
    await Deno.writeTextFile(path, "");
    await assert.rejects(acquireLock(path), LockHeldError);
    const old = new Date(Date.now() - 60_000);
    await Deno.utime(path, old, old);
    const warnings: string[] = [];
    const lock = await acquireLock(path, { log: (m) => warnings.push(m) });
    assert.match(warnings[0], /unknown process/);
    await lock.release();
  });
});

Deno.test("processAlive: this process yes, an exited one no", async () => {
  assert.equal(processAlive(Deno.pid), true);
  assert.equal(processAlive(await deadPid()), false);
  assert.equal(processAlive(-1), false);
});
