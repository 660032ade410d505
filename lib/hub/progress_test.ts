import assert from "node:assert/strict";
import { formatDuration, formatQuantity, formatRate, Progress } from "./progress.ts";

/** A writer that keeps what was written, and a clock the test moves by hand. */
function harness(tty: boolean) {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  let now = 0;
  const writer = {
    writeSync(bytes: Uint8Array) {
      chunks.push(decoder.decode(bytes));
      return bytes.length;
    },
  };
  return {
    chunks,
    advance: (ms: number) => (now += ms),
    options: { writer, tty, now: () => now },
  };
}

Deno.test("Progress: rate and ETA follow the amounts over time", () => {
  const h = harness(false);
  const progress = new Progress({ ...h.options, total: 1000, unit: "steps", rateWindowMs: 60_000 });
  for (let done = 50; done <= 400; done += 50) {
    h.advance(500);
    progress.update(done);
  }
  // 50 steps per half second.
  assert.equal(progress.rate(), 100);
  assert.equal(progress.eta(), (1000 - 400) / 100);
  assert.match(progress.render(), /40\.0%\s+400 steps \/ 1000 steps\s+100 steps\/s\s+ETA 0:06/);
});

Deno.test("Progress: the rate follows the recent window, not the whole history", () => {
  const h = harness(false);
  const progress = new Progress({ ...h.options, total: 10_000, rateWindowMs: 2_000 });
  // Slow phase (10/s for 10 s), then fast (100/s for 10 s).
  let done = 0;
  for (let i = 0; i < 10; i++) (h.advance(1000), progress.update(done += 10));
  for (let i = 0; i < 10; i++) (h.advance(1000), progress.update(done += 100));
  assert.equal(progress.rate(), 100);
});

Deno.test("Progress: resumed amounts are shown but not counted in the rate", () => {
  const h = harness(false);
  const progress = new Progress({ ...h.options, total: 2000, unit: "B", initial: 1000 });
  assert.equal(progress.rate(), undefined);
  assert.equal(progress.eta(), undefined);
  h.advance(100);
  progress.update(1100);
  // 100 bytes in 0.1 s, though 1100 are done.
  assert.equal(progress.rate(), 1000);
  assert.equal(progress.eta(), 0.9);
});

Deno.test("Progress: without a terminal, one line per interval, then a closing line", () => {
  const h = harness(false);
  const progress = new Progress({ ...h.options, total: 100, label: "job", intervalMs: 1000 });
  for (let i = 1; i <= 30; i++) {
    h.advance(100);
    progress.update(i);
  }
  // 3 s of updates every 0.1 s: the first update and then one per second.
  assert.equal(h.chunks.length, 3);
  assert.ok(h.chunks.every((line) => line.startsWith("job") && line.endsWith("\n")));
  assert.ok(h.chunks.every((line) => !line.includes("\r")));
  progress.finish();
  progress.update(50);
  assert.equal(h.chunks.length, 4, "nothing after finish");
  assert.match(h.chunks[3], /^job {2}done: 30 in 0:03 \(10\.0\/s\)\n$/);
});

Deno.test("Progress: on a terminal, one line redrawn in place", () => {
  const h = harness(true);
  const progress = new Progress({ ...h.options, total: 100, unit: "B", label: "w", redrawMs: 100 });
  for (let i = 1; i <= 20; i++) {
    h.advance(50);
    progress.update(i * 5);
  }
  progress.log("a message");
  progress.finish();
  const text = h.chunks.join("");
  const redraws = h.chunks.filter((c) => c.startsWith("\rw"));
  // Updates every 50 ms with a 100 ms redraw limit: about every other one is drawn.
  assert.ok(redraws.length >= 9 && redraws.length <= 12, `${redraws.length} redraws`);
  assert.ok(redraws.every((c) => c.endsWith("\x1b[K") && !c.includes("\n")));
  assert.ok(text.includes("\r\x1b[Ka message\n"), "log clears the line first");
  assert.ok(text.endsWith("done: 100 B in 0:01 (100 B/s)\n"));
  assert.equal(text.split("\n").length - 1, 2, "only the message and the closing line end lines");
});

Deno.test("Progress: stop() keeps the last state and ends the line, without a summary", () => {
  const tty = harness(true);
  const onTty = new Progress({ ...tty.options, total: 10, label: "x" });
  onTty.update(4);
  onTty.stop();
  onTty.update(5);
  assert.equal(tty.chunks.join(""), `\r${onTty.render()}\x1b[K\n`);
  assert.ok(!tty.chunks.join("").includes("done"));

  const plain = harness(false);
  const inLog = new Progress({ ...plain.options, total: 10, label: "x" });
  inLog.update(4);
  plain.advance(100);
  inLog.update(6);
  inLog.stop();
  assert.equal(plain.chunks.length, 2);
  assert.match(plain.chunks[1], /^x\s+60\.0%/);
});

Deno.test("format helpers: binary prefixes, rates and durations", () => {
  assert.equal(formatQuantity(512, "B"), "512 B");
  assert.equal(formatQuantity(1536, "B"), "1.50 KiB");
  assert.equal(formatQuantity(1.5 * 1024 ** 3, "B"), "1.50 GiB");
  assert.equal(formatQuantity(123.4 * 1024 ** 2, "B"), "123 MiB");
  assert.equal(formatQuantity(7, "images"), "7 images");
  assert.equal(formatQuantity(2.5), "2.50");
  assert.equal(formatRate(12.34 * 1024 ** 2, "B"), "12.3 MiB/s");
  assert.equal(formatRate(0.5, "steps"), "0.50 steps/s");
  assert.equal(formatDuration(59.4), "0:59");
  assert.equal(formatDuration(61), "1:01");
  assert.equal(formatDuration(3 * 3600 + 5 * 60 + 7), "3:05:07");
  assert.equal(formatDuration(Number.POSITIVE_INFINITY), "?");
});
