import { randomBytes } from "node:crypto";
import type { Selectable } from "kysely";
import { sql } from "kysely";
import {
  SailfinError, WEBHOOK_OBJECT_KINDS, isIdOf, newId, nowIso, type CreateWebhookBody, type WebhookObjectKind,
} from "@sailfin/contract";
import type { Database, WebhookTable } from "@sailfin/store";
import type { Kysely } from "kysely";
import type { Actor, EngineResources } from "../resources.js";

export interface WebhookRecord {
  readonly id: string;
  readonly url: string;
  readonly objectKinds: WebhookObjectKind[];
  readonly description: string;
  /** False once its access key was deleted (nothing is delivered any more). */
  readonly active: boolean;
  readonly createdAt: string;
}

/** Registrations per access key: each one multiplies the fan-out of every event. */
const MAX_WEBHOOKS_PER_KEY = 20;

type WebhookRow = Selectable<WebhookTable>;

function toWebhookRecord(row: WebhookRow): WebhookRecord {
  return {
    id: row.id, url: row.url, objectKinds: JSON.parse(row.object_kinds) as WebhookObjectKind[], description: row.description,
    active: Number(row.active) === 1, createdAt: row.created_at,
  };
}

/**
 * Registers a webhook for the caller's key. The signing secret (32 random bytes, hex) is
 * returned here only; it is stored sealed under the master key. Only events after this call are
 * delivered (`from_event_num` is the newest event now).
 *
 * @example const { webhook, secret } = await createWebhook(res, { accessKey }, { url: "https://ci.example/hook", objectKinds: ["task"] });
 */
export async function createWebhook(
  res: EngineResources, owner: Actor, input: CreateWebhookBody,
): Promise<{ webhook: WebhookRecord; secret: string }> {
  const objectKinds = WEBHOOK_OBJECT_KINDS.filter((kind) => (input.objectKinds ?? WEBHOOK_OBJECT_KINDS).includes(kind));
  const secret = randomBytes(32).toString("hex");
  const row = await res.db.transaction().execute(async (trx) => {
    const count = await trx.selectFrom("webhooks").select((eb) => eb.fn.countAll<number>().as("n"))
      .where("access_key", "=", owner.accessKey).executeTakeFirst();
    if (Number(count?.n ?? 0) >= MAX_WEBHOOKS_PER_KEY) {
      throw new SailfinError("Conflict", { detail: `an access key has at most ${MAX_WEBHOOKS_PER_KEY} webhooks; delete one first` });
    }
    const newest = await trx.selectFrom("events").select(sql<number | null>`max(num)`.as("num")).executeTakeFirst();
    return trx.insertInto("webhooks").values({
      id: newId("webhook"), access_key: owner.accessKey, url: input.url, secret_enc: res.secrets.seal(secret),
      object_kinds: JSON.stringify(objectKinds), description: input.description ?? "",
      from_event_num: Number(newest?.num ?? 0), active: 1, created_at: nowIso(),
    }).returningAll().executeTakeFirstOrThrow();
  });
  return { webhook: toWebhookRecord(row), secret };
}

/** The caller's webhooks, oldest first. */
export async function listWebhooks(res: EngineResources, owner: Actor): Promise<WebhookRecord[]> {
  const rows = await res.db.selectFrom("webhooks").selectAll().where("access_key", "=", owner.accessKey).orderBy("num", "asc").execute();
  return rows.map(toWebhookRecord);
}

/**
 * The caller's webhook `webhookId`, or NotFound naming `field` — also when another key owns it,
 * so ids of other keys' registrations cannot be probed.
 */
export async function findOwnWebhook(db: Kysely<Database>, owner: Actor, webhookId: string, field: string): Promise<WebhookRow> {
  const row = isIdOf("webhook", webhookId)
    ? await db.selectFrom("webhooks").selectAll().where("id", "=", webhookId).where("access_key", "=", owner.accessKey).executeTakeFirst()
    : undefined;
  if (row === undefined) throw new SailfinError("NotFound", { field, detail: `webhook ${webhookId} does not exist` });
  return row;
}

/** Deletes the caller's webhook and its deliveries (pending ones are never sent). */
export async function deleteWebhook(res: EngineResources, owner: Actor, webhookId: string, field: string): Promise<void> {
  const row = await findOwnWebhook(res.db, owner, webhookId, field);
  await res.db.transaction().execute(async (trx) => {
    await trx.deleteFrom("webhook_deliveries").where("webhook_num", "=", row.num).execute();
    await trx.deleteFrom("webhooks").where("num", "=", row.num).execute();
  });
}
