/**
 * A small progress reporter for long jobs (downloads, conversions, renders): done/total, rate and
 * ETA. On a terminal it keeps one line updated in place; elsewhere (CI logs, pipes) it prints a
 * plain line every few seconds so logs stay short but show that work goes on.
 *
 * ```ts
 * const progress = new Progress({ total: bytes, unit: "B", label: "unet" });
 * progress.update(received);
 * progress.finish();
 * ```
 *
 * @module
 */

/** Where progress lines go: `Deno.stderr` by default. */
export interface ProgressWriter {
  /** Writes bytes synchronously, returning how many were written. */
  writeSync(bytes: Uint8Array): number;
  /** Whether this is an interactive terminal (decides the display mode when `tty` is unset). */
  isTerminal?(): boolean;
}

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Amount that means complete; without it no percentage or ETA is shown. */
  total?: number;
  /** Unit of the amounts: `"B"` gets binary prefixes (KiB, MiB…); others are shown as counts. */
  unit?: string;
  /** Text in front of every line, such as a file name. */
  label?: string;
  /** Amount already done before this job started (resumed bytes): shown, not counted in rate. */
  initial?: number;
  /** Destination; defaults to `Deno.stderr`. */
  writer?: ProgressWriter;
  /** One updating line (`true`) or periodic lines (`false`); defaults to `writer.isTerminal()`. */
  tty?: boolean;
  /** Milliseconds between lines when not on a terminal; default 10 000. */
  intervalMs?: number;
  /** Milliseconds between redraws on a terminal; default 100. */
  redrawMs?: number;
  /** Span of the sliding window the rate is measured over, in milliseconds; default 5 000. */
  rateWindowMs?: number;
  /** Clock in milliseconds; defaults to `performance.now`. Injectable for tests. */
  now?: () => number;
}

const encoder = new TextEncoder();
const BINARY_PREFIXES = ["KiB", "MiB", "GiB", "TiB", "PiB"];

/** A number with about three significant digits: 1.23, 12.3, 123. */
function threeDigits(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/**
 * Formats an amount in `unit`: bytes with binary prefixes (`"1.50 KiB"`), other units as a
 * plain count (`"42 steps"`, fractional counts with three significant digits).
 */
export function formatQuantity(value: number, unit = ""): string {
  if (unit === "B") {
    if (Math.abs(value) < 1024) return `${Math.round(value)} B`;
    let scaled = value;
    let prefix = 0;
    while (Math.abs(scaled) >= 1024 && prefix < BINARY_PREFIXES.length) {
      scaled /= 1024;
      prefix++;
    }
    return `${threeDigits(scaled)} ${BINARY_PREFIXES[prefix - 1]}`;
  }
  const number = Number.isInteger(value) ? String(value) : threeDigits(value);
  return unit === "" ? number : `${number} ${unit}`;
}

/** Formats a rate in `unit` per second: `"12.3 MiB/s"`, `"3.20 steps/s"`. */
export function formatRate(perSecond: number, unit = ""): string {
  if (unit === "B") return `${formatQuantity(perSecond, "B")}/s`;
  return unit === "" ? `${threeDigits(perSecond)}/s` : `${threeDigits(perSecond)} ${unit}/s`;
}

/** Formats seconds as `m:ss`, or `h:mm:ss` from one hour on. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** Reports the progress of one long job: see the module documentation. */
export class Progress {
  /** Amount that means complete (may be changed while running). */
  total: number | undefined;
  /** Text in front of every line (may be changed while running, e.g. per file). */
  label: string;
  /** Unit of the amounts. */
  readonly unit: string;

  #done: number;
  readonly #initial: number;
  readonly #writer: ProgressWriter;
  readonly #tty: boolean;
  readonly #intervalMs: number;
  readonly #redrawMs: number;
  readonly #rateWindowMs: number;
  readonly #now: () => number;
  readonly #startedAt: number;
  /** Recent (time, done) pairs: the sliding window the rate is measured over. */
  #samples: { t: number; done: number }[] = [];
  #lastWriteAt: number | undefined;
  #lineOnScreen = false;
  #finished = false;

  /** @param options see {@link ProgressOptions} */
  constructor(options: ProgressOptions = {}) {
    this.total = options.total;
    this.unit = options.unit ?? "";
    this.label = options.label ?? "";
    this.#initial = options.initial ?? 0;
    this.#done = this.#initial;
    this.#writer = options.writer ?? Deno.stderr;
    this.#tty = options.tty ?? this.#writer.isTerminal?.() ?? false;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#redrawMs = options.redrawMs ?? 100;
    this.#rateWindowMs = options.rateWindowMs ?? 5_000;
    this.#now = options.now ?? (() => performance.now());
    this.#startedAt = this.#now();
    this.#samples.push({ t: this.#startedAt, done: this.#done });
  }

  /** Amount done so far. */
  get done(): number {
    return this.#done;
  }

  /** Sets the amount done and redraws when due. */
  update(done: number): void {
    if (this.#finished) return;
    const t = this.#now();
    // Going backwards (a restarted download) invalidates the measured rate.
    if (done < this.#done) this.#samples = [];
    this.#done = done;
    this.#samples.push({ t, done });
    while (this.#samples.length > 2 && t - this.#samples[1].t >= this.#rateWindowMs) {
      this.#samples.shift();
    }
    const due = this.#lastWriteAt === undefined ||
      t - this.#lastWriteAt >= (this.#tty ? this.#redrawMs : this.#intervalMs);
    if (due) this.#write(this.render(), t);
  }

  /** Adds `delta` to the amount done. */
  increment(delta = 1): void {
    this.update(this.#done + delta);
  }

  /**
   * Current rate in units per second over the recent window (the average since the start
   * while the window is too short), or `undefined` before any measurable progress.
   */
  rate(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (first !== undefined && last !== undefined && last.t - first.t >= 250) {
      return ((last.done - first.done) * 1000) / (last.t - first.t);
    }
    const elapsed = this.#now() - this.#startedAt;
    const gained = this.#done - this.#initial;
    return elapsed > 0 && gained > 0 ? (gained * 1000) / elapsed : undefined;
  }

  /** Estimated seconds to completion, or `undefined` without a total or a positive rate. */
  eta(): number | undefined {
    const rate = this.rate();
    if (this.total === undefined || rate === undefined || rate <= 0) return undefined;
    return Math.max(0, this.total - this.#done) / rate;
  }

  /** The progress line as it would be printed now. */
  render(): string {
    const parts = this.label === "" ? [] : [this.label];
    if (this.total !== undefined && this.total > 0) {
      parts.push(`${((100 * this.#done) / this.total).toFixed(1).padStart(5)}%`);
      parts.push(
        `${formatQuantity(this.#done, this.unit)} / ${formatQuantity(this.total, this.unit)}`,
      );
    } else {
      parts.push(formatQuantity(this.#done, this.unit));
    }
    const rate = this.rate();
    if (rate !== undefined) parts.push(formatRate(rate, this.unit));
    const eta = this.eta();
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
    return parts.join("  ");
  }

  /** Prints a message on its own line without garbling the updating line. */
  log(message: string): void {
    this.#clearLine();
    this.#writer.writeSync(encoder.encode(`${message}\n`));
    if (this.#tty && !this.#finished && this.#lastWriteAt !== undefined) {
      this.#write(this.render(), this.#now());
    }
  }

  /** Prints the closing line (amount, elapsed time, average rate); later updates are ignored. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const seconds = (this.#now() - this.#startedAt) / 1000;
    const gained = this.#done - this.#initial;
    let line = `${this.label === "" ? "" : `${this.label}  `}done: ${
      formatQuantity(this.#done, this.unit)
    } in ${formatDuration(seconds)}`;
    if (seconds > 0 && gained > 0) line += ` (${formatRate(gained / seconds, this.unit)})`;
    this.#clearLine();
    this.#writer.writeSync(encoder.encode(`${line}\n`));
  }

  /**
   * Ends the report without a closing summary (the job failed or was cancelled): the last state
   * stays visible and later output starts on a fresh line.
   */
  stop(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#tty) {
      if (this.#lineOnScreen) this.#writer.writeSync(encoder.encode("\n"));
      this.#lineOnScreen = false;
    } else if (this.#lastWriteAt !== undefined) {
      this.#writer.writeSync(encoder.encode(`${this.render()}\n`));
    }
  }

  #write(line: string, t: number): void {
    this.#lastWriteAt = t;
    if (this.#tty) {
      // Carriage return + "erase to end of line" redraws in place.
      this.#writer.writeSync(encoder.encode(`\r${line}\x1b[K`));
      this.#lineOnScreen = true;
    } else {
      this.#writer.writeSync(encoder.encode(`${line}\n`));
    }
  }

  #clearLine(): void {
    if (this.#tty && this.#lineOnScreen) this.#writer.writeSync(encoder.encode("\r\x1b[K"));
    this.#lineOnScreen = false;
  }
}
