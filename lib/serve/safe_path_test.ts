import assert from "node:assert/strict";
import { join } from "node:path";
import {
  isInside,
  isRefusal,
  parseRequestPath,
  parseRunPath,
  rawPathOf,
  resolveInside,
} from "./safe_path.ts";

Deno.test("rawPathOf keeps the request target's text: .., %2e%2e and backslashes survive", () => {
  assert.equal(rawPathOf("http://127.0.0.1:8317/runs/../x?a=1"), "/runs/../x");
  assert.equal(rawPathOf("http://h/runs/%2e%2e/x#f"), "/runs/%2e%2e/x");
  assert.equal(rawPathOf("http://h/a\\b"), "/a\\b");
  assert.equal(rawPathOf("http://h"), "/");
  assert.equal(rawPathOf("http://h?x=1"), "/");
});

Deno.test("parseRequestPath refuses every way out of the results folder with 400", () => {
  const hostile = [
    "/runs/../etc/passwd",
    "/runs/%2e%2e/etc/passwd",
    "/runs/%2E%2E/etc/passwd",
    "/runs/.%2e/x",
    "/runs/./x",
    "/runs/a%2Fb",
    "/runs/a%2fb",
    "/runs/a%5Cb",
    "/runs/a%5cb",
    "/runs/a\\..\\b",
    "/runs/a%00.png",
    "/runs/a\0.png",
    "//etc/passwd",
    "/runs//etc/passwd",
    "/runs/C:/x",
    "/runs/%E0%A4%A",
    "runs/x",
  ];
  for (const raw of hostile) {
    const result = parseRequestPath(raw);
    assert.ok(isRefusal(result), `${JSON.stringify(raw)} was accepted`);
    assert.equal(result.status, 400);
  }
});

Deno.test("parseRequestPath decodes ordinary paths into segments", () => {
  assert.deepEqual(parseRequestPath("/"), { segments: [], trailingSlash: false });
  assert.deepEqual(parseRequestPath("/runs/exp/r%20un/frames/a.png"), {
    segments: ["runs", "exp", "r un", "frames", "a.png"],
    trailingSlash: false,
  });
  assert.deepEqual(parseRequestPath("/runs/exp/"), {
    segments: ["runs", "exp"],
    trailingSlash: true,
  });
  // A dot inside or at the end of a name is no dot segment; a leading one is a hidden name.
  assert.deepEqual(parseRequestPath("/runs/a..b/b.."), {
    segments: ["runs", "a..b", "b.."],
    trailingSlash: false,
  });
  const hidden = parseRequestPath("/runs/exp/.staging/x");
  assert.ok(isRefusal(hidden) && hidden.status === 400, JSON.stringify(hidden));
});

Deno.test("parseRunPath: relative run paths only", () => {
  assert.deepEqual(parseRunPath("exp/run"), ["exp", "run"]);
  assert.deepEqual(parseRunPath("exp/run/"), ["exp", "run"]);
  for (
    const bad of [null, "", "/etc", "../x", "exp/../../x", "a//b", "a\\b", "a\0b", "C:/x", "."]
  ) {
    assert.ok(isRefusal(parseRunPath(bad)), `${JSON.stringify(bad)} was accepted`);
  }
});

Deno.test("resolveInside follows symlinks only while they stay inside the root", async () => {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "safe_path_" }));
  try {
    const root = join(base, "results");
    await Deno.mkdir(join(root, "run"), { recursive: true });
    await Deno.writeTextFile(join(root, "run", "a.png"), "x");
    await Deno.writeTextFile(join(base, "secret.txt"), "secret");
    await Deno.symlink(join(base, "secret.txt"), join(root, "run", "out.png"));
    await Deno.symlink(base, join(root, "outdir"));
    await Deno.symlink(join(root, "run"), join(root, "latest"));

    assert.equal(await resolveInside(root, ["run", "a.png"]), join(root, "run", "a.png"));
    assert.equal(await resolveInside(root, ["run", "out.png"]), null);
    assert.equal(await resolveInside(root, ["outdir", "secret.txt"]), null);
    assert.equal(await resolveInside(root, ["latest", "a.png"]), join(root, "run", "a.png"));
    assert.equal(await resolveInside(root, ["run", "missing.png"]), null);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("isInside compares whole path segments", () => {
  assert.ok(isInside("/r", "/r"));
  assert.ok(isInside("/r", "/r/a"));
  assert.ok(!isInside("/r", "/rx/a"));
  assert.ok(!isInside("/r", "/"));
});
