import { runStateWord, type RunStateRef } from "./states.js";

/**
 * The error catalog: every error Sailfin returns, with its rendering in each dialect.
 *
 * V1 business errors travel as HTTP 200 `{log_id, error_code, error_msg}` because the Python SDK
 * only looks at `error_code` (and retries 500000) on a 2xx; V2 errors are HTTP >= 400
 * `{requestId, code, message}`. Authentication failures happen "at the gateway" (as on Baidu's
 * own), so they use the HTTP status in both dialects (`gateway: true`).
 */
export interface ErrorSpec {
  /** HTTP status for V2 (and for V1 when `gateway`). */
  readonly http: number;
  readonly v1Code: number;
  readonly v1Message: string;
  readonly v2Code: string;
  readonly v2Message: string;
  /** Rendered with its HTTP status in V1 too (authentication happens before the route). */
  readonly gateway?: boolean;
  /** A system fault (logged at error, internals hidden) rather than the caller's mistake. */
  readonly system?: boolean;
  /**
   * The exact `X-Bce-Error-Message` Baidu's gateway sends: the Python SDK prints its hints
   * ("Access Key 错误" / "Secret Key 错误") only on these texts.
   */
  readonly headerMessage?: string;
}

const INAPPROPRIATE =
  "The JSON you provided was well-formed and valid, but not appropriate for this operation.";

export const ERRORS = {
  MalformedJSON: {
    http: 400, v1Code: 500001, v1Message: "param invalid",
    v2Code: "MalformedJSON", v2Message: "The JSON you provided was not well-formed.",
  },
  InvalidParameter: {
    http: 400, v1Code: 500001, v1Message: "param invalid",
    v2Code: "InappropriateJSON", v2Message: INAPPROPRIATE,
  },
  NotFound: {
    http: 400, v1Code: 500001, v1Message: "param invalid",
    v2Code: "InappropriateJSON", v2Message: INAPPROPRIATE,
  },
  // Sailfin's extension routes name what they act on in the path (REST style), so what is missing
  // is HTTP 404 there, where Qianfan's JSON routes answer NotFound as a refused parameter.
  PathNotFound: {
    http: 404, v1Code: 500001, v1Message: "param invalid",
    v2Code: "NotFound", v2Message: "The resource the path names does not exist.",
  },
  // An evaluation export's download link (a Sailfin extension) that is forged, altered or expired;
  // its whole message is this text, as the route has always answered.
  DownloadLinkInvalid: {
    http: 403, v1Code: 500002, v1Message: "auth failed, no access",
    v2Code: "AccessDenied", v2Message: "the download link is invalid or has expired",
  },
  ModelVersionNotFound: {
    http: 400, v1Code: 70102, v1Message: "AI模型版本记录不存在",
    v2Code: "InappropriateJSON", v2Message: INAPPROPRIATE,
  },
  InvalidMarker: {
    http: 400, v1Code: 500001, v1Message: "param invalid",
    v2Code: "InvalidMarker", v2Message: "The marker you provided was invalid.",
  },
  Conflict: {
    http: 409, v1Code: 500001, v1Message: "param invalid",
    v2Code: "ResourceInUse", v2Message: "The operation conflicts with the current state of the resource.",
  },
  // Qianfan's documented limit on batch inference (reference §16): 20 tasks Queuing or Running at once.
  TaskRunningNumberExceedLimit: {
    http: 400, v1Code: 500001, v1Message: "param invalid",
    v2Code: "TaskRunningNumberExceedLimit", v2Message: "The number of running tasks exceeds the limit.",
  },
  EntityTooLarge: {
    http: 413, v1Code: 500001, v1Message: "param invalid",
    v2Code: "EntityTooLarge", v2Message: "Your proposed upload exceeds the maximum allowed object size.",
  },
  AccessDenied: {
    http: 403, v1Code: 500002, v1Message: "auth failed, no access",
    v2Code: "AccessDenied", v2Message: "Access denied.",
  },
  InvalidHTTPAuthHeader: {
    http: 400, v1Code: 500002, v1Message: "auth failed, no access", gateway: true,
    v2Code: "InvalidHTTPAuthHeader",
    v2Message: "The HTTP authorization header is invalid. Consult the service documentation for details.",
  },
  InvalidAccessKeyId: {
    http: 403, v1Code: 500002, v1Message: "auth failed, no access", gateway: true,
    v2Code: "InvalidAccessKeyId", v2Message: "The Access Key ID you provided does not exist in our records.",
    headerMessage: "NotFound, cause: Could not find credential.",
  },
  SignatureDoesNotMatch: {
    http: 400, v1Code: 500002, v1Message: "auth failed, no access", gateway: true,
    v2Code: "SignatureDoesNotMatch",
    v2Message:
      "The request signature we calculated does not match the signature you provided. Check your Secret Access Key and signing method. Consult the service documentation for details.",
    headerMessage: "SignatureDoesNotMatch, cause: Fail to authn user: Signature does not match",
  },
  // BOS's name and text for a signed body digest the received body does not match.
  BadDigest: {
    http: 400, v1Code: 500002, v1Message: "auth failed, no access", gateway: true,
    v2Code: "BadDigest", v2Message: "The Content-MD5 or x-bce-content-sha256 you specified did not match what was received.",
  },
  RequestExpired: {
    http: 400, v1Code: 500002, v1Message: "auth failed, no access", gateway: true,
    v2Code: "RequestExpired", v2Message: "Request has expired.",
  },
  AccessTokenInvalid: {
    http: 401, v1Code: 110, v1Message: "Access token invalid or no longer valid", gateway: true,
    v2Code: "AccessTokenInvalid", v2Message: "Access token invalid or no longer valid.",
  },
  AccessTokenExpired: {
    http: 401, v1Code: 111, v1Message: "Access token expired", gateway: true,
    v2Code: "AccessTokenExpired", v2Message: "Access token expired.",
  },
  // The web console's session (Sailfin extension, docs/api.md "Console sessions"): refused
  // before the route, like a bad signature, so V1 routes answer with the HTTP status too.
  NotSignedIn: {
    http: 401, v1Code: 500002, v1Message: "auth failed, no access", gateway: true,
    v2Code: "NotSignedIn", v2Message: "The console session does not exist or has ended. Sign in again.",
  },
  InvalidCSRFToken: {
    http: 403, v1Code: 500002, v1Message: "auth failed, no access", gateway: true,
    v2Code: "InvalidCSRFToken",
    v2Message: "A request made with the session cookie must carry the session's token in X-Sailfin-CSRF and come from this origin.",
  },
  TooManyRequests: {
    http: 429, v1Code: 18, v1Message: "Open api qps request limit reached", gateway: true,
    v2Code: "TooManyRequests", v2Message: "Too many failed attempts. Wait a minute and try again.",
  },
  InvalidAction: {
    http: 404, v1Code: 3, v1Message: "Unsupported openapi method", gateway: true,
    v2Code: "InvalidAction", v2Message: "The action is not supported by this resource.",
  },
  // Before any route: a path that is not percent-encoded UTF-8, or a segment past the router's limit.
  InvalidURI: {
    http: 400, v1Code: 500001, v1Message: "param invalid", gateway: true,
    v2Code: "InvalidURI", v2Message: "Could not parse the specified URI.",
  },
  URITooLong: {
    http: 414, v1Code: 500001, v1Message: "param invalid", gateway: true,
    v2Code: "InvalidURI", v2Message: "The specified URI is too long.",
  },
  // Inference calls (reference §15): the `model` (V2) or endpoint (V1) names no service; V1's
  // text is the one the Python SDK acts on (it refreshes its service list and retries once).
  // OpenAI's fine-tuning dialect: a `method.type` Sailfin does not train (reinforcement); its
  // envelope's `code` is `unsupported_method` (apps/server/src/render.ts).
  UnsupportedMethod: {
    http: 400, v1Code: 500001, v1Message: "param invalid",
    v2Code: "InappropriateJSON", v2Message: INAPPROPRIATE,
  },
  ModelNotFound: {
    http: 404, v1Code: 3, v1Message: "Unsupported openapi method",
    v2Code: "ModelNotFound", v2Message: "The model does not exist or you do not have access to it.",
  },
  // The service exists but is not serving now (deploying, stopped, failed): retried by the SDKs.
  ModelNotServing: {
    http: 503, v1Code: 336100, v1Message: "the service is not serving now, try again later",
    v2Code: "ModelNotServing", v2Message: "The service is not serving now. Try again later.",
  },
  // The service's engine did not answer (it stopped or crashed mid-call): retried by the SDKs.
  EngineUnavailable: {
    http: 503, v1Code: 336100, v1Message: "the service's engine is unavailable, try again later",
    v2Code: "EngineUnavailable", v2Message: "The service's engine is unavailable. Try again later.",
  },
  InternalError: {
    http: 500, v1Code: 500000, v1Message: "internal server error", system: true,
    v2Code: "InternalError", v2Message: "We encountered an internal error. Please try again.",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorId = keyof typeof ERRORS;

interface SailfinErrorOptions {
  /** The request field at fault, as a dotted path (`datasetConfig.splitRatio`). */
  readonly field?: string;
  /** A short human explanation appended to the catalog message. */
  readonly detail?: string;
  /** The run whose state `detail` names with STATE_WORD: each dialect writes its own word there. */
  readonly state?: RunStateRef;
  readonly cause?: unknown;
}

/** Marks where a detail names a run's state: `task ${id} has already finished (${STATE_WORD})`, with `state` given. */
export const STATE_WORD = "{state}";

/**
 * The one error class of Sailfin. Engine code throws it with a catalog id; each dialect's
 * envelope renders it.
 *
 * @example
 * throw new SailfinError("InvalidParameter", { field: "datasetConfig.splitRatio", detail: "must be in [0, 20]" });
 */
export class SailfinError extends Error {
  readonly id: ErrorId;
  readonly field: string | undefined;
  readonly detail: string | undefined;
  readonly state: RunStateRef | undefined;

  constructor(id: ErrorId, options: SailfinErrorOptions = {}) {
    // A refused value may be echoed in the detail (an unknown id of a megabyte): bounded here, once.
    const field = options.field === undefined ? undefined : clip(options.field, MAX_FIELD_CHARS);
    const detail = options.detail === undefined ? undefined : clip(options.detail, MAX_DETAIL_CHARS);
    super(describe(id, { field, detail, state: options.state }), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SailfinError";
    this.id = id;
    this.field = field;
    this.detail = detail;
    this.state = options.state;
  }

  get spec(): ErrorSpec {
    return ERRORS[this.id];
  }

  /** `param[field] invalid: detail` — the V1 and V2 suffix naming what was wrong, in that dialect's state words. */
  suffix(dialect: "v1" | "v2"): string {
    const parts: string[] = [];
    if (this.field !== undefined) parts.push(`param[${this.field}] invalid`);
    const detail = this.detailIn(dialect);
    if (detail !== undefined) parts.push(detail);
    return parts.join(": ");
  }

  get v1Message(): string {
    if (this.field !== undefined) return this.suffix("v1");
    const base = this.spec.v1Message;
    const detail = this.detailIn("v1");
    return detail === undefined ? base : `${base}: ${detail}`;
  }

  get v2Message(): string {
    const suffix = this.suffix("v2");
    return suffix === "" ? this.spec.v2Message : `${this.spec.v2Message} ${suffix}`;
  }

  /** The detail alone, with the run's state in `dialect`'s word (OpenAI's envelope uses V2's). */
  detailIn(dialect: "v1" | "v2"): string | undefined {
    return this.state === undefined ? this.detail : this.detail?.replaceAll(STATE_WORD, runStateWord(dialect, this.state));
  }
}

/** Longest field path and detail an error carries; longer ones end in an ellipsis. */
const MAX_FIELD_CHARS = 200;
const MAX_DETAIL_CHARS = 1_000;

/** `text` cut to `max` UTF-16 units (never inside a surrogate pair), with "…" when cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** The log message: the internal status stands where a dialect would write its word. */
function describe(id: ErrorId, { field, detail, state }: SailfinErrorOptions): string {
  const where = field === undefined ? "" : ` param[${field}]`;
  const text = state === undefined ? detail : detail?.replaceAll(STATE_WORD, state.status);
  return `${id}${where}${text === undefined ? "" : `: ${text}`}`;
}

export function isSailfinError(value: unknown): value is SailfinError {
  return value instanceof SailfinError;
}
