import { SailfinError, nowIso } from "@sailfin/contract";
import { withVersionNumberRetry } from "../unique-retry.js";
import type { Actor, EngineResources } from "../resources.js";
import { insertVersion } from "./create-dataset.js";
import { findDatasetGroup, toGroupRecord, toVersionRecord, type DatasetGroupRecord, type DatasetVersionView } from "./records.js";

/**
 * Adds the next version (empty, not imported) to a dataset. Concurrent creations on one dataset
 * queue on the group's row, and the unique (group, version) constraint stays the arbiter (a lost
 * race retries with the next number).
 *
 * @example
 * const { version } = await createDatasetVersion(res, actor, { datasetId: "ds-…", field: "datasetId" });
 */
export async function createDatasetVersion(
  res: EngineResources,
  actor: Actor,
  input: {
    readonly datasetId?: string;
    readonly group?: DatasetGroupRecord;
    readonly field: string;
    readonly description?: string;
    /** V1 `create` names the version number it expects; anything but the next one is refused. */
    readonly expectedVersion?: { readonly number: number; readonly field: string };
  },
): Promise<DatasetVersionView> {
  const group = input.group ?? toGroupRecord(await findDatasetGroup(res.db, input.datasetId ?? "", input.field));
  const version = await withVersionNumberRetry(() =>
    res.db.transaction().execute(async (trx) => {
      const now = nowIso();
      // The group's row is written first: on PostgreSQL that row lock queues concurrent creations
      // on one dataset, so each reads the max after the previous one committed (reading it first,
      // 5 of 12 parallel creations lost the unique race even with retries).
      const touched = await trx.updateTable("dataset_groups").set({ modified_at: now }).where("num", "=", group.num).executeTakeFirst();
      if (Number(touched.numUpdatedRows) === 0) throw new SailfinError("NotFound", { field: input.field, detail: `dataset ${group.id} does not exist` });
      const top = await trx.selectFrom("dataset_versions").select((eb) => eb.fn.max("version").as("top"))
        .where("group_num", "=", group.num).executeTakeFirst();
      const next = Number(top?.top ?? 0) + 1;
      if (input.expectedVersion !== undefined && input.expectedVersion.number !== next) {
        throw new SailfinError("InvalidParameter", { field: input.expectedVersion.field, detail: `the next version of dataset ${group.name} is ${next}` });
      }
      return insertVersion(trx, actor, group.num, next, input.description ?? "", now);
    }));
  return { group, version: toVersionRecord(version) };
}
