import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Action } from "./policies.js";
import { PageFields } from "./validate.js";

/**
 * Sailfin's signed webhooks (an extension, docs/api.md "Webhooks"): the request bodies of the
 * `/v2/webhook` actions, the object kinds a registration can follow, and the signature scheme,
 * defined once so the server signs and a receiver (or the SDK) verifies with the same code.
 */

/**
 * What a webhook can follow: the state changes of these objects (wire words). `fine_tuning_job`
 * is OpenAI's dialect (docs/openai.md): its deliveries carry OpenAI's event body instead of ours.
 */
export const WEBHOOK_OBJECT_KINDS = ["task", "model_version", "compression", "evaluation", "export", "fine_tuning_job"] as const;
export type WebhookObjectKind = (typeof WEBHOOK_OBJECT_KINDS)[number];

/** The action a key needs to read each kind: a webhook only sees what its key may read. */
export const WEBHOOK_READ_ACTION: Readonly<Record<WebhookObjectKind, Action>> = {
  task: "tuning:read",
  model_version: "model:read",
  compression: "comp:read",
  evaluation: "eval:read",
  export: "eval:read",
  fine_tuning_job: "tuning:read",
};

/** The OpenAI job statuses a `fine_tuning_job` webhook is told about, and their event types. */
const FINE_TUNING_JOB_EVENT_TYPES = {
  succeeded: "fine_tuning.job.succeeded",
  failed: "fine_tuning.job.failed",
  cancelled: "fine_tuning.job.cancelled",
} as const;
type FineTuningJobEventStatus = keyof typeof FINE_TUNING_JOB_EVENT_TYPES;

export function isFineTuningJobEventStatus(status: string): status is FineTuningJobEventStatus {
  return Object.hasOwn(FINE_TUNING_JOB_EVENT_TYPES, status);
}

/**
 * A `fine_tuning_job` delivery's body: OpenAI's webhook event, so code written for OpenAI's
 * webhooks (and the SDKs' `webhooks.unwrap()`) reads it unchanged. `id` is the same on every retry.
 *
 * @example openAiWebhookEventBody("evt_0a1b…", 1718000000, "succeeded", "ftjob-…")
 * // {id: "evt_0a1b…", object: "event", created_at: 1718000000, type: "fine_tuning.job.succeeded", data: {id: "ftjob-…"}}
 */
export function openAiWebhookEventBody(id: string, createdAt: number, status: FineTuningJobEventStatus, jobId: string) {
  return { id, object: "event", created_at: createdAt, type: FINE_TUNING_JOB_EVENT_TYPES[status], data: { id: jobId } } as const;
}

export const CreateWebhookBody = z.object({
  url: z.string().max(2000).refine(isHttpUrl, "must be an absolute http:// or https:// URL"),
  objectKinds: z.array(z.enum(WEBHOOK_OBJECT_KINDS)).min(1).max(WEBHOOK_OBJECT_KINDS.length).optional(),
  description: z.string().max(200).optional(),
});
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;

export const WebhookIdBody = z.object({ webhookId: z.string().min(1).max(64) });
export type WebhookIdBody = z.infer<typeof WebhookIdBody>;

export const DescribeWebhookDeliveriesBody = z.object({ webhookId: z.string().min(1).max(64), ...PageFields });
export type DescribeWebhookDeliveriesBody = z.infer<typeof DescribeWebhookDeliveriesBody>;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/** Headers of every delivery. */
export const WEBHOOK_HEADERS = {
  webhookId: "x-sailfin-webhook-id",
  deliveryId: "x-sailfin-delivery-id",
  timestamp: "x-sailfin-timestamp",
  signature: "x-sailfin-signature",
} as const;

/**
 * The Standard Webhooks headers (standardwebhooks.com), sent with every delivery beside ours:
 * OpenAI signs this way, so the `openai` SDKs' `webhooks.unwrap(body, headers, secret)` verifies
 * a Sailfin delivery with the webhook's secret as given (a secret without the `whsec_` prefix is
 * used as its UTF-8 bytes by both SDKs, which is how ours signs too).
 */
export const STANDARD_WEBHOOK_HEADERS = {
  id: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
} as const;

/** Receivers should refuse a timestamp further than this from their clock (replays). */
const WEBHOOK_TOLERANCE_S = 300;

/**
 * The `X-Sailfin-Signature` value: `v1=` + hex HMAC-SHA256 under the webhook's secret of
 * `<timestamp>.<raw body>`. The timestamp (unix seconds, also sent as `X-Sailfin-Timestamp`) is
 * signed with the body so a captured delivery cannot be replayed later with a fresh timestamp.
 *
 * @example webhookSignature("3f0c…", "1718000000", '{"id":"whd-…"}') // "v1=9a1e…"
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/**
 * The `webhook-signature` value: `v1,` + base64 HMAC-SHA256 under the secret's UTF-8 bytes of
 * `<webhook-id>.<timestamp>.<raw body>` (Standard Webhooks).
 *
 * @example standardWebhookSignature("3f0c…", "whd-…", "1718000000", '{"id":"evt_…"}') // "v1,K5oZ…="
 */
export function standardWebhookSignature(secret: string, id: string, timestamp: string, body: string): string {
  return `v1,${createHmac("sha256", secret).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/**
 * A receiver's check: the signature matches (constant time) and the timestamp is within
 * `toleranceS` of `nowS`. Several `v1=` values separated by commas are accepted (secret rotation).
 *
 * @example verifyWebhookSignature(secret, req.headers["x-sailfin-timestamp"], rawBody, req.headers["x-sailfin-signature"])
 */
export function verifyWebhookSignature(
  secret: string, timestamp: string | undefined, body: string, signature: string | undefined,
  nowS = Math.floor(Date.now() / 1000), toleranceS = WEBHOOK_TOLERANCE_S,
): boolean {
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowS - Number(timestamp)) > toleranceS) return false;
  const expected = Buffer.from(webhookSignature(secret, timestamp, body));
  return signature.split(",").some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
