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
