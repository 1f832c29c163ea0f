import { SailfinError, nowIso } from "@sailfin/contract";
import type { Actor, EngineResources } from "../resources.js";
import { insertVersion } from "./create-dataset.js";
import { findDatasetGroup, type DatasetGroupRow, type DatasetVersionDetail } from "./records.js";

/**
 * Adds the next version (empty, not imported) to a dataset. Version numbers come from the
 * unique (group, version) constraint: two concurrent creations cannot get the same number, the
 * loser retries once with the next one.
 *
 * @example
 * const { version } = await createDatasetVersion(res, actor, { datasetId: "ds-…", field: "datasetId" });
 */
export async function createDatasetVersion(
  res: EngineResources,
  actor: Actor,
  input: {
    readonly datasetId?: string;
    readonly group?: DatasetGroupRow;
    readonly field: string;
    readonly description?: string;
    /** V1 `create` names the version number it expects; anything but the next one is refused. */
    readonly expectedVersion?: { readonly number: number; readonly field: string };
  },
): Promise<DatasetVersionDetail> {
  const group = input.group ?? (await findDatasetGroup(res.db, input.datasetId ?? "", input.field));
  for (let attempt = 0; ; attempt++) {
    try {
      const version = await res.db.transaction().execute(async (trx) => {
        const top = await trx.selectFrom("dataset_versions").select((eb) => eb.fn.max("version").as("top"))
          .where("group_num", "=", group.num).executeTakeFirst();
        const now = nowIso();
        const touched = await trx.updateTable("dataset_groups").set({ modified_at: now }).where("num", "=", group.num).executeTakeFirst();
        if (Number(touched.numUpdatedRows) === 0) throw new SailfinError("NotFound", { field: input.field, detail: `dataset ${group.id} does not exist` });
        const next = Number(top?.top ?? 0) + 1;
        if (input.expectedVersion !== undefined && input.expectedVersion.number !== next) {
          throw new SailfinError("InvalidParameter", { field: input.expectedVersion.field, detail: `the next version of dataset ${group.name} is ${next}` });
        }
        return insertVersion(trx, actor, group.num, next, input.description ?? "", now);
      });
      return { group, version };
    } catch (error) {
      if (attempt >= 2 || !/unique|duplicate/i.test((error as Error).message)) throw error;
    }
  }
}
