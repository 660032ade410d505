/**
 * Registering browser tests: a test that needs Chromium **fails** when it is missing (CI
 * installs it, so a missing browser is a broken setup, not a reason to pass), unless
 * `FLUIDITY_SKIP_BROWSER=1` says to ignore browser tests on this machine.
 *
 * @module
 */

import { type Browser, launchBrowser, type LaunchOptions } from "./chromium.ts";
import { findChromium, MISSING_CHROMIUM } from "./find.ts";

/** What to do with a browser test, from {@link browserTestPlan}. */
export type BrowserTestPlan =
  | { mode: "run"; executable: string }
  | { mode: "ignore"; reason: string }
  | { mode: "fail"; reason: string };

/**
 * Decides whether browser tests run, are ignored (`FLUIDITY_SKIP_BROWSER=1`) or fail (no
 * Chromium). Pure, for testing; defaults read the real environment (null is "none" and "unset":
 * an explicit `undefined` would take the default and read the environment again).
 */
export function browserTestPlan(
  executable: string | null = findChromium(),
  skipEnv: string | null = Deno.env.get("FLUIDITY_SKIP_BROWSER") ?? null,
): BrowserTestPlan {
  if (skipEnv === "1") {
    return { mode: "ignore", reason: "FLUIDITY_SKIP_BROWSER=1: browser tests ignored" };
  }
  if (executable === null) return { mode: "fail", reason: MISSING_CHROMIUM };
  return { mode: "run", executable };
}

let ignoreNoticeShown = false;

/**
 * Registers a `Deno.test` that needs Chromium and launches it itself (to time the launch or
 * check what `close()` leaves): ignored on `FLUIDITY_SKIP_BROWSER=1`, failed with
 * {@link MISSING_CHROMIUM} when there is no Chromium, else run with the executable. Tests that
 * just need a browser use {@link browserTest}.
 */
export function chromiumTest(
  name: string,
  fn: (executable: string, t: Deno.TestContext) => Promise<void>,
): void {
  const plan = browserTestPlan();
  if (plan.mode === "ignore" && !ignoreNoticeShown) {
    ignoreNoticeShown = true;
    console.warn(plan.reason);
  }
  Deno.test({
    name,
    ignore: plan.mode === "ignore",
    async fn(t) {
      if (plan.mode === "fail") throw new Error(plan.reason);
      if (plan.mode === "run") await fn(plan.executable, t);
    },
  });
}

/** Options of {@link browserTest}. */
export interface BrowserTestOptions {
  /** Passed to {@link launchBrowser}. */
  launch?: LaunchOptions;
}

/**
 * Registers a `Deno.test` that gets a fresh headless browser, closed (process ended, profile
 * removed) after `fn` even when it throws. Sanitizers stay on: the browser's process, socket
 * and timers are all released by `close()`.
 */
export function browserTest(
  name: string,
  fn: (browser: Browser, t: Deno.TestContext) => Promise<void>,
  options: BrowserTestOptions = {},
): void {
  chromiumTest(name, async (executable, t) => {
    await using browser = await launchBrowser({ executable, ...options.launch });
    await fn(browser, t);
  });
}
