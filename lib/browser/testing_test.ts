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
  assert.match(MISSING_CHROMIUM, /FLUIDITY_SKIP_BROWSER=1/);
});
