/**
 * Locating a Chromium or Chrome executable for the headless-browser test harness.
 *
 * @module
 */

/**
 * What {@link launchBrowser} throws and a browser test fails with when {@link findChromium}
 * finds nothing: how to install Chromium or point at one, and how to skip the browser tests.
 */
export const MISSING_CHROMIUM = "Chromium not found: install it (Debian: apt-get install " +
  "--no-install-recommends chromium) or set CHROMIUM=/path/to/chrome; set " +
  "FLUIDITY_SKIP_BROWSER=1 to ignore browser tests instead";

/** Where {@link findChromium} looks, injectable so the search order can be tested. */
export interface FindChromiumEnv {
  /** Reads an environment variable; default `Deno.env.get`. */
  getEnv?: (name: string) => string | undefined;
  /** True when `path` is an executable file; default checks the file mode. */
  isExecutable?: (path: string) => boolean;
}

/**
 * Debian's `/usr/bin/chromium` is a shell wrapper that sources /etc/chromium.d, which adds
 * `--load-extension`/`--enable-remote-extensions` and runs a `[ … -lt … ]` test that prints
 * "unexpected operator" when findmnt reports /dev/shm twice. The binary behind it takes our
 * flags verbatim and its pid is the browser's own, so it is preferred when present.
 */
const DEBIAN_BINARY = "/usr/lib/chromium/chromium";

/** Names looked up on PATH, in order, after the fixed locations. */
const PATH_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

function defaultIsExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * The Chromium executable to launch, or null when none is installed.
 *
 * Order: env `CHROMIUM`, env `CHROME_PATH` (used as given, so a wrong value is reported by the
 * launch rather than silently replaced), Debian's real binary behind its wrapper,
 * `/usr/bin/chromium`, then `chromium`, `chromium-browser`, `google-chrome`,
 * `google-chrome-stable` on PATH.
 */
export function findChromium(env: FindChromiumEnv = {}): string | null {
  const getEnv = env.getEnv ?? ((name: string) => Deno.env.get(name));
  const isExecutable = env.isExecutable ?? defaultIsExecutable;
  for (const name of ["CHROMIUM", "CHROME_PATH"]) {
    const value = getEnv(name);
    if (value) return value;
  }
  for (const path of [DEBIAN_BINARY, "/usr/bin/chromium"]) {
    if (isExecutable(path)) return path;
  }
  const dirs = (getEnv("PATH") ?? "").split(":").filter((d) => d !== "");
  for (const name of PATH_NAMES) {
    for (const dir of dirs) {
      const path = `${dir}/${name}`;
      if (isExecutable(path)) return path;
    }
  }
  return null;
}
