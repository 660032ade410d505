import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { type FakeHub, type FakeHubFaults, readTree, startFakeHub } from "./_fake_hub.ts";
import { hashBytes, hashFile } from "./checksum.ts";
import { hubDownload, type HubDownloadOptions, type HubDownloadProgress } from "./download.ts";
import { HubError } from "./errors.ts";

const TINY_LDM = new URL("../testdata/ldm-reference/tiny-ldm/", import.meta.url).pathname;
const REPO = "CompVis/ldm-celebahq-256";
const UNET_WEIGHTS = "unet/diffusion_pytorch_model.safetensors";
/** What the pipeline needs from a repo that has safetensors weights. */
const PIPELINE_FILES = [
  "model_index.json",
  "scheduler/scheduler_config.json",
  "unet/config.json",
  UNET_WEIGHTS,
  "vqvae/config.json",
  "vqvae/diffusion_pytorch_model.safetensors",
];
const tinyFiles = await readTree(TINY_LDM);

interface Setup {
  hub: FakeHub;
  cacheDir: string;
  repoDir: string;
  download: (extra?: Partial<HubDownloadOptions>) => Promise<string>;
}

/** Runs `fn` against a fresh fake hub and an empty cache folder, and cleans both up. */
async function withHub(
  fn: (setup: Setup) => Promise<void>,
  options: { files?: Map<string, Uint8Array<ArrayBuffer>>; faults?: FakeHubFaults } = {},
): Promise<void> {
  const hub = await startFakeHub({
    repo: REPO,
    files: options.files ?? tinyFiles,
    faults: options.faults,
  });
  const cacheDir = await Deno.makeTempDir({ prefix: "hub_cache_" });
  try {
    await fn({
      hub,
      cacheDir,
      repoDir: join(cacheDir, "models--CompVis--ldm-celebahq-256"),
      download: (extra = {}) =>
        hubDownload({
          repo: REPO,
          endpoint: hub.endpoint,
          cacheDir,
          env: () => undefined,
          retryBaseDelayMs: 1,
          ...extra,
        }),
    });
  } finally {
    await hub.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
}

/** Every file path under `dir` (relative), for "nothing left behind" checks. */
async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory) out.push(...await listTree(join(dir, entry.name), rel));
    else out.push(rel);
  }
  return out;
}

function blobName(hub: FakeHub, path: string): string {
  const file = hub.files.get(path)!;
  return file.lfs ? file.sha256 : file.gitSha1;
}

function gets(hub: FakeHub): number {
  return hub.requests.filter((r) => r.method === "GET").length;
}

Deno.test("hubDownload: fetches the pipeline into the huggingface_hub cache layout", async () => {
  await withHub(async ({ hub, download, repoDir }) => {
    const snapshot = await download();
    assert.equal(snapshot, join(repoDir, "snapshots", hub.commit));
    assert.equal(await Deno.readTextFile(join(repoDir, "refs", "main")), hub.commit);

    for (const path of PIPELINE_FILES) {
      const link = join(snapshot, path);
      assert.ok((await Deno.lstat(link)).isSymlink, `${path} is a symlink`);
      const ups = "../".repeat(path.split("/").length + 1);
      assert.equal(await Deno.readLink(link), `${ups}blobs/${blobName(hub, path)}`);
      assert.deepEqual(await Deno.readFile(link), tinyFiles.get(path), `${path} content`);
    }
    assert.equal(
      await Deno.readLink(join(snapshot, UNET_WEIGHTS)),
      `../../../blobs/${hub.files.get(UNET_WEIGHTS)!.sha256}`,
    );
    // safetensors preferred: no .bin fetched or linked.
    assert.ok(!hub.requests.some((r) => r.path.endsWith(".bin")));
    const blobs = (await listTree(join(repoDir, "blobs"))).sort();
    assert.deepEqual(blobs, PIPELINE_FILES.map((p) => blobName(hub, p)).sort());

    // The branch is resolved once; every later request names the commit.
    const hubRequests = hub.requests.filter((r) => r.server === "hub");
    assert.ok(hubRequests[0].path.includes("/resolve/main/model_index.json"));
    assert.ok(hubRequests.slice(2).every((r) => r.path.includes(`/resolve/${hub.commit}/`)));
    // Weights came through the CDN redirect, and never carried a token (none was set).
    const cdnGets = hub.requests.filter((r) => r.server === "cdn" && r.method === "GET");
    assert.equal(cdnGets.length, 2);
    assert.ok(hub.requests.every((r) => r.authorization === null));
  });
});

Deno.test("hubDownload: a second run makes no GET request and touches no blob", async () => {
  await withHub(async ({ hub, download, repoDir }) => {
    const first = await download();
    const before = await Promise.all(
      PIPELINE_FILES.map((p) => Deno.stat(join(repoDir, "blobs", blobName(hub, p)))),
    );
    const requestsBefore = hub.requests.length;
    const events: HubDownloadProgress[] = [];
    assert.equal(await download({ onProgress: (e) => events.push(e) }), first);
    const second = hub.requests.slice(requestsBefore);
    assert.equal(second.filter((r) => r.method === "GET").length, 0);
    assert.ok(second.length > 0 && second.every((r) => r.method === "HEAD"));
    const after = await Promise.all(
      PIPELINE_FILES.map((p) => Deno.stat(join(repoDir, "blobs", blobName(hub, p)))),
    );
    assert.deepEqual(after.map((s) => s.mtime), before.map((s) => s.mtime));
    assert.ok(events.length > 0 && events.every((e) => e.status === "cached"));
  });
});

Deno.test("hubDownload: falls back to .bin weights when the repo has no safetensors", async () => {
  const binOnly = new Map([...tinyFiles].filter(([path]) => !path.endsWith(".safetensors")));
  await withHub(async ({ hub, download, repoDir }) => {
    const snapshot = await download();
    for (const component of ["unet", "vqvae"]) {
      const bin = `${component}/diffusion_pytorch_model.bin`;
      assert.deepEqual(await Deno.readFile(join(snapshot, bin)), tinyFiles.get(bin));
      assert.equal(
        await Deno.readLink(join(snapshot, bin)),
        `../../../blobs/${hub.files.get(bin)!.sha256}`,
      );
      // The 404 is remembered as huggingface_hub does, in .no_exist/{commit}/.
      const marker = join(
        repoDir,
        ".no_exist",
        hub.commit,
        component,
        "diffusion_pytorch_model.safetensors",
      );
      assert.equal((await Deno.stat(marker)).size, 0);
    }
    const safetensorsHeads = hub.requests.filter((r) => r.path.endsWith(".safetensors"));
    assert.ok(safetensorsHeads.length === 2 && safetensorsHeads.every((r) => r.method === "HEAD"));
  }, { files: binOnly });
});

Deno.test("hubDownload: resumes a cut connection with a Range request", async () => {
  const cutAfter = 100_000;
  await withHub(async ({ hub, download, repoDir }) => {
    const events: HubDownloadProgress[] = [];
    const snapshot = await download({ onProgress: (e) => events.push(e) });
    const sha256 = hub.files.get(UNET_WEIGHTS)!.sha256;
    const unetGets = hub.requests.filter((r) => r.method === "GET" && r.path.endsWith(sha256));
    assert.deepEqual(unetGets.map((r) => r.range), [null, `bytes=${cutAfter}-`]);
    assert.equal(await hashFile(join(snapshot, UNET_WEIGHTS), "sha256"), sha256);
    assert.ok(!(await listTree(repoDir)).some((p) => p.endsWith(".incomplete")));

    // Progress never goes backwards over a resume, and ends at the total.
    for (let i = 1; i < events.length; i++) {
      assert.ok(events[i].doneBytes >= events[i - 1].doneBytes);
    }
    const last = events[events.length - 1];
    const expectedTotal = PIPELINE_FILES.slice(1).reduce(
      (sum, p) => sum + tinyFiles.get(p)!.length,
      0,
    );
    assert.equal(last.totalBytes, expectedTotal);
    assert.equal(last.doneBytes, expectedTotal);
  }, { faults: { cut: { path: UNET_WEIGHTS, afterBytes: cutAfter, times: 1 } } });
});

Deno.test("hubDownload: resumes the .incomplete file an interrupted run left", async () => {
  await withHub(async ({ hub, download, repoDir }) => {
    const file = hub.files.get(UNET_WEIGHTS)!;
    const partial = 1_234_567;
    await Deno.mkdir(join(repoDir, "blobs"), { recursive: true });
    await Deno.writeFile(
      join(repoDir, "blobs", `${file.sha256}.incomplete`),
      file.bytes.subarray(0, partial),
    );
    const events: HubDownloadProgress[] = [];
    const snapshot = await download({ onProgress: (e) => events.push(e) });
    const unetGets = hub.requests.filter((r) => r.method === "GET" && r.path.endsWith(file.sha256));
    assert.deepEqual(unetGets.map((r) => r.range), [`bytes=${partial}-`]);
    assert.equal(await hashFile(join(snapshot, UNET_WEIGHTS), "sha256"), file.sha256);
    const firstUnetEvent = events.find((e) => e.path === UNET_WEIGHTS)!;
    assert.equal(firstUnetEvent.fileBytes, partial);
    assert.ok(events[0].doneBytes >= partial, "resumed bytes count as done from the start");
  });
});

Deno.test("hubDownload: refuses bytes whose sha256 is wrong and leaves no blob", async () => {
  await withHub(async ({ hub, download, repoDir }) => {
    const file = hub.files.get(UNET_WEIGHTS)!;
    const corrupted = file.bytes.slice();
    corrupted[corrupted.length >> 1] ^= 0xff;
    const actual = hashBytes(corrupted, "sha256");
    const error = await download().then(
      () => assert.fail("corrupted download accepted"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof HubError && error.kind === "checksum", String(error));
    assert.match(error.message, new RegExp(`expected sha256 ${file.sha256}, got ${actual}`));
    assert.match(error.message, /unet\/diffusion_pytorch_model\.safetensors/);
    const left = await listTree(repoDir);
    assert.ok(!left.some((p) => p.includes(file.sha256)), `left behind: ${left}`);
    assert.ok(!left.includes(`snapshots/${hub.commit}/${UNET_WEIGHTS}`));
  }, { faults: { corrupt: [UNET_WEIGHTS] } });
});

Deno.test("hubDownload: gives up after bounded retries, naming file and bytes", async () => {
  const stallAt = 50_000;
  const maxRetries = 2;
  await withHub(async ({ hub, download, repoDir }) => {
    const file = hub.files.get(UNET_WEIGHTS)!;
    const error = await download({ maxRetries }).then(
      () => assert.fail("stalled download succeeded"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof HubError && error.kind === "network", String(error));
    assert.match(error.message, /"unet\/diffusion_pytorch_model\.safetensors"/);
    assert.match(error.message, new RegExp(`${stallAt} of ${file.bytes.length} bytes`));
    const unetGets = hub.requests.filter((r) => r.method === "GET" && r.path.endsWith(file.sha256));
    // One attempt brings the bytes, then maxRetries attempts that bring nothing.
    assert.equal(unetGets.length, 1 + maxRetries);
    // The partial file stays for the next run to resume; no complete blob pretends otherwise.
    const incomplete = join(repoDir, "blobs", `${file.sha256}.incomplete`);
    assert.equal((await Deno.stat(incomplete)).size, stallAt);
    await assert.rejects(Deno.stat(join(repoDir, "blobs", file.sha256)), Deno.errors.NotFound);
  }, { faults: { stall: { path: UNET_WEIGHTS, offset: stallAt } } });
});

Deno.test("hubDownload: 401 asks for HF_TOKEN; the token reaches the hub, never the CDN", async () => {
  await withHub(async ({ hub, download }) => {
    const error = await download().then(() => assert.fail("no 401"), (e: unknown) => e);
    assert.ok(error instanceof HubError && error.kind === "unauthorized", String(error));
    assert.equal(error.status, 401);
    assert.match(error.message, /CompVis\/ldm-celebahq-256 is gated or private.*set HF_TOKEN/);

    hub.requests.length = 0;
    // The token comes from HF_TOKEN when not given explicitly.
    const env = (name: string) => (name === "HF_TOKEN" ? "s3cret" : undefined);
    const snapshot = await download({ env });
    assert.equal(
      await Deno.readTextFile(join(snapshot, "model_index.json")),
      decode("model_index.json"),
    );
    const hubRequests = hub.requests.filter((r) => r.server === "hub");
    const cdnRequests = hub.requests.filter((r) => r.server === "cdn");
    assert.ok(hubRequests.length > 0 && cdnRequests.length > 0);
    assert.ok(hubRequests.every((r) => r.authorization === "Bearer s3cret"));
    assert.ok(cdnRequests.every((r) => r.authorization === null));

    const refused = await download({ token: "wrong" }).then(() => "ok", (e: unknown) => e);
    assert.ok(
      refused instanceof HubError && /token given \(HF_TOKEN\) was refused/.test(refused.message),
    );
  }, { faults: { requireToken: "s3cret" } });
});

function decode(path: string): string {
  return new TextDecoder().decode(tinyFiles.get(path));
}

Deno.test("hubDownload: 404 names the repo, the revision and the file", async () => {
  await withHub(async ({ download }) => {
    const missingFile = await download({ files: ["unet/config.json", "unet/nope.json"] })
      .then(() => assert.fail("no 404"), (e: unknown) => e);
    assert.ok(missingFile instanceof HubError && missingFile.kind === "not_found");
    assert.match(
      missingFile.message,
      /file "unet\/nope\.json" not found in repo CompVis\/ldm-celebahq-256 at revision "[0-9a-f]{40}"/,
    );

    const missingRevision = await download({ revision: "v9.9" })
      .then(() => assert.fail("no 404"), (e: unknown) => e);
    assert.ok(missingRevision instanceof HubError && missingRevision.kind === "not_found");
    assert.match(
      missingRevision.message,
      /revision "v9\.9" not found in repo CompVis\/ldm-celebahq-256/,
    );
    assert.match(missingRevision.message, /"model_index\.json"/);
  });
});

Deno.test("hubDownload: reuses the cache a diffusers user already has", async () => {
  await withHub(async ({ hub, download, repoDir }) => {
    // Lay out the cache as huggingface_hub would have written it.
    const snapshot = join(repoDir, "snapshots", hub.commit);
    for (const path of PIPELINE_FILES) {
      const blob = join(repoDir, "blobs", blobName(hub, path));
      await Deno.mkdir(dirname(blob), { recursive: true });
      await Deno.writeFile(blob, tinyFiles.get(path)!);
      const link = join(snapshot, path);
      await Deno.mkdir(dirname(link), { recursive: true });
      const ups = "../".repeat(path.split("/").length + 1);
      await Deno.symlink(`${ups}blobs/${blobName(hub, path)}`, link);
    }
    await Deno.mkdir(join(repoDir, "refs"));
    await Deno.writeTextFile(join(repoDir, "refs", "main"), hub.commit);
    const linksBefore = await Promise.all(PIPELINE_FILES.map((p) => Deno.lstat(join(snapshot, p))));

    assert.equal(await download(), snapshot);
    assert.equal(gets(hub), 0);
    const linksAfter = await Promise.all(PIPELINE_FILES.map((p) => Deno.lstat(join(snapshot, p))));
    assert.deepEqual(linksAfter.map((s) => s.ino), linksBefore.map((s) => s.ino));
  });
});

Deno.test("hubDownload: relinks a snapshot from blobs alone, without downloading", async () => {
  await withHub(async ({ hub, download, repoDir }) => {
    for (const path of PIPELINE_FILES) {
      await Deno.mkdir(join(repoDir, "blobs"), { recursive: true });
      await Deno.writeFile(join(repoDir, "blobs", blobName(hub, path)), tinyFiles.get(path)!);
    }
    const snapshot = await download();
    assert.equal(gets(hub), 0);
    for (const path of PIPELINE_FILES) {
      assert.deepEqual(await Deno.readFile(join(snapshot, path)), tinyFiles.get(path));
    }
  });
});

Deno.test("hubDownload: offline mode and an unreachable hub use the cache only", async () => {
  await withHub(async ({ hub, download, cacheDir }) => {
    const offlineCold = await download({ offline: true }).then(() => "ok", (e: unknown) => e);
    assert.ok(offlineCold instanceof HubError && offlineCold.kind === "offline");
    assert.match(offlineCold.message, /CompVis\/ldm-celebahq-256@main is not in the cache/);
    assert.equal(hub.requests.length, 0);

    const snapshot = await download();
    const requestCount = hub.requests.length;
    const env = (name: string) => (name === "HF_HUB_OFFLINE" ? "1" : undefined);
    assert.equal(await download({ env }), snapshot);
    assert.equal(hub.requests.length, requestCount, "offline makes no request");

    // A hub that cannot be reached at all: the cached snapshot is used, with a warning.
    await hub.close();
    const warnings: string[] = [];
    const fallback = await hubDownload({
      repo: REPO,
      endpoint: hub.endpoint,
      cacheDir,
      env: () => undefined,
      maxRetries: 1,
      retryBaseDelayMs: 1,
      onWarning: (message) => warnings.push(message),
    });
    assert.equal(fallback, snapshot);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /cannot reach .* using the cached snapshot/);
  });
});

Deno.test("hubDownload: `files` fetches exactly the files named", async () => {
  await withHub(async ({ hub, download }) => {
    const snapshot = await download({
      files: ["unet/config.json", "vqvae/diffusion_pytorch_model.bin"],
    });
    assert.deepEqual((await listTree(snapshot)).sort(), [
      "unet/config.json",
      "vqvae/diffusion_pytorch_model.bin",
    ]);
    assert.ok(!hub.requests.some((r) => r.path.endsWith("model_index.json")));
  });
});

Deno.test("hubDownload: rejects ids and paths that would leave the cache folder", async () => {
  for (const repo of ["../etc", "a/b/c", "org--x/name", "org/.name"]) {
    await assert.rejects(
      hubDownload({ repo, cacheDir: "/nonexistent", offline: true, env: () => undefined }),
      /invalid repo id/,
    );
  }
  await assert.rejects(
    hubDownload({ repo: REPO, revision: "../../x", cacheDir: "/nonexistent", offline: true }),
    /invalid revision/,
  );
  await assert.rejects(
    hubDownload({ repo: REPO, files: ["unet/../../x"], cacheDir: "/nonexistent", offline: true }),
    /invalid file path/,
  );
});
