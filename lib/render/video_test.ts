import assert from "node:assert/strict";
import { GIF } from "imagescript";
import { encodeGif, encodeMp4, findFfmpeg, VideoError } from "./video.ts";

const ffmpeg = await findFfmpeg();
const allowMissing = Deno.env.get("FLUIDITY_ALLOW_NO_FFMPEG") === "1";
const FFMPEG_MISSING =
  "ffmpeg is not installed: install it (`apt-get install ffmpeg` / `brew install ffmpeg`), or set " +
  "FLUIDITY_ALLOW_NO_FFMPEG=1 to skip the MP4 tests";
if (!ffmpeg && allowMissing) {
  console.warn("video_test: ffmpeg not found and FLUIDITY_ALLOW_NO_FFMPEG=1: skipping MP4 tests");
}

/** Solid-colour frames, one colour each. */
function solidFrames(colors: number[][], width: number, height: number): Uint8Array[] {
  return colors.map(([r, g, b]) => {
    const f = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) f.set([r, g, b, 255], 4 * i);
    return f;
  });
}

const COLORS = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 128, 0],
  [30, 60, 90],
  [250, 250, 250],
  [0, 0, 0],
];

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "render_video_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

async function ffprobe(path: string): Promise<Record<string, string | number>> {
  const probe = ffmpeg!.replace(/ffmpeg(\.exe)?$/, "ffprobe$1");
  const out = await new Deno.Command(probe, {
    args: [
      "-v",
      "error",
      "-count_frames",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=codec_name,width,height,nb_read_frames,pix_fmt,color_space",
      "-of",
      "json",
      path,
    ],
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout)).streams[0];
}

Deno.test({
  name: "encodeMp4 writes H.264 yuv420p with every frame, padding odd sizes to even",
  ignore: !ffmpeg && allowMissing,
  async fn() {
    assert.ok(ffmpeg, FFMPEG_MISSING);
    await withTempDir(async (dir) => {
      const out = `${dir}/clip.mp4`;
      await encodeMp4(solidFrames(COLORS, 33, 17), 33, 17, { fps: 5, out });
      const s = await ffprobe(out);
      assert.equal(s.codec_name, "h264");
      assert.equal(s.pix_fmt, "yuv420p");
      assert.equal(s.color_space, "bt709");
      assert.equal(Number(s.nb_read_frames), COLORS.length);
      assert.equal(s.width, 34);
      assert.equal(s.height, 18);
      assert.deepEqual(await listDir(dir), ["clip.mp4"], "no temporary files left");
      // Colours survive encoding: decode to RGB and compare each frame's centre.
      const decoded = await new Deno.Command(ffmpeg!, {
        args: ["-v", "error", "-i", out, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
      }).output();
      assert.equal(decoded.stdout.length, 34 * 18 * 3 * COLORS.length);
      COLORS.forEach((c, k) => {
        const i = 3 * (k * 34 * 18 + 8 * 34 + 16);
        const got = [...decoded.stdout.subarray(i, i + 3)];
        assert.ok(got.every((v, j) => Math.abs(v - c[j]) <= 4), `frame ${k}: ${got} vs ${c}`);
      });
    });
  },
});

Deno.test({
  name: "encodeMp4 enlarges by whole-number scale with pixel replication",
  ignore: !ffmpeg && allowMissing,
  async fn() {
    assert.ok(ffmpeg, FFMPEG_MISSING);
    await withTempDir(async (dir) => {
      const out = `${dir}/big.mp4`;
      await encodeMp4(solidFrames(COLORS.slice(0, 3), 16, 8), 16, 8, {
        fps: 24,
        out,
        scale: 4,
        crf: 20,
      });
      const s = await ffprobe(out);
      assert.equal(s.width, 64);
      assert.equal(s.height, 32);
      assert.equal(Number(s.nb_read_frames), 3);
    });
  },
});

Deno.test("encodeMp4 explains how to install ffmpeg when it cannot run it", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/x.mp4`;
    await assert.rejects(
      () =>
        encodeMp4(solidFrames(COLORS, 4, 4), 4, 4, {
          fps: 5,
          out,
          ffmpeg: `${dir}/no-such-ffmpeg`,
        }),
      (e) => {
        assert.ok(e instanceof VideoError);
        assert.match(e.message, /apt-get install ffmpeg/);
        assert.match(e.message, /brew install ffmpeg/);
        return true;
      },
    );
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test({
  name: "encodeMp4 reports ffmpeg's own error and leaves no partial file",
  ignore: !ffmpeg && allowMissing,
  async fn() {
    assert.ok(ffmpeg, FFMPEG_MISSING);
    await withTempDir(async (dir) => {
      const out = `${dir}/missing-folder/clip.mp4`;
      await assert.rejects(
        () => encodeMp4(solidFrames(COLORS, 4, 4), 4, 4, { fps: 5, out }),
        /ffmpeg failed writing .*missing-folder\/clip\.mp4/,
      );
      assert.deepEqual(await listDir(dir), []);
    });
  },
});

Deno.test("encodeGif writes a looping GIF that decodes to the right frames, size and timing", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/clip.gif`;
    await encodeGif(solidFrames(COLORS, 20, 14), 20, 14, { fps: 10, out, scale: 2 });
    assert.deepEqual(await listDir(dir), ["clip.gif"]);
    const gif = await GIF.decode(await Deno.readFile(out));
    assert.equal(gif.length, COLORS.length);
    assert.equal(gif.width, 40);
    assert.equal(gif.height, 28);
    for (const [k, frame] of [...gif].entries()) {
      assert.equal(frame.duration, 100);
      const i = 4 * (14 * 40 + 20);
      const got = [...frame.bitmap.subarray(i, i + 3)];
      assert.ok(
        got.every((v, j) => Math.abs(v - COLORS[k][j]) <= 8),
        `frame ${k}: ${got} vs ${COLORS[k]}`,
      );
    }
  });
});

Deno.test("video writers validate their arguments", async () => {
  const frames = solidFrames(COLORS.slice(0, 2), 4, 4);
  await assert.rejects(
    () => encodeGif([], 4, 4, { fps: 5, out: "/tmp/x.gif" }),
    /x\.gif: no frames/,
  );
  await assert.rejects(
    () => encodeGif(frames, 4, 5, { fps: 5, out: "a.gif" }),
    /frame 0 has 64 bytes, expected 4×5×4/,
  );
  await assert.rejects(
    () => encodeGif(frames, 4, 4, { fps: 0, out: "a.gif" }),
    /fps must be a positive number/,
  );
  await assert.rejects(
    () => encodeMp4(frames, 4, 4, { fps: 5, out: "a.mp4", scale: 1.5 }),
    /scale must be a positive integer/,
  );
  await assert.rejects(
    () => encodeMp4(frames, 4, 4, { fps: 5, out: "a.mp4", crf: 60 }),
    /crf must be an integer 0\.\.51/,
  );
});

Deno.test("findFfmpeg honours FFMPEG, else searches PATH for an executable", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b`);
    await Deno.writeTextFile(`${dir}/a/ffmpeg`, "not executable");
    await Deno.writeTextFile(`${dir}/b/ffmpeg`, "#!/bin/sh\n");
    await Deno.chmod(`${dir}/b/ffmpeg`, 0o755);
    assert.equal(await findFfmpeg({ PATH: `${dir}/a:${dir}/b` }), `${dir}/b/ffmpeg`);
    assert.equal(await findFfmpeg({ PATH: `${dir}/a` }), null);
    assert.equal(await findFfmpeg({ PATH: "" }), null);
    assert.equal(await findFfmpeg({ FFMPEG: `${dir}/b/ffmpeg`, PATH: "" }), `${dir}/b/ffmpeg`);
    assert.equal(await findFfmpeg({ FFMPEG: `${dir}/nope`, PATH: `${dir}/b` }), null);
  });
});
