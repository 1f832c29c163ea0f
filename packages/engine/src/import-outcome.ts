import type { Kysely, Transaction } from "kysely";
import type { Database } from "@sailfin/store";
import type { Lease } from "./queue/lease.js";

/** Writes an import's verdict on its objects; run inside the fenced transaction that ends the run. */
export type SettleImport = (trx: Transaction<Database>) => Promise<void>;

/**
 * How one attempt of an import run (`dataset-import`, `model-import`) ended. `imported` ends the
 * run Succeeded with `result`; `rejected` (bad data, a missing file) ends it Failed without a
 * retry, as an import always failed at once. Either way `settle` writes the verdict in the same
 * fenced transaction, so a worker that lost its lease writes none of it. `interrupted`: the
 * signal stopped it (shutdown, lost lease) and nothing was recorded; the next attempt redoes it.
 */
export type ImportOutcome =
  | { readonly kind: "imported"; readonly reason: string; readonly result: unknown; readonly settle: SettleImport }
  | { readonly kind: "rejected"; readonly reason: string; readonly settle: SettleImport }
  | { readonly kind: "interrupted" };

/**
 * Whether `lease` still holds its run (a fenced no-op update). An import checks it before removing
 * files: once the lease is lost, the folder belongs to the run's new holder.
 */
export async function leaseHeld(db: Kysely<Database>, lease: Lease): Promise<boolean> {
  const held = await db.updateTable("runs").set({ lease_owner: lease.owner })
    .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running").executeTakeFirst();
  return Number(held.numUpdatedRows) === 1;
}
