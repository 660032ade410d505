/**
 * How many frames go into one sampler call when the spec says `batch: "auto"` (the default):
 * the best batch `deno task bench` measured for this device and latent size, else the size that
 * measures best on each kind of device. Batch size changes speed and memory, never the images.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** Best frame-steps/s measured on a 2-core CPU (README, Performance) and a safe GPU default. */
export const DEFAULT_BATCH: Readonly<Record<"cpu" | "cuda", number>> = { cpu: 2, cuda: 8 };

/** Where `deno task bench` records its last result: `$FLUIDITY_BENCH`, else `results/bench.json`. */
export function benchRecordPath(): string {
  return Deno.env.get("FLUIDITY_BENCH") ??
    fileURLToPath(new URL("../../results/bench.json", import.meta.url));
}

/** The batch size used and why. */
export interface BatchChoice {
  /** Frames per sampler call. */
  size: number;
  /** `spec`, `bench <file>` or `default for <device>`. */
  source: string;
}

/**
 * Resolves the spec's `batch` for a run.
 *
 * @param batch the spec's value
 * @param run the device, latent size and thread count of the run: the bench record is a CPU
 *   measurement, and says nothing about another device, model size or thread count
 */
export async function chooseBatch(
  batch: number | "auto",
  run: { device: string; latentSize: number; threads?: number; benchFile?: string },
): Promise<BatchChoice> {
  if (batch !== "auto") return { size: batch, source: "spec" };
  const file = run.benchFile ?? benchRecordPath();
  try {
    const record = JSON.parse(await Deno.readTextFile(file));
    const best = record?.unet?.best?.batch;
    if (
      Number.isInteger(best) && best >= 1 && record?.settings?.latentSize === run.latentSize &&
      run.device === "cpu" &&
      (run.threads === undefined || record?.settings?.threads === run.threads)
    ) {
      return { size: best, source: `bench ${file}` };
    }
  } catch {
    // No (readable) bench record: fall through to the measured defaults.
  }
  const device = run.device === "cuda" ? "cuda" : "cpu";
  return { size: DEFAULT_BATCH[device], source: `default for ${device}` };
}
