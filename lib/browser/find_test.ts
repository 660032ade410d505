import assert from "node:assert/strict";
import { findChromium } from "./find.ts";

function fakeEnv(vars: Record<string, string>, executables: string[]) {
  return {
    getEnv: (name: string) => vars[name],
    isExecutable: (path: string) => executables.includes(path),
  };
}

Deno.test("findChromium: CHROMIUM wins over CHROME_PATH and installed binaries", () => {
  const env = fakeEnv({ CHROMIUM: "/opt/a", CHROME_PATH: "/opt/b" }, ["/usr/bin/chromium"]);
  assert.equal(findChromium(env), "/opt/a");
});

Deno.test("findChromium: CHROME_PATH is used when CHROMIUM is unset", () => {
  assert.equal(findChromium(fakeEnv({ CHROME_PATH: "/opt/b" }, [])), "/opt/b");
});

Deno.test("findChromium: Debian's real binary is preferred to its shell wrapper", () => {
  const env = fakeEnv({}, ["/usr/bin/chromium", "/usr/lib/chromium/chromium"]);
  assert.equal(findChromium(env), "/usr/lib/chromium/chromium");
  assert.equal(findChromium(fakeEnv({}, ["/usr/bin/chromium"])), "/usr/bin/chromium");
});

Deno.test("findChromium: searches PATH in name order, then gives null", () => {
  const env = fakeEnv({ PATH: "/a:/b" }, ["/b/chromium-browser", "/a/google-chrome"]);
  assert.equal(findChromium(env), "/b/chromium-browser");
  assert.equal(findChromium(fakeEnv({ PATH: "/a:/b" }, [])), null);
});
