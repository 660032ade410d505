/**
 * `deno task model:verify [DIR]`: checks a converted CompVis/ldm-celebahq-256 model (default
 * `models/ldm-celebahq-256`): every file against the SHA-256 in its model.json, hashed in full
 * (the size-and-mtime record runs use is not trusted here), then the UNet against the values
 * diffusers publishes. Where the real weights are absent it says so and skips (exit 0); a damaged
 * file or a mismatch exits 1.
 *
 * @module
 */

import { join } from "node:path";
import { REAL_MODEL_GOLDEN, verifyGolden } from "../convert/golden.ts";
import { verifyModelFiles } from "../pipelines/model_files.ts";
import { modelFolderName, modelsDir } from "../pipelines/resolve.ts";

/** Runs the check; returns the exit code (0 ok or skipped, 1 mismatch or error, 2 usage). */
export async function main(args: string[]): Promise<number> {
  if (args.length > 1 || args[0]?.startsWith("-")) {
    const help = args[0] === "-h" || args[0] === "--help";
    (help ? console.log : console.error)("Usage: deno task model:verify [DIR]");
    return help ? 0 : 2;
  }
  const dir = args[0] ?? join(modelsDir(), modelFolderName(REAL_MODEL_GOLDEN.model));
  try {
    await Deno.stat(join(dir, "model.json"));
  } catch {
    console.log(
      `model:verify: SKIPPED: no converted model at ${dir} (the real weights are not here; ` +
        `run \`deno task model:fetch\` on a machine with internet first)`,
    );
    return 0;
  }
  try {
    await verifyModelFiles(dir, (m) => console.log(`model:verify: ${m}`), { rehash: true });
    console.log(`model:verify: files OK: every file of ${dir} has the SHA-256 in its model.json`);
    const r = await verifyGolden(dir);
    console.log(
      `model:verify: ${r.ok ? "OK" : "MISMATCH"}: largest difference ${
        r.maxAbsDiff.toExponential(2)
      } ` +
        `over ${r.values.length} UNet outputs (tolerance ${r.atol}) for ${REAL_MODEL_GOLDEN.model}`,
    );
    return r.ok ? 0 : 1;
  } catch (e) {
    console.error(`model:verify: error: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
