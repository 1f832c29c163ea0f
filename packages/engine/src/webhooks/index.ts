/**
 * Signed webhooks (Sailfin extension): registrations per access key, the fan-out of `events`
 * into deliveries, and the dispatcher that sends them with retries. See docs/api.md "Webhooks".
 */
export {
  MAX_WEBHOOKS_PER_KEY, createWebhook, deleteWebhook, findOwnWebhook, listWebhooks, type WebhookRecord,
} from "./manage-webhooks.js";
export { listWebhookDeliveries, type DeliveryStatus, type WebhookDeliveryRecord } from "./list-deliveries.js";
export { webhookEventOf, webhookKindOf, type WebhookEvent } from "./webhook-events.js";
export { fanOutEvents, type FanOutOptions, type FanOutResult } from "./fan-out.js";
export { attemptDelivery, claimDueDeliveries, type ClaimedDelivery, type DeliveryPolicy } from "./deliver.js";
export { DEFAULT_WEBHOOK_OPTIONS, WebhookDispatcher, type WebhookDispatcherOptions } from "./dispatcher.js";
