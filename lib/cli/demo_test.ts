import assert from "node:assert/strict";
import { join } from "node:path";
import { DEMO_FRAMES, DEMO_GRID, main } from "./demo.ts";

/** The body rows of the printed tables, as arrays of cell texts (colour codes removed). */
function tableRows(lines: readonly string[]): string[][] {
  // deno-lint-ignore no-control-regex
  const plain = lines.join("\n").replace(/\x1b\[[0-9;]*m/g, "");
  return plain.split("\n").filter((l) => l.startsWith("│"))
    .map((l) => l.split("│").slice(1, -1).map((cell) => cell.trim()));
}

Deno.test("demo renders the three paths, the colours and a seeds × colours grid on the tiny model, with every output and the identity numbers", async () => {
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

    // The innate × external grid: grid.png, and its identity numbers in the table.
    const grid = JSON.parse(
      await Deno.readTextFile(join(out, "innate_external", "manifest.json")),
    );
    assert.equal(grid.status, "complete");
    assert.equal(grid.spec.seeds.length, DEMO_GRID.seeds);
    assert.equal(grid.frames.length, DEMO_GRID.seeds * DEMO_GRID.colors);
    assert.equal(grid.outputs.grid, "grid.png");
    assert.ok((await Deno.stat(join(out, "innate_external", "grid.png"))).size > 0);
    const s = grid.summary.identity;
    assert.ok("share" in s.decomposition, JSON.stringify(s.decomposition));
    const share = (v: number) => `${(v * 100).toFixed(1)} %`;
    const rows = tableRows(lines);
    const identityRows = rows.filter((r) => r.length === 7);
    assert.deepEqual(
      identityRows.find((r) => r[0] === "innate_external"),
      [
        "innate_external",
        `${s.largestJump.value.toFixed(3)} at #${s.largestJump.index}`,
        `${s.framesAboveThreshold} of ${DEMO_GRID.seeds * DEMO_GRID.colors}`,
        s.crossings.length === 0 ? "0" : identityRows.find((r) => r[0] === "innate_external")![3],
        share(s.decomposition.share.seed),
        share(s.decomposition.share.color),
        share(s.decomposition.share.interaction),
      ],
    );
    if (s.crossings.length > 0) {
      assert.match(
        identityRows.find((r) => r[0] === "innate_external")![3],
        new RegExp(
          `^${s.crossings.length} \\(${s.crossings[0].direction} #${s.crossings[0].index}`,
        ),
      );
    }
    // A single-seed run has numbers but no decomposition.
    const path1 = JSON.parse(await Deno.readTextFile(join(out, "path1", "manifest.json")));
    assert.deepEqual(identityRows.find((r) => r[0] === "path1")!.slice(1), [
      `${
        path1.summary.identity.largestJump.value.toFixed(3)
      } at #${path1.summary.identity.largestJump.index}`,
      `${path1.summary.identity.framesAboveThreshold} of ${DEMO_FRAMES}`,
      identityRows.find((r) => r[0] === "path1")![3],
      "–",
      "–",
      "–",
    ]);
    assert.match(identityRows.find((r) => r[0] === "path1")![3], /^\d+/);
    assert.equal(
      Number(/^\d+/.exec(identityRows.find((r) => r[0] === "path1")![3])![0]),
      path1.summary.identity.crossings.length,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
