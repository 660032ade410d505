/**
 * Launching headless Chromium with a throw-away profile and talking to it over the DevTools
 * protocol — no puppeteer, no browser download: Debian's `chromium` package is enough.
 *
 * ```ts
 * await using browser = await launchBrowser();
 * const page = await browser.newPage();
 * await page.goto("http://127.0.0.1:8000/", { waitFor: "window.ready" });
 * ```
 *
 * @module
 */

import { CdpConnection, DEFAULT_CDP_TIMEOUT_MS } from "./cdp.ts";
import { findChromium, MISSING_CHROMIUM } from "./find.ts";
import { Page } from "./page.ts";

/** Options of {@link launchBrowser}. */
export interface LaunchOptions {
  /** The executable; default {@link findChromium}. */
  executable?: string;
  /** Folder the throw-away profile folder is made in; default the system's temporary folder. */
  profileParent?: string;
  /** Milliseconds to wait for the DevTools address; default 30 000 (a cold start on CI is slow). */
  launchTimeoutMs?: number;
  /** Timeout of every CDP call; default 15 000 ms. */
  cdpTimeoutMs?: number;
  /** Add `--allow-file-access-from-files`, for file:// pages that fetch() their neighbours. */
  allowFileAccessFromFiles?: boolean;
  /** Further command-line flags. */
  extraArgs?: string[];
}

/** Lines of Chromium's stderr kept for error messages. */
const STDERR_TAIL_LINES = 40;

/**
 * Flags for a quiet, reproducible, offline headless browser. Background networking, component
 * updates, sync and QUIC are off so the only requests are the page's own (tests assert that);
 * /dev/shm is avoided because containers give it 64 MB.
 */
export function chromiumArgs(profileDir: string, options: LaunchOptions = {}): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    `--user-data-dir=${profileDir}`,
    ...(options.allowFileAccessFromFiles ? ["--allow-file-access-from-files"] : []),
    ...(options.extraArgs ?? []),
    "about:blank",
  ];
}

/** A running headless Chromium. Close it with `close()` or `await using`. */
export class Browser {
  #closing: Promise<void> | null = null;

  private constructor(
    private readonly child: Deno.ChildProcess,
    private readonly cdp: CdpConnection,
    private readonly stderr: StderrPump,
    /** The throw-away profile folder, removed by `close()`. */
    readonly profileDir: string,
    /** The `ws://127.0.0.1:…/devtools/browser/…` address. */
    readonly wsEndpoint: string,
  ) {}

  /** Process id of the browser process. */
  get pid(): number {
    return this.child.pid;
  }

  /** The browser-level CDP connection, for commands this API does not wrap. */
  get connection(): CdpConnection {
    return this.cdp;
  }

  /** The last lines Chromium wrote to stderr, for diagnosing a failure. */
  get stderrTail(): string {
    return this.stderr.tail();
  }

  /** @internal used by {@link launchBrowser} */
  static async start(options: LaunchOptions = {}): Promise<Browser> {
    const executable = options.executable ?? findChromium();
    if (!executable) throw new Error(MISSING_CHROMIUM);
    const profileDir = await Deno.makeTempDir({
      prefix: "fluidity-chromium-",
      dir: options.profileParent,
    });
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(executable, {
        args: chromiumArgs(profileDir, options),
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      await Deno.remove(profileDir, { recursive: true }).catch(() => {});
      throw new Error(`cannot start ${executable}: ${(e as Error).message}`);
    }
    const stderr = new StderrPump(child.stderr);
    const launchTimeoutMs = options.launchTimeoutMs ?? 30_000;
    let cdp: CdpConnection | null = null;
    let wsEndpoint: string;
    try {
      wsEndpoint = await stderr.devtoolsUrl(launchTimeoutMs, child.status);
      cdp = await CdpConnection.connect(wsEndpoint, options.cdpTimeoutMs ?? DEFAULT_CDP_TIMEOUT_MS);
    } catch (e) {
      await shutdown(child, null, stderr, profileDir);
      throw new Error(
        `launching ${executable} failed: ${(e as Error).message}\n--- chromium stderr ---\n` +
          stderr.tail(),
      );
    }
    return new Browser(child, cdp, stderr, profileDir, wsEndpoint);
  }

  /** Opens a new tab (800×600 viewport). */
  newPage(): Promise<Page> {
    return Page.create(this.cdp);
  }

  /** Chromium's product string, e.g. `HeadlessChrome/156.0.8078.129`. */
  async version(): Promise<string> {
    return (await this.cdp.send<{ product: string }>("Browser.getVersion")).product;
  }

  /**
   * Ends the browser: asks it to close, kills it if it has not exited within 5 s, waits for the
   * exit, closes the socket and stderr, and removes the profile folder. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= shutdown(this.child, this.cdp, this.stderr, this.profileDir);
    return this.#closing;
  }

  /** Same as {@link Browser.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Launches headless Chromium with a fresh profile and connects to it.
 * @throws {Error} with {@link MISSING_CHROMIUM} when no executable is given or found; when
 *   Chromium does not print its DevTools address within the timeout or exits first, with the
 *   tail of its stderr
 */
export function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  return Browser.start(options);
}

async function shutdown(
  child: Deno.ChildProcess,
  cdp: CdpConnection | null,
  stderr: StderrPump,
  profileDir: string,
): Promise<void> {
  // A graceful Browser.close lets Chromium end its renderer and zygote processes itself.
  if (cdp && !cdp.closed) {
    await cdp.send("Browser.close", {}, { timeoutMs: 2_000 }).catch(() => {});
  }
  // Without a connection (a failed launch) there is nobody to wait for: kill at once.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), cdp ? 5_000 : 0)),
  ]);
  clearTimeout(timer);
  if (!exited) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
  await child.status;
  await cdp?.close();
  await stderr.stop();
  // Chromium's helpers may still be flushing into the profile for a moment after exit.
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.remove(profileDir, { recursive: true });
      return;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      if (attempt >= 10) throw e;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Reads Chromium's stderr for the whole life of the process: the pipe must be drained or
 * Chromium blocks once it fills, and its last lines explain failures.
 */
class StderrPump {
  #lines: string[] = [];
  #partial = "";
  #reader: ReadableStreamDefaultReader<string>;
  #done: Promise<void>;
  #waiters: ((line: string) => void)[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    this.#done = this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        const parts = (this.#partial + value).split("\n");
        this.#partial = parts.pop()!;
        for (const line of parts) this.#push(line);
      }
    } catch { /* cancelled by stop() */ }
    if (this.#partial) this.#push(this.#partial);
    for (const waiter of this.#waiters) waiter("");
  }

  #push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > STDERR_TAIL_LINES) this.#lines.shift();
    for (const waiter of this.#waiters) waiter(line);
  }

  /** The kept lines. */
  tail(): string {
    return this.#lines.join("\n");
  }

  /** Resolves with the `DevTools listening on ws://…` address; rejects on exit or timeout. */
  devtoolsUrl(timeoutMs: number, status: Promise<Deno.CommandStatus>): Promise<string> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | null, url?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        if (error) reject(error);
        else resolve(url!);
      };
      const waiter = (line: string) => {
        const match = line.match(/DevTools listening on (ws:\/\/\S+)/);
        if (match) finish(null, match[1]);
      };
      const timer = setTimeout(
        () => finish(new Error(`no DevTools address within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.push(waiter);
      for (const line of this.#lines) waiter(line);
      status.then((s) => finish(new Error(`chromium exited with code ${s.code} before listening`)));
    });
  }

  /**
   * Waits briefly for end of file, then cancels: helper processes that inherited the pipe could
   * keep it open after the browser itself exited.
   */
  async stop(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      this.#done.then(() => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), 1_000)),
    ]);
    clearTimeout(timer);
    if (!ended) await this.#reader.cancel().catch(() => {});
    await this.#done;
  }
}
