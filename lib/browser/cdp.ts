/**
 * A minimal Chrome DevTools Protocol connection over Deno's native WebSocket: numbered calls
 * with a timeout each, events by method name, and flattened target sessions (`sessionId`).
 *
 * @module
 */

/** Default time a CDP call may take before it is rejected. */
export const DEFAULT_CDP_TIMEOUT_MS = 15_000;

/** A failed, timed-out or abandoned CDP call; the message always names the method. */
export class CdpError extends Error {
  /**
   * @param method the CDP method, e.g. `Page.navigate`
   * @param timedOut whether the call got no answer within its timeout (a caller that set the
   *   timeout to its own deadline can tell "too late" from "failed")
   */
  constructor(readonly method: string, problem: string, readonly timedOut = false) {
    super(`CDP ${method}: ${problem}`);
    this.name = "CdpError";
  }
}

/** Options of one {@link CdpConnection.send} call. */
export interface SendOptions {
  /** Target session the call is for (from `Target.attachToTarget` with `flatten`). */
  sessionId?: string;
  /** Milliseconds before the call fails; default the connection's. */
  timeoutMs?: number;
}

/** Receives an event's params and the session it came from (undefined for the browser). */
export type CdpListener = (params: Record<string, unknown>, sessionId?: string) => void;

interface Pending {
  method: string;
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: string };
  sessionId?: string;
}

/** One WebSocket to a browser's DevTools endpoint. */
export class CdpConnection {
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #listeners = new Map<string, Set<CdpListener>>();
  #closedPromise: Promise<void>;
  #closeReason: string | null = null;

  private constructor(private readonly socket: WebSocket, private readonly timeoutMs: number) {
    this.#closedPromise = new Promise((resolve) => {
      socket.addEventListener("close", () => {
        this.#closeReason ??= "connection closed";
        this.#rejectAll();
        resolve();
      });
    });
    socket.addEventListener("message", (event) => this.#onMessage(event.data));
  }

  /**
   * Opens the WebSocket at `url` (a `ws://…/devtools/browser/…` address).
   * @throws {Error} when the socket does not open within `timeoutMs`
   */
  static connect(url: string, timeoutMs = DEFAULT_CDP_TIMEOUT_MS): Promise<CdpConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => {
        fail(`timed out after ${timeoutMs} ms`);
      }, timeoutMs);
      const fail = (why: string) => {
        clearTimeout(timer);
        socket.removeEventListener("open", onOpen);
        // A socket that never opened still owns a resource until its close event.
        socket.addEventListener("close", () => reject(new Error(`DevTools ${url}: ${why}`)));
        if (socket.readyState === WebSocket.CLOSED) {
          reject(new Error(`DevTools ${url}: ${why}`));
        } else socket.close();
      };
      const onOpen = () => {
        clearTimeout(timer);
        socket.removeEventListener("error", onError);
        resolve(new CdpConnection(socket, timeoutMs));
      };
      const onError = (e: Event) => {
        fail(`cannot connect (${e instanceof ErrorEvent ? e.message : "error"})`);
      };
      socket.addEventListener("open", onOpen, { once: true });
      socket.addEventListener("error", onError, { once: true });
    });
  }

  /** True once the socket has closed; every later call fails at once. */
  get closed(): boolean {
    return this.#closeReason !== null;
  }

  /**
   * Calls `method` and resolves with its result.
   * @throws {CdpError} naming the method when the browser answers with an error, the call times
   *   out, or the connection closes first
   */
  send<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    options: SendOptions = {},
  ): Promise<T> {
    if (this.#closeReason !== null) {
      return Promise.reject(new CdpError(method, this.#closeReason));
    }
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CdpError(method, `no answer within ${timeoutMs} ms`, true));
      }, timeoutMs);
      this.#pending.set(id, {
        method,
        resolve: resolve as (value: Record<string, unknown>) => void,
        reject,
        timer,
      });
      const message: Message = { id, method, params };
      if (options.sessionId) message.sessionId = options.sessionId;
      this.socket.send(JSON.stringify(message));
    });
  }

  /** Calls `listener` for every `method` event; returns a function that stops it. */
  on(method: string, listener: CdpListener): () => void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, set = new Set());
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Closes the socket and waits for it to be closed; pending calls fail. Idempotent. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) {
      this.#closeReason ??= "connection closed by client";
      this.socket.close();
    }
    await this.#closedPromise;
  }

  #rejectAll(): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(new CdpError(pending.method, this.#closeReason ?? "connection closed"));
    }
  }

  #onMessage(data: unknown): void {
    if (typeof data !== "string") return;
    let message: Message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error) {
        const detail = message.error.data ? ` (${message.error.data})` : "";
        pending.reject(
          new CdpError(pending.method, `${message.error.message}${detail} [${message.error.code}]`),
        );
      } else pending.resolve(message.result ?? {});
      return;
    }
    if (message.method) {
      for (const listener of [...(this.#listeners.get(message.method) ?? [])]) {
        // A throwing listener must not stop the others or the socket's message loop.
        try {
          listener(message.params ?? {}, message.sessionId);
        } catch (e) {
          console.error(`CDP listener for ${message.method} threw:`, e);
        }
      }
    }
  }
}
