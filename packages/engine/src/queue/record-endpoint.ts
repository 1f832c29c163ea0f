import type { Kysely } from "kysely";
import { nowIso } from "@sailfin/contract";
import type { Database } from "@sailfin/store";
import type { Lease } from "./lease.js";

/** Where a serving run's engine answers, as its attempt records it. */
export interface EndpointInput {
  readonly url: string;
  /** Sealed with the SecretBox (never the plain key); null: the engine takes no key. */
  readonly apiKeyEnc: string | null;
  readonly servedModelName: string;
  readonly engine: string;
}

/**
 * Records (or replaces) the endpoint of the leased `serve` run for this attempt, fenced by the
 * lease: one transaction that writes only while the run is Running under this token. A row of an
 * earlier attempt is overwritten (its worker is gone). False when the lease was lost.
 *
 * @example await recordEndpoint(db, lease, { url: "http://127.0.0.1:40123", apiKeyEnc, servedModelName: "my-svc", engine: "sailfin" })
 */
export async function recordEndpoint(db: Kysely<Database>, lease: Lease, input: EndpointInput): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const held = await trx.selectFrom("runs").select("num")
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running").executeTakeFirst();
    if (held === undefined) return false;
    await trx.deleteFrom("service_endpoints").where("run_num", "=", lease.runNum).execute();
    await trx.insertInto("service_endpoints").values({
      run_num: lease.runNum, attempt: lease.attempt, url: input.url, api_key_enc: input.apiKeyEnc,
      served_model_name: input.servedModelName, engine: input.engine, ready_at: nowIso(),
    }).execute();
    return true;
  });
}

/**
 * Removes the leased run's endpoint while its engine is down (restarting), fenced by the lease:
 * a worker that lost the run never removes the new holder's row. False when the lease was lost.
 */
export async function dropEndpoint(db: Kysely<Database>, lease: Lease): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const held = await trx.selectFrom("runs").select("num")
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running").executeTakeFirst();
    if (held === undefined) return false;
    await trx.deleteFrom("service_endpoints").where("run_num", "=", lease.runNum).where("attempt", "=", lease.attempt).execute();
    return true;
  });
}
