import type { Page, PageRequest } from "@sailfin/contract";
import { keysetPage } from "@sailfin/store";
import type { Actor, EngineResources } from "../resources.js";
import { findOwnWebhook } from "./manage-webhooks.js";
import { webhookEventOf, type WebhookEvent } from "./webhook-events.js";

type DeliveryStatus = "pending" | "delivered" | "failed";

export interface WebhookDeliveryRecord {
  readonly id: string;
  readonly webhookId: string;
  readonly status: DeliveryStatus;
  /** Attempts started so far (an attempt in flight counts). */
  readonly attempts: number;
  /** When the next attempt is due (pending only). */
  readonly nextAttemptAt: string | null;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
  readonly event: WebhookEvent | null;
}

/**
 * One keyset page of a webhook's deliveries, newest first (oldest first with `reverse`), each
 * with its event and retry state. The webhook must be the caller's (NotFound naming `field`).
 *
 * @example await listWebhookDeliveries(res, { accessKey }, "wh-…", "webhookId", pageRequest({ maxKeys: 20 }))
 */
export async function listWebhookDeliveries(
  res: EngineResources, owner: Actor, webhookId: string, field: string, request: PageRequest,
): Promise<Page<WebhookDeliveryRecord>> {
  const hook = await findOwnWebhook(res.db, owner, webhookId, field);
  const query = res.db.selectFrom("webhook_deliveries")
    .innerJoin("events", "events.num", "webhook_deliveries.event_num")
    .select([
      "webhook_deliveries.num as num", "webhook_deliveries.id as id", "webhook_deliveries.status as status",
      "webhook_deliveries.attempts as attempts", "webhook_deliveries.next_attempt_at as next_attempt_at",
      "webhook_deliveries.last_status_code as last_status_code", "webhook_deliveries.last_error as last_error",
      "webhook_deliveries.created_at as created_at", "webhook_deliveries.delivered_at as delivered_at",
      "events.object_kind as object_kind", "events.object_id as object_id", "events.from_state as from_state",
      "events.to_state as to_state", "events.reason as reason", "events.at as at",
    ])
    .where("webhook_deliveries.webhook_num", "=", hook.num);
  const page = await keysetPage(query, request, "webhook_deliveries");
  return {
    items: page.items.map((row) => ({
      id: row.id, webhookId: hook.id, status: row.status as DeliveryStatus, attempts: Number(row.attempts),
      nextAttemptAt: row.status === "pending" ? row.next_attempt_at : null,
      lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code), lastError: row.last_error,
      createdAt: row.created_at, deliveredAt: row.delivered_at, event: webhookEventOf(row),
    })),
    pageInfo: page.pageInfo,
  };
}
