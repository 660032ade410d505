/**
 * Stopping a run on Ctrl-C (SIGINT) or SIGTERM (`kill`, Slurm at its time limit, Kubernetes on
 * eviction): the runner abandons the batch in flight, writes the manifest with status
 * `interrupted` and the process exits with the shell's code for that signal (130 or 143).
 *
 * @module
 */

/** The signals a run stops cleanly on. */
export type StopSignal = "SIGINT" | "SIGTERM";

/** Exit codes by signal: 128 + the signal number, as shells report a process killed by it. */
export const SIGNAL_EXIT_CODES: Readonly<Record<StopSignal, number>> = Object.freeze({
  SIGINT: 130,
  SIGTERM: 143,
});

/** A run stopped by a signal (or an aborted `AbortSignal`). */
export class InterruptedError extends Error {
  /** The signal that stopped the run. */
  readonly signal: StopSignal;

  /** @param detail what was saved and how to resume, appended to the message */
  constructor(signal: StopSignal, detail?: string) {
    super(`interrupted by ${signal}${detail ? `: ${detail}` : ""}`);
    this.name = "InterruptedError";
    this.signal = signal;
  }

  /** The process exit code for this signal. */
  get exitCode(): number {
    return SIGNAL_EXIT_CODES[this.signal];
  }
}

/** Throws the abort reason as an {@link InterruptedError} if `signal` is aborted. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  throw signal.reason instanceof InterruptedError ? signal.reason : new InterruptedError("SIGINT");
}

/**
 * Calls `onSignal` on SIGINT and SIGTERM (SIGTERM is not available on Windows) until the
 * returned function is called.
 */
export function watchSignals(onSignal: (signal: StopSignal) => void): () => void {
  const removers: (() => void)[] = [];
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const handler = () => onSignal(signal);
    try {
      Deno.addSignalListener(signal, handler);
      removers.push(() => Deno.removeSignalListener(signal, handler));
    } catch {
      // Not supported on this OS: the default action (terminate) stays.
    }
  }
  return () => removers.forEach((remove) => remove());
}
