/**
 * Human-readable report of a run comparison: a table with one row per frame, then the spec,
 * model and runtime differences.
 *
 * @module
 */

import Table from "cli-table3";
import { formatChange, type JsonChange } from "./deep_diff.ts";
import type { FrameDiff, RunComparison } from "./manifest_diff.ts";
import type { Limit } from "./tolerance.ts";

const STATUS_TEXT: Record<FrameDiff["status"], string> = {
  "identical": "identical",
  "within-tolerance": "within tolerance",
  "different": "DIFFERENT",
  "missing-in-a": "MISSING in A",
  "missing-in-b": "MISSING in B",
  "unreadable": "UNREADABLE",
};

const LIMIT_TEXT: Record<Limit, string> = {
  maxDiff: "max |Δ|",
  minPsnr: "PSNR",
  minSsim: "SSIM",
  maxShare: "differing share",
};

function num(value: number | null, digits: number): string {
  return value === null ? "—" : value.toFixed(digits);
}

function formatT(frame: FrameDiff): string {
  const t = (frame.a ?? frame.b)!.t;
  const text = t === null ? "—" : String(Number(t.toFixed(4)));
  return frame.inputsDiffer.includes("t") ? `${frame.a!.t} ≠ ${frame.b!.t}` : text;
}

function psnrText(frame: FrameDiff): string {
  if (frame.status === "identical") return "∞";
  return num(frame.psnr, 2);
}

/** Five decimals, without rounding a non-identical frame up to a perfect 1. */
function ssimText(ssim: number | null): string {
  if (ssim === null) return "—";
  const text = ssim.toFixed(5);
  return ssim < 1 && text === "1.00000" ? ">0.99999" : text;
}

function notes(frame: FrameDiff): string {
  const parts: string[] = [];
  if (frame.inputsDiffer.includes("color")) {
    const c = (x: readonly number[]) => `[${x.map((v) => Number(v.toFixed(4))).join(", ")}]`;
    parts.push(`colour ${c(frame.a!.color)} ≠ ${c(frame.b!.color)}`);
  }
  if (frame.limitsFailed.length > 0) {
    // The numbers are in their columns; name the limits they break.
    parts.push(`exceeds ${frame.limitsFailed.map((l) => LIMIT_TEXT[l]).join(", ")}`);
  } else if (frame.status !== "missing-in-a" && frame.status !== "missing-in-b") {
    parts.push(...frame.reasons);
  }
  parts.push(...frame.warnings);
  return parts.join("; ");
}

/** The per-frame table (plain text, no colours). */
export function formatFrameTable(result: RunComparison): string {
  // The identity column only when there are identity distances to show.
  const identity = result.frames.some((f) => f.identityDistance !== null);
  const table = new Table({
    head: [
      "frame",
      "t",
      "status",
      "max |Δ|",
      "PSNR dB",
      "SSIM",
      "differing px",
      ...(identity ? ["identity"] : []),
      "notes",
    ],
    style: { head: [], border: [], compact: true },
    colAligns: [
      "right",
      "right",
      "left",
      "right",
      "right",
      "right",
      "right",
      ...(identity ? ["right" as const] : []),
      "left",
    ],
    wordWrap: true,
    colWidths: [null, null, null, null, null, null, null, ...(identity ? [null] : []), 50],
  });
  for (const frame of result.frames) {
    table.push([
      frame.index,
      formatT(frame),
      STATUS_TEXT[frame.status],
      frame.maxAbsDiff ?? "—",
      psnrText(frame),
      ssimText(frame.ssim),
      frame.differingPixels === null
        ? "—"
        : `${frame.differingPixels} (${(frame.differingShare! * 100).toFixed(2)} %)`,
      ...(identity ? [num(frame.identityDistance, 4)] : []),
      notes(frame),
    ]);
  }
  return table.toString();
}

function section(title: string, changes: JsonChange[]): string {
  if (changes.length === 0) return `${title}: same`;
  return `${title}: ${changes.length} difference(s)\n` +
    changes.map((c) => `  ${formatChange(c)}`).join("\n");
}

/** The identity line: what the identity column shows, or why there is none. */
function identityLines(result: RunComparison): string[] {
  return result.identity ? [`identity: ${result.identity.note}`] : [];
}

/** The whole report: header, frame table, differences, and a one-line verdict. */
export function formatComparison(result: RunComparison): string {
  const t = result.tolerance;
  const counts = Object.entries(result.counts)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${STATUS_TEXT[status as FrameDiff["status"]].toLowerCase()}`)
    .join(", ");
  return [
    `A: ${result.a}`,
    `B: ${result.b}`,
    `tolerance: max |Δ| ≤ ${t.maxDiff}, PSNR ≥ ${t.minPsnr} dB, SSIM ≥ ${t.minSsim}, ` +
    `differing pixels ≤ ${t.maxShare * 100} % (pixel threshold ${t.pixelThreshold})`,
    result.frames.length ? formatFrameTable(result) : "(no frames in either run)",
    ...identityLines(result),
    section("spec", result.diffs.spec),
    section("model", result.diffs.model),
    section("runtime", result.diffs.runtime),
    `${result.ok ? "OK" : "FAIL"}: ${result.frames.length} frame(s)${counts ? `: ${counts}` : ""}`,
  ].join("\n");
}
