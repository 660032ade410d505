/**
 * The human-readable rendering of a {@link BenchResult}: a cli-table3 table plus the lines that
 * set the figures against the performance targets.
 *
 * @module
 */

import Table from "cli-table3";
import type { BenchResult } from "./bench.ts";
import { formatFaceEmbedding } from "./identity.ts";

const GIB = 1024 ** 3;

/** Renders the result as a table followed by the machine and target lines. */
export function formatBench(r: BenchResult): string {
  const table = new Table({
    head: ["measurement", "batch", "ms / step", "frame-steps/s", "GFLOP/s", "× MatMul", "peak RSS"],
    style: { head: [], border: [] },
  });
  table.push([
    `MatMul ${r.matmul.size}³`,
    "",
    r.matmul.msMedian.toFixed(1),
    "",
    r.matmul.gflops.toFixed(1),
    "1.00",
    "",
  ]);
  for (const b of r.unet.batches) {
    table.push([
      "UNet step",
      String(b.batch),
      b.msPerStep.toFixed(0),
      b.frameStepsPerSec.toFixed(3),
      b.gflops.toFixed(1),
      b.ratioToMatmul.toFixed(2),
      `${(b.peakRssBytes / GIB).toFixed(2)} GiB`,
    ]);
  }
  table.push([
    "VQ decode / image",
    "1",
    r.vqDecode.msPerImage.toFixed(0),
    "",
    r.vqDecode.gflops.toFixed(1),
    (r.vqDecode.gflops / r.matmul.gflops).toFixed(2),
    `${(r.vqDecode.peakRssBytes / GIB).toFixed(2)} GiB`,
  ]);
  const gpuLines: string[] = [];
  if (!r.gpu.available) {
    gpuLines.push(`GPU: not available (${r.gpu.reason})`);
  } else {
    const gpu = new Table({
      head: ["GPU (CUDA, fused loop)", "batch", "ms / step", "frame-steps/s"],
      style: { head: [], border: [] },
    });
    for (const precision of ["fp32", "fp16"] as const) {
      for (const b of r.gpu[precision]) {
        gpu.push([
          `UNet ${precision}`,
          String(b.batch),
          b.msPerStep.toFixed(2),
          b.frameStepsPerSec.toFixed(1),
        ]);
      }
    }
    gpuLines.push(gpu.toString(), `GPU: ${r.gpu.loopSteps} UNet steps per session.run`);
  }
  const f = r.fusedCpu;
  const m = r.machine;
  const largest = r.unet.batches.reduce((a, b) => (b.batch > a.batch ? b : a));
  // The targets are stated for the full-size CompVis UNet; the tiny model's steps take
  // milliseconds, so its figures say whether the bench runs, not whether targets are met.
  const target = (text: string) =>
    r.mode === "full" ? `(target ${text})` : "(targets apply to full mode)";
  return [
    table.toString(),
    `mode ${r.mode}: UNet ${(r.unet.parameters / 1e6).toFixed(1)} M parameters, ` +
    `${(r.unet.flopsPerFrameStep / 1e9).toFixed(1)} GFLOP per frame-step; ` +
    `VQ decode ${(r.vqDecode.flopsPerImage / 1e9).toFixed(1)} GFLOP per image`,
    `best UNet batch ${r.unet.best.batch}: ${r.unet.best.gflops.toFixed(1)} GFLOP/s = ` +
    `${r.unet.best.ratioToMatmul.toFixed(2)} × MatMul ${target("≥ 1.05")}`,
    `sampler overhead: ${r.samplerOverhead.overheadMsPerStep.toFixed(2)} ms per step = ` +
    `${(100 * r.samplerOverhead.share).toFixed(3)} % of a step ${target("≤ 1 %")}`,
    `fused loop on the CPU (${f.steps} steps, batch 1): ${f.fusedMsPerStep.toFixed(1)} ms per ` +
    `step vs ${f.stepwiseMsPerStep.toFixed(1)} ms step by step (for information)`,
    ...gpuLines,
    ...(r.identity ? [formatFaceEmbedding(r.identity)] : []),
    `peak RSS at batch ${largest.batch}: ${(largest.peakRssBytes / GIB).toFixed(2)} GiB ` +
    target("≤ 6 GiB at batch 8"),
    `machine: ${m.cpu}, ${m.cores} cores, ${m.os}; load ${m.loadAverage.join(" ")} before, ` +
    `${r.loadAverageAfter.join(" ")} after; Deno ${m.deno}, onnxruntime ${m.onnxruntime}; ` +
    `${r.settings.threads} threads, attention ${r.settings.attention}, median of ${r.settings.runs}`,
  ].join("\n");
}
