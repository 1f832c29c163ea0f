import { newId, nowIso } from "@sailfin/contract";
import { appendEvent } from "@sailfin/store";
import { formatInfo } from "@sailfin/data";
import type { EngineResources } from "../resources.js";
import type { Lease } from "../queue/lease.js";
import type { ResultDatasetRef } from "../evaluations/eval-spec.js";
import { datasetDataKey, type StoredImportReport } from "./records.js";

/** The rows of a result dataset, already in PromptResponse's line form. */
export interface ResultDatasetInput {
  readonly name: string;
  readonly description: string;
  /** One JSON array per line (`[{"prompt", "response": [["…"]], "completion"}]`), newline-terminated. */
  readonly jsonl: string;
  readonly records: number;
  readonly characters: number;
}

/**
 * Writes a dataset that a run produced (a manual evaluation's answers) as a new sysStorage
 * PromptResponse dataset whose one version is Released at once: the worker wrote the rows
 * itself, so there is nothing to import or validate, and the SDK reads it back like any other
 * (`Dataset.load(qianfan_dataset_id=…)`). The rows go to the store first; the rows in the
 * database are written in one transaction fenced by the run's lease: a worker that lost it
 * writes no dataset (null), and the orphan object is deleted.
 *
 * @example const ref = await createResultDataset(res, lease, { name: "e1_result", description: "", jsonl, records: 3, characters: 42 });
 */
export async function createResultDataset(res: EngineResources, lease: Lease, input: ResultDatasetInput): Promise<ResultDatasetRef | null> {
  const groupId = newId("dataset");
  const versionId = newId("datasetVersion");
  const key = datasetDataKey(versionId);
  const put = await res.artifacts.put(key, Buffer.from(input.jsonl, "utf8"));
  const info = formatInfo("PromptResponse");
  const actor = lease.owner;
  const report: StoredImportReport = {
    records: input.records, characters: input.characters, bytes: put.size, blankLines: 0, errorCount: 0, errors: [], truncated: 0,
    sha256: put.sha256, importTaskId: lease.runId, files: [], error: null,
  };
  const ref = await res.db.transaction().execute(async (trx) => {
    const fence = await trx.updateTable("runs").set({ lease_owner: lease.owner })
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running").executeTakeFirst();
    if (Number(fence.numUpdatedRows) !== 1) return null;
    const now = nowIso();
    const group = await trx.insertInto("dataset_groups").values({
      id: groupId, name: input.name, data_format: info.name, project_type: info.projectType,
      template_type: info.templateType, data_type: info.dataType, storage_type: "sysStorage",
      storage_path: "", created_at: now, modified_at: now,
    }).returning(["num"]).executeTakeFirstOrThrow();
    const version = await trx.insertInto("dataset_versions").values({
      id: versionId, group_num: group.num, version: 1, description: input.description, state: "Released", import_progress: 100,
      record_count: input.records, char_count: input.characters, byte_size: put.size, error_count: 0,
      validation_report: JSON.stringify(report), content_hash: put.sha256, data_path: key, released_at: now, created_at: now, modified_at: now,
    }).returning(["num"]).executeTakeFirstOrThrow();
    const reason = `written by ${lease.runId}`;
    await appendEvent(trx, { objectKind: "dataset", objectId: groupId, actor, from: null, to: "Created", reason });
    await appendEvent(trx, { objectKind: "datasetVersion", objectId: versionId, actor, from: null, to: "Released", reason });
    return { groupId, groupNum: group.num, versionId, versionNum: version.num, name: input.name };
  });
  if (ref === null) await res.artifacts.delete(key).catch(() => undefined);
  return ref;
}
