import assert from "node:assert/strict";
import { join } from "node:path";
import { DEMO_FRAMES, main } from "./demo.ts";

Deno.test("demo renders the three paths and the colours on the tiny model, with every output", async () => {
  const out = await Deno.makeTempDir({ prefix: "demo_test_" });
  const log = console.log;
  const lines: string[] = [];
  console.log = (line: string) => lines.push(line);
  try {
    assert.equal(await main(["--out", out]), 0);
  } finally {
    console.log = log;
  }
  try {
    for (
      const [name, frames] of [["path1", DEMO_FRAMES], ["path2", DEMO_FRAMES], [
        "path3",
        DEMO_FRAMES,
      ], ["colors", 9]] as const
    ) {
      const manifest = JSON.parse(await Deno.readTextFile(join(out, name, "manifest.json")));
      assert.equal(manifest.status, "complete");
      assert.equal(manifest.frames.length, frames, name);
      assert.equal(manifest.spec.model, "tiny");
      // The identity numbers, with the real face embedder.
      assert.equal(
        manifest.frames.filter((f: { identity?: unknown }) => f.identity).length,
        frames,
      );
      assert.equal(manifest.summary.identity.frames, frames);
      assert.match(manifest.identity.embedder.name, /face_recognition_model/);
      for (
        const file of [
          "contact_sheet.png",
          "path_plot.png",
          "video.gif",
          "identity_plot.png",
          "report.html",
        ]
      ) {
        assert.ok((await Deno.stat(join(out, name, file))).size > 0, `${name}/${file}`);
      }
    }
    assert.match(lines.join("\n"), /path1.*48/);
    assert.match(lines.join("\n"), /id path/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
