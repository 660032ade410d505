/**
 * What a benchmark records about where it ran (CPU, cores, load, runtime versions) and the
 * process measurements it needs (peak RSS, medians).
 *
 * @module
 */

import ort from "onnxruntime-node";
import { cpus, loadavg } from "node:os";

/** The machine and software a benchmark ran on. */
export interface MachineInfo {
  /** CPU model name. */
  cpu: string;
  /** Logical cores. */
  cores: number;
  /** 1, 5 and 15 minute load averages. */
  loadAverage: [number, number, number];
  /** Deno version. */
  deno: string;
  /** onnxruntime version (of onnxruntime-node's common package). */
  onnxruntime: string;
  /** Operating system and architecture. */
  os: string;
}

/** Describes this machine; the load average is read at the time of the call. */
export function machineInfo(): MachineInfo {
  const [one, five, fifteen] = loadavg();
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    loadAverage: [round2(one), round2(five), round2(fifteen)],
    deno: Deno.version.deno,
    onnxruntime: ort.env.versions?.node ?? ort.env.versions?.common ?? "unknown",
    os: `${Deno.build.os} ${Deno.build.arch}`,
  };
}

/**
 * Peak resident memory of this process in bytes: the kernel's high-water mark (`VmHWM` of
 * /proc/self/status) where available, else the current RSS.
 */
export function peakRssBytes(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const kib = status.match(/^VmHWM:\s+(\d+)\s+kB/m);
    if (kib) return Number(kib[1]) * 1024;
  } catch {
    // not Linux: fall back below
  }
  return Deno.memoryUsage().rss;
}

/** Median of a non-empty list (mean of the two middle values for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of an empty list");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
