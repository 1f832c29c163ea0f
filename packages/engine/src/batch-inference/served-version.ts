import { SailfinError } from "@sailfin/contract";
import type { Db } from "@sailfin/store";

/**
 * The model version a service runs, by what a batch inference request calls its `endpoint`: the
 * service's V1 URL (`…/wenxinworkshop/chat/<urlSuffix>`), its urlSuffix (case-insensitive) or
 * its `svco-…` id. Read straight from the `services` table: batch inference needs the version,
 * not a running engine (the `services` slice's findServingTarget resolves the same names for
 * calls; the coordinator may fold this into it).
 *
 * @example await findServedVersionNum(db, "https://host/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/my-bot", "endpoint")
 */
export async function findServedVersionNum(db: Db, endpoint: string, field: string): Promise<number> {
  const name = endpoint.replace(/[?#].*$/, "").replace(/\/+$/, "").split("/").pop() ?? "";
  const row = name === "" ? undefined : await db.selectFrom("services").select("model_version_num")
    .where((eb) => eb.or([eb(eb.fn("lower", ["url_suffix"]), "=", name.toLowerCase()), eb("id", "=", name)])).executeTakeFirst();
  if (row === undefined) throw new SailfinError("NotFound", { field, detail: `no service answers at ${endpoint}` });
  return row.model_version_num;
}
