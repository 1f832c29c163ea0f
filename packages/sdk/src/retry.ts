/**
 * When the client tries again, and how long it waits. Two questions decide a retry: is the
 * failure transient, and could the server already have done the work? Reads and calls that
 * converge when repeated (delete, stop, cancel, publish, a PUT of the same bytes) retry on any
 * transient failure. Creates retry only when the failure proves the server did not process
 * them: a refused connection, HTTP 429 or 503, or a V1 rate-limit code. A 500, 502 or 504, a V2
 * `InternalError` or a connection cut mid-flight may come after the work was done, so a create
 * is not sent twice on those.
 */

/**
 * Qianfan V1 `error_code`s that mean "try again" (reference §5.1; the Python SDK's
 * CONSOLE_API_RETRY_ERR_CODES): 500000 internal error, 18 QPS limit reached, 336100 server high
 * load. They arrive with HTTP 200, so the status alone does not reveal them.
 */
export const RETRYABLE_V1_CODES: ReadonlySet<number> = new Set([500000, 18, 336100]);

/** Of those, the ones that refuse before doing anything (rate limits), safe to retry for a create. */
export const REFUSED_V1_CODES: ReadonlySet<number> = new Set([18, 336100]);

/** V2 codes that mean "try again" (reference §5.2: InternalError, "Please try again."). */
export const RETRYABLE_V2_CODES: ReadonlySet<string> = new Set(["InternalError"]);

/** Node's (undici's) codes for a connection that was never made: nothing reached the server. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

export type Failure =
  | { readonly kind: "network"; readonly error: unknown }
  | { readonly kind: "response"; readonly status: number; readonly code?: string; readonly v1Code?: number };

/** True when a create may be sent again after this failure (the server cannot have processed it). */
function provesUnprocessed(failure: Failure): boolean {
  if (failure.kind === "network") return NOT_CONNECTED.has(causeCode(failure.error) ?? "");
  if (failure.status === 429 || failure.status === 503) return true;
  return failure.v1Code !== undefined && REFUSED_V1_CODES.has(failure.v1Code);
}

function isTransient(failure: Failure): boolean {
  if (failure.kind === "network") return true;
  if (failure.status === 429 || failure.status >= 500) return true;
  if (failure.code !== undefined && RETRYABLE_V2_CODES.has(failure.code)) return true;
  return failure.v1Code !== undefined && RETRYABLE_V1_CODES.has(failure.v1Code);
}

/**
 * Whether to try again.
 *
 * @example shouldRetry({ kind: "response", status: 500 }, false) // false: a create may have run
 */
export function shouldRetry(failure: Failure, idempotent: boolean): boolean {
  return idempotent ? isTransient(failure) : provesUnprocessed(failure);
}

/** V2 actions that converge when repeated; anything else (Create…, unknown actions) is treated as a create. */
export function isIdempotentAction(action: string): boolean {
  return /^(Describe|Delete|Stop|Cancel|Publish)/.test(action);
}

interface BackoffOptions {
  /** First delay ceiling in ms; doubled per attempt. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly random?: () => number;
}

/**
 * "Full jitter" exponential backoff: uniform in [0, min(max, base * 2^attempt)], which spreads
 * clients that failed together. A server's `Retry-After` (seconds) is honoured up to the max.
 *
 * @example backoffDelay(2, { baseDelayMs: 200, maxDelayMs: 5000 }) // somewhere in [0, 800]
 */
export function backoffDelay(attempt: number, options: BackoffOptions, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0) {
    return Math.min(retryAfterSeconds * 1000, options.maxDelayMs);
  }
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/** The `Retry-After` header as seconds (a number of seconds or an HTTP date), if any. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
}
