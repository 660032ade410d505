/**
 * `deno task run <experiment.ts> [options]`: runs the experiment a spec file exports by default.
 * The same options work when the spec file is run directly (`deno run -A experiments/x.ts`).
 *
 * @module
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { EXIT_USAGE, main, USAGE } from "../experiments/cli.ts";

/**
 * Loads the spec file and runs it; returns the exit code.
 *
 * @param args `<experiment.ts> [options]`
 */
export async function runFile(args: readonly string[]): Promise<number> {
  const [file, ...rest] = args;
  if (file === undefined || file === "-h" || file === "--help") {
    (file === undefined ? console.error : console.log)(USAGE);
    return file === undefined ? EXIT_USAGE : 0;
  }
  if (file.startsWith("-")) {
    console.error(`error: the experiment file comes first, got ${file}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  let module: { default?: unknown };
  try {
    module = await import(pathToFileURL(resolve(file)).href);
  } catch (e) {
    console.error(`error: cannot load experiment file ${file}: ${(e as Error).message}`);
    return EXIT_USAGE;
  }
  if (module.default === null || typeof module.default !== "object") {
    console.error(
      `error: ${file} has no default export; it should end with ` +
        "`export default defineExperiment({...})`",
    );
    return EXIT_USAGE;
  }
  return await main(module.default, rest);
}

if (import.meta.main) Deno.exit(await runFile(Deno.args));
