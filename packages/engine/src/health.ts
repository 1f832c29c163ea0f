import type { Kysely } from "kysely";
import type { Database } from "@sailfin/store";

/**
 * A cheap read that proves the database answers and holds Sailfin's schema: what `/healthz`
 * reports on. Throws when it does not.
 *
 * @example await checkDatabase(res.db);
 */
export async function checkDatabase(db: Kysely<Database>): Promise<void> {
  await db.selectFrom("access_keys").select("num").limit(1).execute();
}
