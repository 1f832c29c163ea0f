import type { Db } from "./db.js";

interface EventInput {
  readonly objectKind: string;
  readonly objectId: string;
  readonly actor: string;
  readonly from: string | null;
  readonly to: string;
  readonly reason?: string;
}

/** Appends one state change to the object's event log (call inside the transaction that changes it). */
export async function appendEvent(db: Db, event: EventInput): Promise<void> {
  await db
    .insertInto("events")
    .values({
      object_kind: event.objectKind,
      object_id: event.objectId,
      at: new Date().toISOString(),
      actor: event.actor,
      from_state: event.from,
      to_state: event.to,
      reason: event.reason ?? null,
    })
    .execute();
}
