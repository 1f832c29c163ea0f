import { SailfinError, newId, nowIso, type DatasetStorageType } from "@sailfin/contract";
import { appendEvent, type Db } from "@sailfin/store";
import { formatInfo, type DataFormat } from "@sailfin/data";
import { parseBucketUri } from "../artifacts/keys.js";
import type { Actor, EngineResources } from "../resources.js";
import { toVersionView, type DatasetVersionView } from "./records.js";

interface CreateDatasetInput {
  readonly name: string;
  readonly format: DataFormat;
  readonly storageType: DatasetStorageType;
  /** `bos:/bucket/dir/` for BOS storage (a missing trailing `/` is added). */
  readonly storagePath?: string;
  /** Request field of `storagePath`, for errors (`storagePath`, `rawStoragePath`). */
  readonly storagePathField?: string;
  readonly description?: string;
}

/**
 * Creates a dataset (group) with its first version, empty and not imported. Whatever the
 * storage type, imported data lives in the artifact store (`datasets/<versionId>/data.jsonl`);
 * a BOS path is recorded as the group's home for exports.
 *
 * @example
 * const { group, version } = await createDataset(res, actor, { name: "faq", format: "PromptResponse", storageType: "sysStorage" });
 * version.id // "ds-…", version.num is the V1 numeric id
 */
export async function createDataset(res: EngineResources, actor: Actor, input: CreateDatasetInput): Promise<DatasetVersionView> {
  const storagePath = normaliseStoragePath(input);
  const info = formatInfo(input.format);
  const now = nowIso();
  return res.db.transaction().execute(async (trx) => {
    const groupId = newId("dataset");
    const group = await trx.insertInto("dataset_groups").values({
      id: groupId, name: input.name, data_format: info.name, project_type: info.projectType,
      template_type: info.templateType, data_type: info.dataType, storage_type: input.storageType,
      storage_path: storagePath, created_at: now, modified_at: now,
    }).returningAll().executeTakeFirstOrThrow();
    await appendEvent(trx, { objectKind: "dataset", objectId: groupId, actor: actor.accessKey, from: null, to: "Created", reason: `${info.name} dataset ${input.name}` });
    const version = await insertVersion(trx, actor, group.num, 1, input.description ?? "", now);
    return toVersionView({ group, version });
  });
}

/** Inserts version `number` of a group (not imported, not released) and its Created event. */
export async function insertVersion(trx: Db, actor: Actor, groupNum: number, number: number, description: string, now: string) {
  const id = newId("datasetVersion");
  const version = await trx.insertInto("dataset_versions").values({
    id, group_num: groupNum, version: number, description, state: "Created", import_progress: 0,
    record_count: 0, char_count: 0, byte_size: 0, error_count: 0,
    validation_report: null, content_hash: null, data_path: null, released_at: null, created_at: now, modified_at: now,
  }).returningAll().executeTakeFirstOrThrow();
  await appendEvent(trx, { objectKind: "datasetVersion", objectId: id, actor: actor.accessKey, from: null, to: "Created", reason: `version ${number}` });
  return version;
}

function normaliseStoragePath(input: CreateDatasetInput): string {
  const field = input.storagePathField ?? "storagePath";
  if (input.storageType === "sysStorage") return "";
  if (input.storagePath === undefined || input.storagePath === "") {
    throw new SailfinError("InvalidParameter", { field, detail: "is required for BOS storage (bos:/bucket/dir/)" });
  }
  const location = parseBucketUri(input.storagePath, field);
  const dir = location.objectPath === "" || location.objectPath.endsWith("/") ? location.objectPath : `${location.objectPath}/`;
  return `bos:/${location.bucket}/${dir}`;
}
