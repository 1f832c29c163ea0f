/**
 * Signed webhooks (Sailfin extension): registrations per access key, the fan-out of `events`
 * into deliveries, and the dispatcher that sends them with retries. See docs/api.md "Webhooks".
 */
export { createWebhook, deleteWebhook, listWebhooks, type WebhookRecord } from "./manage-webhooks.js";
export { listWebhookDeliveries, type WebhookDeliveryRecord } from "./list-deliveries.js";
export { DEFAULT_WEBHOOK_OPTIONS, WebhookDispatcher } from "./dispatcher.js";
