import assert from "node:assert/strict";
import { join } from "node:path";
import { hubCacheDir, RepoCache, repoFolderName, validateRepoId } from "./cache.ts";
import { etagKind, hashBytes, hashFile } from "./checksum.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("hubCacheDir: HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME, then ~/.cache", () => {
  const base = { HOME: "/home/u" };
  assert.equal(hubCacheDir(envOf(base)), "/home/u/.cache/huggingface/hub");
  assert.equal(
    hubCacheDir(envOf({ ...base, XDG_CACHE_HOME: "/xdg" })),
    "/xdg/huggingface/hub",
  );
  assert.equal(
    hubCacheDir(envOf({ ...base, XDG_CACHE_HOME: "/xdg", HF_HOME: "~/hf" })),
    "/home/u/hf/hub",
  );
  assert.equal(
    hubCacheDir(envOf({ ...base, HF_HOME: "/hf", HF_HUB_CACHE: "/cache" })),
    "/cache",
  );
  assert.equal(hubCacheDir(envOf({ ...base, HUGGINGFACE_HUB_CACHE: "/legacy" })), "/legacy");
});

Deno.test("repoFolderName: models--org--name, and ids that could escape are refused", () => {
  assert.equal(repoFolderName("CompVis/ldm-celebahq-256"), "models--CompVis--ldm-celebahq-256");
  assert.equal(repoFolderName("gpt2"), "models--gpt2");
  for (const bad of ["", "a/b/c", "../x", "a/..", "a--b/c", "a/b c", "/abs", "a/-x", "a/x."]) {
    assert.throws(() => validateRepoId(bad), /invalid repo id/, bad);
  }
});

async function withCache(fn: (cache: RepoCache, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hub_cache_" });
  try {
    await fn(new RepoCache(dir, "org/model"), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const COMMIT_A = "a".repeat(40);
const COMMIT_B = "b".repeat(40);

Deno.test("RepoCache: refs map revisions to commits; a commit hash is its own ref", async () => {
  await withCache(async (cache, dir) => {
    assert.equal(await cache.readRef("main"), undefined);
    await cache.writeRef("main", COMMIT_A);
    assert.equal(await Deno.readTextFile(join(dir, "models--org--model/refs/main")), COMMIT_A);
    await cache.writeRef("main", COMMIT_B);
    assert.equal(await cache.readRef("main"), COMMIT_B);
    await cache.writeRef("refs/pr/1", COMMIT_A);
    assert.equal(await Deno.readTextFile(join(dir, "models--org--model/refs/refs/pr/1")), COMMIT_A);
    // A commit needs no ref file.
    await cache.writeRef(COMMIT_A, COMMIT_A);
    assert.equal(await cache.readRef(COMMIT_A), COMMIT_A);
    await assert.rejects(Deno.stat(join(dir, "models--org--model/refs", COMMIT_A)));
    assert.throws(() => cache.refPath("../escape"), /invalid revision/);
    await assert.rejects(cache.writeRef("main", "not-a-commit"), /invalid commit hash/);
  });
});

Deno.test("RepoCache: snapshot files are relative links to blobs, replaced when stale", async () => {
  await withCache(async (cache) => {
    const blobs = join(cache.repoDir, "blobs");
    await Deno.mkdir(blobs, { recursive: true });
    await Deno.writeTextFile(join(blobs, "etag1"), "one");
    await Deno.writeTextFile(join(blobs, "etag2"), "two");

    const top = await cache.linkSnapshotFile(COMMIT_A, "model_index.json", "etag1");
    assert.equal(await Deno.readLink(top), "../../blobs/etag1");
    const nested = await cache.linkSnapshotFile(COMMIT_A, "unet/deeper/w.bin", "etag1");
    assert.equal(await Deno.readLink(nested), "../../../../blobs/etag1");
    assert.equal(await Deno.readTextFile(nested), "one");

    await cache.linkSnapshotFile(COMMIT_A, "unet/deeper/w.bin", "etag2");
    assert.equal(await Deno.readTextFile(nested), "two");
    assert.equal(await cache.cachedFile(COMMIT_A, "unet/deeper/w.bin"), nested);

    // A link whose blob is gone does not count as cached.
    await Deno.remove(join(blobs, "etag1"));
    assert.equal(await cache.cachedFile(COMMIT_A, "model_index.json"), undefined);
    assert.throws(() => cache.blobPath("../x"), /unexpected etag/);
    assert.throws(() => cache.snapshotPath(COMMIT_A, "a/../../b"), /invalid file path/);
  });
});

Deno.test("checksum: git blob ids agree with git, sha256 with WebCrypto", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hub_checksum_" });
  try {
    const content = new TextEncoder().encode('{\n  "_class_name": "LDMPipeline"\n}\n');
    const path = join(dir, "model_index.json");
    await Deno.writeFile(path, content);
    const git = new Deno.Command("git", { args: ["hash-object", path] }).outputSync();
    assert.ok(git.success, new TextDecoder().decode(git.stderr));
    const gitId = new TextDecoder().decode(git.stdout).trim();
    assert.equal(hashBytes(content, "git-sha1"), gitId);
    assert.equal(await hashFile(path, "git-sha1"), gitId);
    assert.equal(etagKind(gitId), "git-sha1");

    const weights = new URL(
      "../testdata/ldm-reference/tiny-ldm/vqvae/diffusion_pytorch_model.safetensors",
      import.meta.url,
    ).pathname;
    const bytes = await Deno.readFile(weights);
    const webCrypto = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    assert.equal(await hashFile(weights, "sha256"), webCrypto);
    assert.equal(hashBytes(bytes, "sha256"), webCrypto);
    assert.equal(etagKind(webCrypto), "sha256");
    assert.equal(etagKind("W/not-hex"), "unknown");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
