import type { Selectable } from "kysely";
import { SailfinError } from "@sailfin/contract";
import type { Db, RunTable } from "@sailfin/store";
import type { RunKind } from "./lease.js";

export type WorkRow = Selectable<RunTable>;

/**
 * A run of `kind` by its public id or its number (V1 numeric ids arrive as numbers or digit
 * strings), or NotFound naming `field` and the object (`compression task amva-… does not exist`).
 *
 * @example const row = await findWorkRun(db, "compress", "amva-…", "modelCompTaskId", "compression task");
 */
export async function findWorkRun(db: Db, kind: RunKind, ref: number | string, field: string, noun: string): Promise<WorkRow> {
  let query = db.selectFrom("runs").selectAll().where("kind", "=", kind);
  if (typeof ref === "number") query = query.where("num", "=", ref);
  else if (/^[0-9]{1,15}$/.test(ref)) query = query.where("num", "=", Number.parseInt(ref, 10));
  else query = query.where("id", "=", ref);
  const row = await query.executeTakeFirst();
  if (row === undefined) throw new SailfinError("NotFound", { field, detail: `${noun} ${String(ref)} does not exist` });
  return row;
}
