/**
 * Registering browser tests: a test that needs Chromium **fails** when it is missing (CI
 * installs it, so a missing browser is a broken setup, not a reason to pass), unless
 * `FLUIDITY_SKIP_BROWSER=1` says to ignore browser tests on this machine.
 *
 * @module
 */

import { type Browser, launchBrowser, type LaunchOptions } from "./chromium.ts";
import { findChromium } from "./find.ts";

/** What to do with a browser test, from {@link browserTestPlan}. */
export type BrowserTestPlan =
  | { mode: "run"; executable: string }
  | { mode: "ignore"; reason: string }
  | { mode: "fail"; reason: string };

/** The message of a browser test that cannot run. */
export const MISSING_CHROMIUM = "Chromium not found: install it (Debian: apt-get install " +
  "--no-install-recommends chromium) or set CHROMIUM=/path/to/chrome; set " +
  "FLUIDITY_SKIP_BROWSER=1 to ignore browser tests instead";

/**
 * Decides whether browser tests run, are ignored (`FLUIDITY_SKIP_BROWSER=1`) or fail (no
 * Chromium). Pure, for testing; defaults read the real environment.
 */
export function browserTestPlan(
  executable: string | null = findChromium(),
  skipEnv: string | undefined = Deno.env.get("FLUIDITY_SKIP_BROWSER"),
): BrowserTestPlan {
  if (skipEnv === "1") {
    return { mode: "ignore", reason: "FLUIDITY_SKIP_BROWSER=1: browser tests ignored" };
  }
  if (executable === null) return { mode: "fail", reason: MISSING_CHROMIUM };
  return { mode: "run", executable };
}

/**
 * The Chromium executable for a test.
 * @throws {Error} with {@link MISSING_CHROMIUM} when there is none
 */
export function requireChromium(): string {
  const path = findChromium();
  if (!path) throw new Error(MISSING_CHROMIUM);
  return path;
}

let ignoreNoticeShown = false;

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
      if (plan.mode !== "run") return;
      await using browser = await launchBrowser({ executable: plan.executable, ...options.launch });
      await fn(browser, t);
    },
  });
}
