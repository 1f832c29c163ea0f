import type { Kysely, Transaction } from "kysely";
import type { Database } from "@sailfin/store";
import type { FinetuneRef } from "./refs.js";

/**
 * Dataset versions as training reads them, straight from the datasets module's tables (no
 * dependency on its code): released means `release_status = 2` with a content hash.
 */
export interface TrainingDatasetVersion {
  readonly num: number;
  readonly id: string;
  readonly groupId: string;
  readonly dataFormat: string;
  readonly released: boolean;
  readonly contentHash: string | null;
}

const RELEASED = 2;

type Db = Kysely<Database> | Transaction<Database>;

/** The dataset version named by id (`ds-…`) or number (V1), or null. */
export async function findDatasetVersion(db: Db, ref: FinetuneRef): Promise<TrainingDatasetVersion | null> {
  let query = db
    .selectFrom("dataset_versions as v")
    .innerJoin("dataset_groups as g", "g.num", "v.group_num")
    .select(["v.num as num", "v.id as id", "g.id as groupId", "g.data_format as dataFormat", "v.release_status as releaseStatus", "v.content_hash as contentHash"]);
  query = ref.id !== undefined ? query.where("v.id", "=", ref.id) : query.where("v.num", "=", ref.num);
  const row = await query.executeTakeFirst();
  if (row === undefined) return null;
  return {
    num: row.num, id: row.id, groupId: row.groupId, dataFormat: row.dataFormat, contentHash: row.contentHash,
    released: row.releaseStatus === RELEASED && row.contentHash !== null,
  };
}
