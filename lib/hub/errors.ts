/**
 * The one error type of hub downloads, with a `kind` callers can branch on and a message that
 * says what to do.
 *
 * @module
 */

/**
 * What went wrong:
 * - `unauthorized`: 401/403, the repo is gated or private (or missing: the hub answers 401 then)
 * - `not_found`: 404 for the repo, revision or file
 * - `checksum`: downloaded bytes do not match the size or hash the hub announced
 * - `network`: connection failures or 5xx answers that outlasted the retries
 * - `protocol`: answers that do not look like the hub's (missing commit or etag headers…)
 * - `offline`: offline mode, and the cache does not hold what was asked for
 */
export type HubErrorKind =
  | "unauthorized"
  | "not_found"
  | "checksum"
  | "network"
  | "protocol"
  | "offline";

/** A failed hub download; `message` names the repo, revision and file involved. */
export class HubError extends Error {
  /** What went wrong; see {@link HubErrorKind}. */
  readonly kind: HubErrorKind;
  /** HTTP status of the answer that failed, when there was one. */
  readonly status: number | undefined;

  /**
   * Creates a HubError.
   *
   * @param kind category, see {@link HubErrorKind}
   * @param message complete, user-facing explanation
   * @param options HTTP status and underlying cause
   */
  constructor(
    kind: HubErrorKind,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "HubError";
    this.kind = kind;
    this.status = options.status;
  }
}
