import { INT32_MAX, SailfinError, V1Id, intField, isoOffset, parseWith, sqlTime, z } from "@sailfin/contract";
import {
  createDataset, createDatasetVersion, deleteDatasetVersion, formatFromV1, describeDatasetVersion, describeDatasetVersions,
  findDatasetGroupByName, parseStoredReport, releaseDatasetVersion, startDatasetImport,
  type DatasetGroupRow, type DatasetVersionDetail, type DatasetVersionRow,
} from "@sailfin/engine";
import { v1, type RouteContext, type RouteDef } from "../route.js";

/**
 * `POST /wenxinworkshop/dataset/*` (reference §10.1). A V1 "dataset" is one version; its
 * numeric `id`/`datasetId` is the version's row number and `datasetPK`/`bmlDatasetId` its `ds-`
 * id; `groupId` is the group's number. Every id parameter takes the number or the `ds-` string.
 */

const actor = (ctx: RouteContext) => ({ accessKey: ctx.caller.accessKey });

const CreateBody = z.object({
  name: z.string().min(1).max(100),
  versionId: intField(1, INT32_MAX).optional(),
  projectType: intField(0, INT32_MAX),
  templateType: intField(0, INT32_MAX),
  dataType: intField(0, INT32_MAX).optional(),
  storageType: z.enum(["sysBos", "usrBos"]),
  storageId: z.string().optional(),
  rawStoragePath: z.string().optional(),
  remark: z.string().max(500).optional(),
});
const DatasetIdBody = z.object({ datasetId: V1Id });
const ImportBody = z.object({
  datasetId: V1Id,
  annotated: z.boolean().optional(),
  importFrom: intField(0, INT32_MAX).optional(),
  files: z.array(z.string().min(1)).min(1).max(100),
});
const StatusListBody = z.object({ datasetIds: z.array(V1Id).min(1).max(100) });

/** `storageInfo` / `storage`: the platform's own storage, or the user's bucket as created. */
function storageInfo(group: DatasetGroupRow, version: DatasetVersionRow) {
  if (group.storage_type === "BOS") {
    const [, bucket = "", dir = ""] = /^bos:\/([^/]+)\/(.*)$/.exec(group.storage_path) ?? [];
    return { storageId: bucket, storageName: bucket, storagePath: `/${bucket}/${dir}`, rawStoragePath: dir, region: "local" };
  }
  return { storageId: "sailfin", storageName: "sailfin", storagePath: `/datasets/${version.id}/`, rawStoragePath: "", region: "local" };
}

const displayName = (group: DatasetGroupRow, version: DatasetVersionRow) => `${group.name}_V${version.version}`;

/** The validation report of the last import (null before any import). */
function importErrorInfo(version: DatasetVersionRow) {
  const report = parseStoredReport(version);
  if (report === null) return null;
  return {
    errorCount: report.errorCount, errors: report.errors, truncated: report.truncated, message: report.error ?? "",
    records: report.records, characters: report.characters, bytes: report.bytes, blankLines: report.blankLines, files: report.files,
  };
}

/** The object `create` answers (the SDK mock's field list). */
function renderCreated({ group, version }: DatasetVersionDetail) {
  return {
    id: version.num, groupId: group.num, groupPK: String(group.num), groupIdStr: group.id, datasetId: version.id,
    versionId: version.version, groupName: group.name, displayName: displayName(group, version), createFrom: 0,
    bmlDatasetId: version.id, userId: 0, dataType: group.data_type, projectType: group.project_type,
    templateType: group.template_type, remark: version.description, storageInfo: storageInfo(group, version),
    importStatus: version.import_status, importProgress: version.import_progress, exportStatus: -1,
    releaseStatus: version.release_status, status: 0, isUnique: 0, errCode: null,
    createTime: isoOffset(version.created_at), modifyTime: isoOffset(version.modified_at),
  };
}

/** `memorySize` is in MB with two decimals, as the platform shows it; bytes are sent too. */
const megabytes = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 100) / 100;

function renderInfo({ group, version }: DatasetVersionDetail) {
  const released = version.release_status === 2;
  return {
    groupPK: String(group.num),
    groupIdStr: group.id,
    name: group.name,
    dataType: group.data_type,
    versionInfo: {
      id: version.num, groupId: group.num, datasetId: version.num, datasetPK: version.id, datasetIdStr: version.id,
      importRecordCount: version.validation_report === null ? 0 : 1, exportRecordCount: 0, bmlDatasetId: version.id,
      userId: 0, versionId: version.version, displayName: displayName(group, version),
      importStatus: version.import_status, importProgress: version.import_progress, exportStatus: -1, exportProgress: 0,
      dataType: group.data_type, projectType: group.project_type, templateType: group.template_type, errCode: null,
      uniqueType: 0, importErrorInfo: importErrorInfo(version),
      createTime: sqlTime(version.created_at), modifyTime: sqlTime(version.modified_at),
      storageType: group.storage_type === "BOS" ? "usrBos" : "sysBos", storage: storageInfo(group, version),
      releaseStatus: version.release_status, releaseErrCode: 0,
      releaseStoragePath: released && version.data_path !== null ? `/${version.data_path}` : "",
      releaseProgress: released ? 100 : 0, remark: version.description,
      annotatedEntityCount: version.record_count, entityCount: version.record_count, labelCount: 0,
      memorySize: megabytes(version.byte_size), memorySizeBytes: version.byte_size, characterCount: version.char_count,
      contentHash: version.content_hash ?? "", releaseTime: sqlTime(version.released_at),
      isEnhancing: false, enhanceStatus: -1, hasEnhance: false, isSelfInstructEnhance: false, etlStatus: 0, hasEtl: false,
      isPipelineEtl: false, description: version.description, tag: [], license: "",
    },
  };
}

function renderStatus({ version }: DatasetVersionDetail) {
  return {
    importStatus: version.import_status, importProgress: version.import_progress,
    releaseStatus: version.release_status, releaseProgress: version.release_status === 2 ? 100 : 0,
    exportStatus: -1, exportProgress: 0, enhanceStatus: -1, etlStatus: 0, importErrorInfo: importErrorInfo(version),
    entityCount: version.record_count, annotatedEntityCount: version.record_count, labelCount: 0,
    characterCount: version.char_count, modifyTime: sqlTime(version.modified_at),
  };
}

async function create(ctx: RouteContext, body: unknown) {
  const input = parseWith(CreateBody, body);
  if (!String(input.templateType).startsWith(String(input.projectType))) {
    throw new SailfinError("InvalidParameter", { field: "templateType", detail: `must start with the projectType digits (${input.projectType})` });
  }
  const format = formatFromV1(input.projectType, input.templateType);
  if (format === undefined) {
    throw new SailfinError("InvalidParameter", {
      field: "templateType", detail: "unsupported; supported: 2000, 2001, 2002, 2010 (projectType 20) and 40100 (projectType 401)",
    });
  }
  if (input.dataType !== undefined && input.dataType !== format.dataType) {
    throw new SailfinError("InvalidParameter", { field: "dataType", detail: "must be 4 (text); multimodal datasets are not supported" });
  }
  const versionNumber = input.versionId ?? 1;
  if (versionNumber > 1) {
    // A further version of an existing group: its format and storage are the group's.
    const group = await findDatasetGroupByName(ctx.res.db, input.name, "name");
    if (group.data_format !== format.name) {
      throw new SailfinError("InvalidParameter", { field: "templateType", detail: `dataset ${input.name} holds ${group.template_type} data` });
    }
    return renderCreated(await createDatasetVersion(ctx.res, actor(ctx), {
      group, field: "name", expectedVersion: { number: versionNumber, field: "versionId" },
      ...(input.remark === undefined ? {} : { description: input.remark }),
    }));
  }
  let storagePath: string | undefined;
  if (input.storageType === "usrBos") {
    if (!input.storageId) throw new SailfinError("InvalidParameter", { field: "storageId", detail: "is required for usrBos" });
    storagePath = `bos:/${input.storageId}/${(input.rawStoragePath ?? "").replace(/^\/+/, "")}`;
  }
  const created = await createDataset(ctx.res, actor(ctx), {
    name: input.name, format: format.name, storageType: input.storageType === "usrBos" ? "BOS" : "sysStorage",
    ...(storagePath === undefined ? {} : { storagePath, storagePathField: "rawStoragePath" }),
    ...(input.remark === undefined ? {} : { description: input.remark }),
  });
  return renderCreated(created);
}

export const datasetV1Routes: RouteDef[] = [
  v1("/wenxinworkshop/dataset/create", "dataset:write", create, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/import", "dataset:write", async (ctx, body) => {
    const input = parseWith(ImportBody, body);
    if (input.importFrom !== undefined && input.importFrom !== 1) {
      throw new SailfinError("InvalidParameter", { field: "importFrom", detail: "only 1 (a bucket, bos:/bucket/path) is supported" });
    }
    await startDatasetImport(ctx.res, actor(ctx), { versionRef: input.datasetId, versionField: "datasetId", files: input.files, filesField: "files" });
    return true;
  }, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/release", "dataset:write", async (ctx, body) => {
    const input = parseWith(DatasetIdBody, body);
    await releaseDatasetVersion(ctx.res, actor(ctx), input.datasetId, "datasetId");
    return true;
  }, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/info", "dataset:read", async (ctx, body) => {
    const input = parseWith(DatasetIdBody, body);
    return renderInfo(await describeDatasetVersion(ctx.res, input.datasetId, "datasetId"));
  }, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/statusList", "dataset:read", async (ctx, body) => {
    const input = parseWith(StatusListBody, body);
    const details = await describeDatasetVersions(ctx.res, input.datasetIds, "datasetIds");
    // Keyed by the ids as the caller sent them.
    return Object.fromEntries(details.map((detail, i) => [String(input.datasetIds[i]), renderStatus(detail)]));
  }, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/delete", "dataset:delete", async (ctx, body) => {
    const input = parseWith(DatasetIdBody, body);
    const { remaining } = await deleteDatasetVersion(ctx.res, actor(ctx), input.datasetId, "datasetId", { dropEmptyGroup: true });
    return { versionCount: remaining };
  }, { datasetFamily: true }),
];
