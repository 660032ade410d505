/**
 * One browser tab driven over a flattened CDP session: navigation with a readiness condition,
 * script evaluation, screenshots, clicks and key presses, and everything that went wrong while
 * loading (console errors, uncaught exceptions, failed requests) so a test can say what broke.
 *
 * @module
 */

import { type CdpConnection, CdpError, DEFAULT_CDP_TIMEOUT_MS } from "./cdp.ts";

/** A rectangle in CSS pixels of the viewport. */
export interface Rect {
  /** Left edge. */
  x: number;
  /** Top edge. */
  y: number;
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** A request that did not succeed: a network error, or an HTTP status of 400 or more. */
export interface FailedRequest {
  /** The URL requested. */
  url: string;
  /** Chromium's error text (`net::ERR_FILE_NOT_FOUND`) or `HTTP 404`. */
  error: string;
}

/** Options of {@link Page.goto}. */
export interface GotoOptions {
  /** A JS expression polled after the load event until it is truthy. */
  waitFor?: string;
  /** Milliseconds for the load plus `waitFor`; default 15 000. */
  timeoutMs?: number;
}

/** Options of {@link Page.waitFor}. */
export interface WaitForOptions {
  /**
   * Evaluate again when an evaluation throws, until the deadline (then the last evaluation's
   * error, if it threw, is thrown); for a wait across a navigation (a click on a link), whose
   * old document goes away under the evaluation. Default false: the first error is thrown.
   */
  retryErrors?: boolean;
}

/** Options of {@link Page.screenshot}. */
export interface ScreenshotOptions {
  /** Only this part of the viewport (CSS pixels). */
  clip?: Rect;
}

/** Default viewport of a new page, so screenshots have a known size. */
export const DEFAULT_VIEWPORT = { width: 800, height: 600 } as const;

/** `key`, `code` and Windows virtual key code of the keys {@link Page.press} knows by name. */
const NAMED_KEYS: Record<string, [code: string, keyCode: number, text?: string]> = {
  ArrowLeft: ["ArrowLeft", 37],
  ArrowUp: ["ArrowUp", 38],
  ArrowRight: ["ArrowRight", 39],
  ArrowDown: ["ArrowDown", 40],
  Enter: ["Enter", 13, "\r"],
  Escape: ["Escape", 27],
  Tab: ["Tab", 9],
  Backspace: ["Backspace", 8],
  Home: ["Home", 36],
  End: ["End", 35],
  PageUp: ["PageUp", 33],
  PageDown: ["PageDown", 34],
  " ": ["Space", 32, " "],
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface RemoteObject {
  type?: string;
  value?: unknown;
  description?: string;
  unserializableValue?: string;
}

interface ExceptionDetails {
  text?: string;
  url?: string;
  lineNumber?: number;
  exception?: RemoteObject;
}

/** The message of an exception: its description (name, message, stack) or CDP's text. */
function exceptionText(details: ExceptionDetails): string {
  const described = details.exception?.description ??
    (details.exception?.value !== undefined ? String(details.exception.value) : undefined);
  return described ?? details.text ?? "unknown exception";
}

function remoteToString(o: RemoteObject): string {
  if (o.value !== undefined) return typeof o.value === "string" ? o.value : JSON.stringify(o.value);
  return o.unserializableValue ?? o.description ?? o.type ?? "?";
}

/** A tab. Create it with `Browser.newPage()`. */
export class Page {
  /** `console.error` calls and error log entries (e.g. "Failed to load resource … 404"), with URLs. */
  readonly consoleErrors: string[] = [];
  /** Uncaught exceptions and unhandled rejections, with their source URL and line. */
  readonly pageErrors: string[] = [];
  /** Requests that failed at the network level or got an HTTP status ≥ 400. */
  readonly failedRequests: FailedRequest[] = [];
  /** Every URL the page requested, in order (including file:// and data: URLs). */
  readonly requests: string[] = [];
  #requestUrls = new Map<string, string>();
  #offs: (() => void)[] = [];
  #closed = false;

  private constructor(
    private readonly cdp: CdpConnection,
    /** The CDP target id of this tab. */
    readonly targetId: string,
    /** The flattened CDP session of this tab. */
    readonly sessionId: string,
  ) {}

  /** Opens a blank tab on `cdp` with the {@link DEFAULT_VIEWPORT}; used by `Browser.newPage`. */
  static async create(cdp: CdpConnection): Promise<Page> {
    const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", {
      url: "about:blank",
    });
    const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const page = new Page(cdp, targetId, sessionId);
    page.#listen();
    await Promise.all(
      ["Page.enable", "Runtime.enable", "Log.enable", "Network.enable"].map((m) => page.send(m)),
    );
    await page.send("Page.setLifecycleEventsEnabled", { enabled: true });
    await page.setViewport(DEFAULT_VIEWPORT.width, DEFAULT_VIEWPORT.height);
    return page;
  }

  /** Sends a raw CDP command to this tab's session (for what this class does not wrap). */
  send<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    timeoutMs?: number,
  ): Promise<T> {
    return this.cdp.send<T>(method, params, { sessionId: this.sessionId, timeoutMs });
  }

  #listen(): void {
    const on = (method: string, fn: (p: Record<string, unknown>) => void) => {
      this.#offs.push(this.cdp.on(method, (p, s) => {
        if (s === this.sessionId) fn(p);
      }));
    };
    on("Runtime.consoleAPICalled", (p) => {
      if (p.type !== "error" && p.type !== "assert") return;
      const args = (p.args as RemoteObject[] ?? []).map(remoteToString).join(" ");
      const frame = (p.stackTrace as { callFrames?: { url: string; lineNumber: number }[] })
        ?.callFrames?.[0];
      this.consoleErrors.push(frame?.url ? `${args} (${frame.url}:${frame.lineNumber + 1})` : args);
    });
    on("Log.entryAdded", (p) => {
      const entry = p.entry as { level: string; text: string; url?: string };
      if (entry.level !== "error") return;
      this.consoleErrors.push(entry.url ? `${entry.text} (${entry.url})` : entry.text);
    });
    on("Runtime.exceptionThrown", (p) => {
      const details = p.exceptionDetails as ExceptionDetails;
      const where = details.url ? ` (${details.url}:${(details.lineNumber ?? 0) + 1})` : "";
      this.pageErrors.push(exceptionText(details) + where);
    });
    on("Network.requestWillBeSent", (p) => {
      const url = (p.request as { url: string }).url;
      this.#requestUrls.set(p.requestId as string, url);
      this.requests.push(url);
    });
    on("Network.responseReceived", (p) => {
      const response = p.response as { url: string; status: number };
      if (response.status >= 400) {
        this.failedRequests.push({ url: response.url, error: `HTTP ${response.status}` });
      }
    });
    on("Network.loadingFailed", (p) => {
      const url = this.#requestUrls.get(p.requestId as string) ?? `(request ${p.requestId})`;
      this.failedRequests.push({ url, error: String(p.errorText ?? "failed") });
    });
  }

  /**
   * Navigates to `url`, waits for its load event, then polls `waitFor` until truthy.
   * @throws {Error} naming the URL when navigation fails (e.g. `net::ERR_FILE_NOT_FOUND`), the
   *   load or `waitFor` do not complete within `timeoutMs`, or `waitFor` throws
   */
  async goto(url: string, options: GotoOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CDP_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    // Subscribe before navigating: a small page can finish loading before navigate returns.
    // Lifecycle events are buffered from before the navigation (a small page can load before
    // navigate returns) and matched by loaderId, so a late load of the previous document (an
    // error page, say) cannot end this wait early.
    const loads = new Set<string>();
    let onLoad = () => {};
    const off = this.cdp.on("Page.lifecycleEvent", (p, sessionId) => {
      if (sessionId !== this.sessionId || p.name !== "load") return;
      loads.add(p.loaderId as string);
      onLoad();
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const nav = await this.send<{ errorText?: string; loaderId?: string }>(
        "Page.navigate",
        { url },
        timeoutMs,
      );
      if (nav.errorText) throw new Error(`goto ${url}: ${nav.errorText}${this.#problems()}`);
      const loaderId = nav.loaderId;
      // No loaderId: a same-document navigation (only the #fragment changed), nothing loads.
      if (loaderId !== undefined && !loads.has(loaderId)) {
        await new Promise<void>((resolve, reject) => {
          onLoad = () => loads.has(loaderId) && resolve();
          timer = setTimeout(
            () => reject(new Error(`goto ${url}: no load event within ${timeoutMs} ms`)),
            Math.max(0, deadline - Date.now()),
          );
        });
      }
    } catch (e) {
      const message = (e as Error).message;
      throw new Error(message.startsWith("goto ") ? message : `goto ${url}: ${message}`);
    } finally {
      clearTimeout(timer);
      off();
    }
    if (options.waitFor === undefined) return;
    if (await this.waitFor(options.waitFor, deadline - Date.now())) return;
    throw new Error(
      `goto ${url}: waitFor \`${options.waitFor}\` not truthy within ${timeoutMs} ms` +
        this.#problems(),
    );
  }

  /**
   * Evaluates `expression` until it is truthy, every 10 ms at first and at most every 100 ms
   * after; true when it was within `timeoutMs`, false when not. Each evaluation may take only
   * the time left, so one that never settles cannot hold the wait past its deadline; an
   * evaluation the deadline cut off counts as not truthy.
   * @throws {Error} when an evaluation throws (with `retryErrors`, when the last one before the
   *   deadline threw)
   */
  async waitFor(
    expression: string,
    timeoutMs: number,
    options: WaitForOptions = {},
  ): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown = undefined;
    for (let delay = 10;; delay = Math.min(delay * 2, 100)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        if (lastError !== undefined) throw lastError;
        return false;
      }
      try {
        if (await this.evaluate(expression, left)) return true;
        lastError = undefined;
      } catch (e) {
        // The call's timeout was the time left: no answer by the deadline is not truthy in time.
        if (e instanceof CdpError && e.timedOut) return false;
        if (!options.retryErrors) throw e;
        lastError = e;
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    }
  }

  /** The collected errors as a suffix for failure messages, so a timeout says what broke. */
  #problems(): string {
    const lines = [
      ...this.pageErrors.map((e) => `page error: ${e}`),
      ...this.consoleErrors.map((e) => `console error: ${e}`),
      ...this.failedRequests.map((r) => `failed request: ${r.url} ${r.error}`),
    ];
    return lines.length ? "\n" + lines.join("\n") : "";
  }

  /**
   * Evaluates `expression` in the page (awaiting a returned promise) and returns its value as
   * JSON-able data.
   * @throws {Error} with the exception's text when the expression throws or rejects
   */
  async evaluate<T = unknown>(expression: string, timeoutMs?: number): Promise<T> {
    const { result, exceptionDetails } = await this.send<
      { result: RemoteObject; exceptionDetails?: ExceptionDetails }
    >(
      "Runtime.evaluate",
      { expression, returnByValue: true, awaitPromise: true, userGesture: true },
      timeoutMs,
    );
    if (exceptionDetails) {
      throw new Error(`evaluate \`${expression}\` threw: ${exceptionText(exceptionDetails)}`);
    }
    if (result.unserializableValue !== undefined) {
      // NaN, Infinity, -0 and bigints do not survive JSON; give numbers back as numbers.
      const n = Number(result.unserializableValue.replace(/n$/, ""));
      return (result.type === "bigint" ? BigInt(result.unserializableValue.slice(0, -1)) : n) as T;
    }
    return result.value as T;
  }

  /** Sets the viewport to `width × height` CSS pixels at device scale 1. */
  async setViewport(width: number, height: number): Promise<void> {
    await this.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    });
  }

  /** A PNG of the viewport, or of `clip` within it. */
  async screenshot(options: ScreenshotOptions = {}): Promise<Uint8Array> {
    const params: Record<string, unknown> = { format: "png" };
    if (options.clip) params.clip = { ...options.clip, scale: 1 };
    const { data } = await this.send<{ data: string }>("Page.captureScreenshot", params);
    return Uint8Array.fromBase64(data);
  }

  /**
   * Scrolls the first element matching `selector` to the middle of the viewport and returns its
   * border box and its content box (inside the border) in viewport CSS pixels, or null when
   * nothing matches.
   */
  #scrollToBoxes(selector: string): Promise<{ border: Rect; content: Rect } | null> {
    return this.evaluate(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return null;
      el.scrollIntoView({ block: "center", inline: "center" });
      const r = el.getBoundingClientRect();
      return {
        border: { x: r.x, y: r.y, width: r.width, height: r.height },
        content: { x: r.left + el.clientLeft, y: r.top + el.clientTop,
                   width: el.clientWidth, height: el.clientHeight },
      };
    })()`);
  }

  /**
   * Scrolls the first element matching `selector` to the middle of the viewport and returns its
   * content box (inside the border) in viewport CSS pixels, which at device scale 1 (what
   * {@link Page.setViewport} sets) are the pixels of a viewport screenshot.
   * @throws {Error} naming the selector when nothing matches
   */
  async contentRect(selector: string): Promise<Rect> {
    const boxes = await this.#scrollToBoxes(selector);
    if (!boxes) throw new Error(`contentRect: no element matches ${selector}`);
    return boxes.content;
  }

  /**
   * Scrolls the first element matching `selector` into view and clicks its centre with the
   * mouse, so the page sees real pointer events.
   * @throws {Error} naming the selector when nothing matches or the element has no size
   */
  async click(selector: string): Promise<void> {
    const box = (await this.#scrollToBoxes(selector))?.border;
    if (!box) throw new Error(`click: no element matches ${selector}`);
    if (box.width <= 0 || box.height <= 0) throw new Error(`click: ${selector} has no size`);
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    await this.send("Input.dispatchMouseEvent", { type: "mouseMoved", x, y });
    for (const type of ["mousePressed", "mouseReleased"]) {
      await this.send("Input.dispatchMouseEvent", { type, x, y, button: "left", clickCount: 1 });
    }
  }

  /**
   * Presses and releases `key`: a named key (`ArrowRight`, `ArrowLeft`, `Enter`, `Escape`, …)
   * or one printable character.
   * @throws {Error} for a key name it does not know
   */
  async press(key: string): Promise<void> {
    let named = NAMED_KEYS[key];
    if (!named) {
      if ([...key].length !== 1) throw new Error(`press: unknown key ${key}`);
      const upper = key.toUpperCase();
      const code = /[a-z]/i.test(key) ? `Key${upper}` : /\d/.test(key) ? `Digit${key}` : "";
      named = [code, upper.charCodeAt(0), key];
    }
    const [code, keyCode, text] = named;
    const base = { key, code, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode };
    await this.send("Input.dispatchKeyEvent", {
      type: text ? "keyDown" : "rawKeyDown",
      ...base,
      ...(text ? { text, unmodifiedText: text } : {}),
    });
    await this.send("Input.dispatchKeyEvent", { type: "keyUp", ...base });
  }

  /** Closes the tab and stops collecting its events. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs) off();
    if (!this.cdp.closed) {
      await this.cdp.send("Target.closeTarget", { targetId: this.targetId }).catch(() => {});
    }
  }
}
