import assert from "node:assert/strict";
import { MISSING_CHROMIUM } from "./find.ts";
import { browserTestPlan } from "./testing.ts";

Deno.test("browserTestPlan: runs with Chromium, fails without, ignores only on FLUIDITY_SKIP_BROWSER=1", () => {
  assert.deepEqual(browserTestPlan("/usr/bin/chromium", null), {
    mode: "run",
    executable: "/usr/bin/chromium",
  });
  assert.deepEqual(browserTestPlan(null, null), { mode: "fail", reason: MISSING_CHROMIUM });
  assert.deepEqual(browserTestPlan(null, "0"), { mode: "fail", reason: MISSING_CHROMIUM });
  assert.equal(browserTestPlan(null, "1").mode, "ignore");
  assert.equal(browserTestPlan("/usr/bin/chromium", "1").mode, "ignore");
});

Deno.test("MISSING_CHROMIUM: its advice works (the CHROMIUM=… it names is launched, the skip setting ignores)", async () => {
  const chromium = MISSING_CHROMIUM.match(/ or set (\w+)=([^;\s]+)/);
  const skip = MISSING_CHROMIUM.match(/ set (\w+)=(\S+) to ignore browser tests/);
  assert.ok(chromium && skip, MISSING_CHROMIUM);
  // In a process of its own with the environment the message asks for: this one's environment is
  // shared with the test modules running beside it (--parallel), which read it.
  const script = `import { browserTestPlan } from ${
    JSON.stringify(import.meta.resolve("./testing.ts"))
  };
    const skipped = browserTestPlan();
    Deno.env.delete(${JSON.stringify(skip[1])});
    console.log(JSON.stringify([skipped.mode, browserTestPlan()]));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    env: { [chromium[1]]: chromium[2], [skip[1]]: skip[2] },
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [
    "ignore",
    { mode: "run", executable: chromium[2] },
  ]);
});
