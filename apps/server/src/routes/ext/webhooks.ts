import {
  CreateWebhookBody, DescribeWebhookDeliveriesBody, WebhookIdBody, isoZ, pageRequest, parseWith,
} from "@sailfin/contract";
import {
  createWebhook, deleteWebhook, listWebhookDeliveries, listWebhooks, type WebhookDeliveryRecord, type WebhookRecord,
} from "@sailfin/engine";
import { v2, type RouteContext, type RouteDef } from "../route.js";

/**
 * Sailfin extension: signed webhooks (`/v2/webhook`, docs/api.md "Webhooks"). Each access key
 * manages its own registrations; `webhook:write` to create and delete, `webhook:read` to list.
 */

const owner = (ctx: RouteContext) => ({ accessKey: ctx.caller.accessKey });

function renderWebhook(hook: WebhookRecord) {
  return {
    webhookId: hook.id, url: hook.url, objectKinds: hook.objectKinds, description: hook.description,
    active: hook.active, createTime: isoZ(hook.createdAt),
  };
}

function renderDelivery(d: WebhookDeliveryRecord) {
  return {
    deliveryId: d.id, webhookId: d.webhookId, status: d.status, attempts: d.attempts,
    nextAttemptTime: d.nextAttemptAt === null ? "" : isoZ(d.nextAttemptAt),
    lastStatusCode: d.lastStatusCode, lastError: d.lastError ?? "",
    createTime: isoZ(d.createdAt), deliveredTime: d.deliveredAt === null ? "" : isoZ(d.deliveredAt),
    event: d.event,
  };
}

export const webhookRoutes: RouteDef[] = [
  v2("webhook", "CreateWebhook", "webhook:write", async (ctx, body) => {
    const input = parseWith(CreateWebhookBody, body);
    const { webhook, secret } = await createWebhook(ctx.res, owner(ctx), input);
    // The only time the secret is shown.
    return { ...renderWebhook(webhook), secret };
  }, true),
  v2("webhook", "DescribeWebhooks", "webhook:read", async (ctx) => ({
    webhookList: (await listWebhooks(ctx.res, owner(ctx))).map(renderWebhook),
  }), true),
  v2("webhook", "DeleteWebhook", "webhook:write", async (ctx, body) => {
    const input = parseWith(WebhookIdBody, body);
    await deleteWebhook(ctx.res, owner(ctx), input.webhookId, "webhookId");
    return true;
  }, true),
  v2("webhook", "DescribeWebhookDeliveries", "webhook:read", async (ctx, body) => {
    const input = parseWith(DescribeWebhookDeliveriesBody, body);
    const page = await listWebhookDeliveries(
      ctx.res, owner(ctx), input.webhookId, "webhookId",
      pageRequest({ marker: input.marker, maxKeys: input.maxKeys, pageReverse: input.pageReverse }),
    );
    return { deliveryList: page.items.map(renderDelivery), pageInfo: page.pageInfo };
  }, true),
];
