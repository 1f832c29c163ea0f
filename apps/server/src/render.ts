import { randomInt } from "node:crypto";
import type { FastifyReply } from "fastify";
import { SailfinError, clip, toWellFormed } from "@sailfin/contract";

/**
 * The two envelopes (reference §1.2–1.3), rendered in one place. V1 business errors are HTTP
 * 200 so that SDKs read `error_code`; errors flagged `gateway` (authentication, unknown
 * method) keep their HTTP status in both dialects and carry the BCE error headers.
 */
export type DialectName = "v1" | "v2";

/** Marks a V2 success with no `result` key (`CancelModelCompTask` answers only `requestId`). */
export const NO_RESULT = Symbol("no-result");

/** V1 `log_id`: a string of digits, as Baidu's. */
export function newLogId(): string {
  return String(randomInt(1_000_000_000, 9_999_999_999));
}

export function sendV2(reply: FastifyReply, requestId: string, result: unknown): FastifyReply {
  reply.header("x-bce-request-id", requestId);
  return reply.send(result === NO_RESULT ? { requestId } : { requestId, result });
}

export function sendV1(reply: FastifyReply, logId: string, result: unknown, datasetFamily: boolean): FastifyReply {
  return reply.send(datasetFamily ? { log_id: logId, status: 200, success: true, result } : { log_id: logId, result });
}

export function sendError(
  reply: FastifyReply,
  dialect: DialectName,
  error: SailfinError,
  ids: { requestId: string; logId: string },
  datasetFamily = false,
): FastifyReply {
  const spec = error.spec;
  reply.header("x-bce-request-id", ids.requestId);
  if (dialect === "v2" || spec.gateway) {
    reply.header("x-bce-error-code", spec.v2Code);
    reply.header("x-bce-error-message", asciiHeader(spec.headerMessage ?? error.v2Message));
  }
  if (dialect === "v2") {
    return reply.code(spec.http).send({ requestId: ids.requestId, code: spec.v2Code, message: error.v2Message });
  }
  const body: Record<string, unknown> = { log_id: ids.logId, error_code: spec.v1Code, error_msg: error.v1Message };
  if (spec.gateway) {
    // Gateway errors also carry the V2 keys: that is what BCE's gateway answers on any route.
    body.requestId = ids.requestId;
    body.code = spec.v2Code;
    body.message = error.v2Message;
    return reply.code(spec.http).send(body);
  }
  // The family's `status` is 400 for the caller's mistakes (reference §1.2), 500 for ours.
  if (datasetFamily) Object.assign(body, { status: spec.system ? spec.http : 400, success: false, code: spec.v1Code, message: error.v1Message });
  return reply.code(200).send(body);
}

/** Longest X-Bce-Error-Message source text (percent-encoding may triple it, or more). */
const MAX_HEADER_CHARS = 500;

/**
 * Header values must be printable ASCII: other text is percent-encoded as UTF-8, a lone surrogate
 * as U+FFFD (encodeURI would throw), and long text is cut, so any string renders.
 */
export function asciiHeader(value: string): string {
  const text = clip(value, MAX_HEADER_CHARS);
  // eslint-disable-next-line no-control-regex
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  return encodeURI(toWellFormed(text));
}

/** V2 chat's and V1 chat's answer ids: `as-` and ten lower-case letters and digits, as Qianfan's. */
export function newChatId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let id = "as-";
  for (let i = 0; i < 10; i++) id += alphabet[randomInt(alphabet.length)];
  return id;
}

/** How long a caller of a service that is not serving yet should wait before trying again. */
const NOT_SERVING_RETRY_AFTER_S = 5;

/** OpenAI's `error.code` of each catalog error V2 chat can answer (reference §15.3 suggests these). */
function openAiCode(error: SailfinError, status: number): string {
  switch (error.id) {
    case "ModelNotFound": return "model_not_found";
    case "ModelNotServing":
    case "EngineUnavailable": return "service_unavailable";
    case "AccessTokenExpired": return "invalid_token";
    case "UnsupportedMethod": return "unsupported_method";
    default:
      if (status === 401) return "invalid_api_key";
      if (status === 403) return "access_denied";
      if (status === 413) return "request_too_large";
      if (status === 429) return "rate_limit_exceeded";
      if (status === 404) return "not_found";
      return status >= 500 ? "internal_error" : "invalid_argument";
  }
}

/**
 * V2 chat's errors (reference §15.3): OpenAI's envelope `{error: {code, message, type, param}, id}`
 * with HTTP >= 400, which the OpenAI SDKs and Qianfan's read. Every failed authentication is 401
 * (OpenAI's "invalid API key"), whatever bce-auth-v1's own status for it; 503 says when to retry.
 */
export function sendOpenAiError(reply: FastifyReply, error: SailfinError, requestId: string): FastifyReply {
  const spec = error.spec;
  const status = spec.gateway === true && spec.http < 500 && error.id !== "InvalidCSRFToken" && error.id !== "TooManyRequests"
    && error.id !== "InvalidAction" && error.id !== "InvalidURI" && error.id !== "URITooLong" ? 401
    // What a path or field names does not exist: OpenAI's 404 (the SDKs' NotFoundError).
    : error.id === "NotFound" ? 404 : spec.http;
  // OpenAI's messages are one sentence about the fault (`No such File object: file-…`), the field in `param`.
  const detail = error.detailIn("v2");
  reply.header("x-bce-request-id", requestId);
  if (status === 503) reply.header("retry-after", String(NOT_SERVING_RETRY_AFTER_S));
  return reply.code(status).send({
    error: {
      code: openAiCode(error, status),
      message: detail !== undefined && !spec.system ? detail : error.v2Message,
      type: status >= 500 ? "server_error" : "invalid_request_error",
      param: error.field ?? null,
    },
    id: newChatId(),
  });
}

/**
 * V1 chat's errors (reference §15.2): HTTP 200 `{error_code, error_msg, id}`, authentication
 * failures included, as Baidu's inference gateway answers and the SDKs read. A refused parameter
 * is Qianfan's 336003 with what was wrong.
 */
export function sendV1ChatError(reply: FastifyReply, error: SailfinError, requestId: string): FastifyReply {
  const badParameter = error.id === "InvalidParameter" || error.id === "MalformedJSON" || error.id === "EntityTooLarge";
  reply.header("x-bce-request-id", requestId);
  return reply.code(200).send({
    error_code: badParameter ? 336003 : error.spec.v1Code,
    error_msg: badParameter ? (error.suffix("v1") || error.v1Message) : error.v1Message,
    id: newChatId(),
  });
}
