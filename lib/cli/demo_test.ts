import assert from "node:assert/strict";
import { join } from "node:path";
import type { IdentitySummary } from "../identity/records.ts";
import { DEMO_FRAMES, DEMO_GRID, identityHead, identityRow, main, thresholdText } from "./demo.ts";

/** The crossings cell as the table should print it, built here from the summary's list. */
function crossingsCell(crossings: IdentitySummary["crossings"]): string {
  if (crossings.length === 0) return "0";
  const first = crossings.slice(0, 3).map((c) => `${c.direction} #${c.index}`).join(", ");
  return `${crossings.length} (${first}${crossings.length > 3 ? ", …" : ""})`;
}

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
    // The threshold in the head and the legend is the embedder's, as the summaries record it.
    const threshold = JSON.parse(
      await Deno.readTextFile(join(out, "path1", "manifest.json")),
    ).identity.embedder.threshold;
    const heads = tableRows(lines).filter((r) => r[0] === "experiment");
    assert.ok(heads.some((r) => r[2] === `≥ ${threshold}`), JSON.stringify(heads));
    assert.match(lines.join("\n"), new RegExp(`same person below ${threshold}\\)`));
    assert.match(lines.join("\n"), new RegExp(`red at or over ${threshold}\\)`));

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
        crossingsCell(s.crossings),
        share(s.decomposition.share.seed),
        share(s.decomposition.share.color),
        share(s.decomposition.share.interaction),
      ],
    );
    // A single-seed run has numbers but no decomposition.
    const path1 = JSON.parse(await Deno.readTextFile(join(out, "path1", "manifest.json")));
    assert.deepEqual(identityRows.find((r) => r[0] === "path1")!.slice(1), [
      `${
        path1.summary.identity.largestJump.value.toFixed(3)
      } at #${path1.summary.identity.largestJump.index}`,
      `${path1.summary.identity.framesAboveThreshold} of ${DEMO_FRAMES}`,
      crossingsCell(path1.summary.identity.crossings),
      "–",
      "–",
      "–",
    ]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

/** A summary with every field, for the table's unit tests. */
function summary(overrides: Partial<IdentitySummary>): IdentitySummary {
  return {
    frames: 12,
    threshold: 0.55,
    largestJump: { index: 7, seed: "42", value: 0.31234 },
    pathLength: 1.5,
    meanStep: 0.15,
    farthestFromReference: { index: 9, seed: "43", value: 0.7 },
    meanToReference: 0.4,
    framesAboveThreshold: 5,
    crossings: [],
    colorCorrelation: { pairs: "same-seed frame pairs", n: 18, pearson: 0.5, spearman: 0.4 },
    perSeed: [],
    decomposition: { reason: "one seed: no grid" },
    ...overrides,
  };
}

Deno.test("identityRow: three crossings as `up #i`, then …; the shares of a grid", () => {
  const crossings: IdentitySummary["crossings"] = [
    { index: 2, seed: "42", direction: "up", from: 0.5, to: 0.6 },
    { index: 4, seed: "42", direction: "down", from: 0.6, to: 0.5 },
    { index: 8, seed: "43", direction: "up", from: 0.54, to: 0.56 },
    { index: 11, seed: "44", direction: "down", from: 0.58, to: 0.1 },
  ];
  const decomposition = {
    method: "two-way ANOVA without replication on the descriptors (sums of squares)",
    seeds: 3,
    colors: 4,
    totalSS: 10,
    seedSS: 6.25,
    colorSS: 2.5,
    interactionSS: 1.25,
    share: { seed: 0.625, color: 0.25, interaction: 0.125 },
  } as const;
  assert.deepEqual(identityRow("grid", summary({ crossings, decomposition })), [
    "grid",
    "0.312 at #7",
    "5 of 12",
    "4 (up #2, down #4, up #8, …)",
    "62.5 %",
    "25.0 %",
    "12.5 %",
  ]);
  // Exactly three: all of them, no cut-off mark.
  assert.equal(
    identityRow("grid", summary({ crossings: crossings.slice(0, 3) }))[3],
    "3 (up #2, down #4, up #8)",
  );
  assert.equal(identityRow("grid", summary({ crossings: crossings.slice(3) }))[3], "1 (down #11)");
});

Deno.test("identityRow: no decomposition (a reason) prints dashes, as does no summary", () => {
  assert.deepEqual(
    identityRow("path1", summary({ largestJump: null, framesAboveThreshold: 0 })),
    ["path1", "–", "0 of 12", "0", "–", "–", "–"],
  );
  assert.deepEqual(identityRow("none", undefined), ["none", "–", "–", "–", "–", "–", "–"]);
});

Deno.test("thresholdText / identityHead: the embedder's threshold, not a constant", () => {
  assert.equal(thresholdText([summary({}), undefined, summary({})]), "0.55");
  assert.equal(thresholdText([summary({}), summary({ threshold: 0.6 })]), "0.55 / 0.6");
  assert.equal(thresholdText([undefined]), "threshold");
  assert.equal(identityHead("0.55")[2], "≥ 0.55");
  assert.equal(identityHead("0.55").length, identityRow("x", undefined).length);
});
