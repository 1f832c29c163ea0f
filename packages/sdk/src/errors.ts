/**
 * The SDK's two failure kinds. An API error means the server (or a gateway in front of it)
 * answered and refused; a network error means no usable answer arrived at all. Both are thrown
 * only after the retry policy (retry.ts) has given up.
 */

/**
 * The server answered with an error: a V2 `{requestId, code, message}` (HTTP >= 400), a V1
 * `{log_id, error_code, error_msg}` (HTTP 200), or a body that is not an envelope.
 *
 * @example
 * try { await client.tasks.describe({ taskId: "task-nope" }); }
 * catch (e) { if (e instanceof SailfinApiError && e.code === "InappropriateJSON") … }
 */
export class SailfinApiError extends Error {
  /** V2 `code` (`InappropriateJSON`, `SignatureDoesNotMatch`…), a V1 `error_code` as text, or `InvalidResponse`. */
  readonly code: string;
  /** The HTTP status (200 for V1 business errors, which travel as HTTP 200). */
  readonly httpStatus: number;
  /** V2 `requestId` (or the `x-bce-request-id` header), V1 `log_id`; "" when the answer had none. */
  readonly requestId: string;
  /** V1 numeric `error_code`, when the error came in the V1 envelope. */
  readonly v1Code: number | undefined;
  /** How many attempts were made (1 + retries). */
  readonly attempts: number;

  constructor(init: { code: string; message: string; httpStatus: number; requestId: string; v1Code?: number; attempts?: number }) {
    super(init.message);
    this.name = "SailfinApiError";
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.requestId = init.requestId;
    this.v1Code = init.v1Code;
    this.attempts = init.attempts ?? 1;
  }
}

/** No answer: the connection failed, was cut, or the attempt timed out. `cause` holds the fetch error. */
export class SailfinNetworkError extends Error {
  readonly attempts: number;

  constructor(message: string, options: { cause: unknown; attempts: number }) {
    super(message, { cause: options.cause });
    this.name = "SailfinNetworkError";
    this.attempts = options.attempts;
  }
}

export function isSailfinApiError(value: unknown): value is SailfinApiError {
  return value instanceof SailfinApiError;
}
