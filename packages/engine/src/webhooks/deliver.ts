import {
  STANDARD_WEBHOOK_HEADERS, WEBHOOK_HEADERS, WEBHOOK_READ_ACTION, isFineTuningJobEventStatus, nowIso, openAiWebhookEventBody,
  policiesAllow, standardWebhookSignature, webhookSignature,
} from "@sailfin/contract";
import { findCredential } from "../iam/access-keys.js";
import { isoIn } from "../queue/lease.js";
import type { EngineResources } from "../resources.js";
import { webhookEventOf, type WebhookEvent } from "./webhook-events.js";

export interface DeliveryPolicy {
  /** One attempt's limit (connect + answer). */
  readonly timeoutMs: number;
  /** Wait after the first failed attempt; doubles after each (`backoffMs · 2^(attempts-1)`). */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** Attempts before a delivery is `failed` for good. */
  readonly maxAttempts: number;
}

/** An attempt this process owns: `attempts` is its number (the claim counted it). */
interface ClaimedDelivery {
  readonly num: number;
  readonly attempts: number;
}

/** Extra time a claim holds past the attempt's timeout, for recording the outcome. */
const CLAIM_MARGIN_MS = 30_000;

/**
 * Claims up to `limit` due deliveries, each by one conditional update (`attempts` still what was
 * read), so two replicas never start the same attempt. The claim counts the attempt and moves
 * `next_attempt_at` past the attempt's timeout: a process that dies mid-attempt leaves the
 * delivery due again after that, and it is retried (at least once, never lost).
 *
 * @example const claimed = await claimDueDeliveries(res, 8, policy);
 */
export async function claimDueDeliveries(res: EngineResources, limit: number, policy: DeliveryPolicy, now = Date.now()): Promise<ClaimedDelivery[]> {
  if (limit <= 0) return [];
  const due = await res.db.selectFrom("webhook_deliveries").select(["num", "attempts"])
    .where("status", "=", "pending").where("next_attempt_at", "<=", new Date(now).toISOString())
    .orderBy("next_attempt_at", "asc").orderBy("num", "asc").limit(limit).execute();
  const claimed: ClaimedDelivery[] = [];
  for (const row of due) {
    const attempts = Number(row.attempts) + 1;
    const result = await res.db.updateTable("webhook_deliveries")
      .set({ attempts, next_attempt_at: isoIn(policy.timeoutMs + CLAIM_MARGIN_MS, now) })
      .where("num", "=", row.num).where("status", "=", "pending").where("attempts", "=", Number(row.attempts))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) claimed.push({ num: Number(row.num), attempts });
  }
  return claimed;
}

/**
 * Makes one claimed attempt: builds the body, signs it, POSTs it with the policy's timeout and
 * records the outcome (delivered on 2xx; otherwise retried with exponential backoff until
 * `maxAttempts`, then failed). Never throws for the receiver's faults; `signal` aborts it on
 * shutdown. Redirects are not followed (a 3xx is a failed attempt): a registered URL is the
 * only place a body goes.
 *
 * @example await attemptDelivery(res, claimed, policy, abortController.signal);
 */
export async function attemptDelivery(res: EngineResources, claimed: ClaimedDelivery, policy: DeliveryPolicy, signal: AbortSignal): Promise<void> {
  const row = await res.db.selectFrom("webhook_deliveries")
    .innerJoin("webhooks", "webhooks.num", "webhook_deliveries.webhook_num")
    .innerJoin("events", "events.num", "webhook_deliveries.event_num")
    .select([
      "webhook_deliveries.id as id", "webhooks.id as webhook_id", "webhooks.url as url", "webhooks.secret_enc as secret_enc",
      "webhooks.access_key as access_key", "events.object_kind as object_kind", "events.object_id as object_id",
      "events.from_state as from_state", "events.to_state as to_state", "events.reason as reason", "events.at as at",
    ])
    .where("webhook_deliveries.num", "=", claimed.num).executeTakeFirst();
  if (row === undefined) {
    // Its webhook was deleted after the fan-out read it.
    await res.db.deleteFrom("webhook_deliveries").where("num", "=", claimed.num).execute();
    return;
  }
  const event = webhookEventOf(row);
  // The key's rights are checked again at send time: a key deleted since the fan-out stops here.
  const credential = await findCredential(res, row.access_key);
  if (event === null || credential === null || !policiesAllow(credential.policies, WEBHOOK_READ_ACTION[event.objectKind])) {
    await record(res, claimed, { status: "failed", last_status_code: null, last_error: "the webhook's access key may not read this object (any more)" });
    return;
  }

  const body = deliveryBody(row.id, row.webhook_id, event);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const secret = res.secrets.open(row.secret_enc);
  let statusCode: number | null = null;
  let error: string | null = null;
  // Our own controller and timer rather than AbortSignal.any(…timeout()): on Node 20 such a
  // composite signal can be garbage-collected before it fires, and the attempt then hangs.
  const attempt = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; attempt.abort(); }, policy.timeoutMs);
  const onStop = () => attempt.abort();
  signal.addEventListener("abort", onStop, { once: true });
  try {
    const response = await fetch(row.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "sailfin-webhooks/1",
        [WEBHOOK_HEADERS.webhookId]: row.webhook_id,
        [WEBHOOK_HEADERS.deliveryId]: row.id,
        [WEBHOOK_HEADERS.timestamp]: timestamp,
        [WEBHOOK_HEADERS.signature]: webhookSignature(secret, timestamp, body),
        [STANDARD_WEBHOOK_HEADERS.id]: row.id,
        [STANDARD_WEBHOOK_HEADERS.timestamp]: timestamp,
        [STANDARD_WEBHOOK_HEADERS.signature]: standardWebhookSignature(secret, row.id, timestamp, body),
      },
      body,
      redirect: "manual",
      signal: attempt.signal,
    });
    statusCode = response.status;
    // The answer's body is not read: drop it so the connection is freed.
    await response.body?.cancel().catch(() => {});
    if (statusCode < 200 || statusCode > 299) error = `HTTP ${statusCode}`;
  } catch (caught) {
    error = timedOut ? `no answer within ${policy.timeoutMs} ms` : describeFailure(caught, signal);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onStop);
  }

  if (error === null) {
    await record(res, claimed, { status: "delivered", delivered_at: nowIso(), last_status_code: statusCode, last_error: null });
  } else if (claimed.attempts >= policy.maxAttempts) {
    await record(res, claimed, { status: "failed", last_status_code: statusCode, last_error: error });
  } else {
    const wait = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (claimed.attempts - 1));
    await record(res, claimed, { status: "pending", next_attempt_at: isoIn(wait), last_status_code: statusCode, last_error: error });
  }
}

/**
 * The JSON a delivery POSTs: ours (`{id, webhookId, event}`), or for an OpenAI job OpenAI's event
 * body, whose `evt_` id is the delivery's tail so that it stays the same on every retry.
 */
function deliveryBody(deliveryId: string, webhookId: string, event: WebhookEvent): string {
  if (event.objectKind === "fine_tuning_job" && isFineTuningJobEventStatus(event.to)) {
    const createdAt = Math.floor(Date.parse(event.at) / 1000);
    return JSON.stringify(openAiWebhookEventBody(`evt_${deliveryId.slice(deliveryId.indexOf("-") + 1)}`, createdAt, event.to, event.objectId));
  }
  return JSON.stringify({ id: deliveryId, webhookId, event });
}

/** Writes an attempt's outcome, fenced by its attempt number (a lapsed claim retaken elsewhere wins). */
async function record(
  res: EngineResources, claimed: ClaimedDelivery,
  patch: { status: string; next_attempt_at?: string; delivered_at?: string; last_status_code: number | null; last_error: string | null },
): Promise<void> {
  await res.db.updateTable("webhook_deliveries").set(patch)
    .where("num", "=", claimed.num).where("attempts", "=", claimed.attempts).where("status", "=", "pending")
    .execute();
}

function describeFailure(caught: unknown, signal: AbortSignal): string {
  if (signal.aborted) return "interrupted: the server was shutting down";
  const error = caught as { message?: string; cause?: { code?: string; message?: string } };
  const cause = error.cause?.code ?? error.cause?.message;
  return `${error.message ?? String(caught)}${cause === undefined ? "" : ` (${cause})`}`.slice(0, 500);
}
