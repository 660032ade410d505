import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "./verify.ts";
import { captureIo, gradientImage, writeTestRun } from "../compare/_test_util.ts";
import type { VerifyReport } from "../compare/verify.ts";

Deno.test("verify CLI: exit codes 0, 1 and 2; --json", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const manifest = await writeTestRun(tmp, [{ rgba: gradientImage(16, 16) }]);
    assert.equal(await main([tmp], captureIo().io), 0);

    const path = join(tmp, manifest.frames[0].file);
    const bytes = await Deno.readFile(path);
    bytes[bytes.length - 20] ^= 0xff;
    await Deno.writeFile(path, bytes);
    const json = captureIo();
    assert.equal(await main(["--json", tmp], json.io), 1);
    const report = JSON.parse(json.out.join("\n")) as VerifyReport;
    assert.equal(report.ok, false);
    assert.equal(report.corrupt[0].file, manifest.frames[0].file);

    const missing = captureIo();
    assert.equal(await main([join(tmp, "nope")], missing.io), 2);
    assert.match(missing.err.join(), /nope: no such run folder/);
    assert.equal(await main([], captureIo().io), 2);
    assert.equal(await main(["--what", tmp], captureIo().io), 2);

    await Deno.writeTextFile(join(tmp, "manifest.json"), "{");
    const corrupt = captureIo();
    assert.equal(await main([tmp], corrupt.io), 1);
    assert.match(corrupt.err.join(), /manifest\.json is damaged \(not valid JSON/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
