/**
 * Child-process helpers shared by the tests that run the project's commands for real.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The project root: commands run from here, as a user would run them. */
export const PROJECT_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** What a finished child wrote and how it ended. */
export interface DenoOutput {
  /** Exit code. */
  code: number;
  /** Standard output, decoded. */
  stdout: string;
  /** Standard error, decoded. */
  stderr: string;
}

/** Runs `deno <args>` from the project root and collects its output. */
export async function runDeno(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<DenoOutput> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: PROJECT_ROOT,
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** The pid of a process that has exited and been reaped: a holder that is surely dead. */
export async function deadPid(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" }).spawn();
  await child.status;
  return child.pid;
}
