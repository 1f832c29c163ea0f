import {
  SailfinError, V1CreateDatasetBody, V1DatasetExportBody, V1DatasetIdBody, V1DatasetStatusListBody, V1ImportDatasetBody, V1ImportErrorDetailBody,
  isoOffset, parseWith, sqlTime, v1DatasetExportStatus, v1DatasetImportStatus, v1DatasetReleaseStatus,
  type V1DatasetExportRecord, type V1ImportErrorDetail,
  type V1DatasetCreated, type V1DatasetDeleteResult, type V1DatasetInfo, type V1DatasetStatus, type V1DatasetStatusList,
  type V1DatasetStorage, type V1ImportErrorInfo,
} from "@sailfin/contract";
import {
  createDataset, createDatasetExport, createDatasetVersion, datasetExportsOf, exportDownloadUrl, listDatasetExports, deleteDatasetVersion, formatFromV1, describeDatasetVersion, describeDatasetVersions,
  findDatasetGroupByName, releaseDatasetVersion, startDatasetImport,
  type DatasetExportView, type DatasetGroupRecord, type DatasetVersionRecord, type DatasetVersionView,
} from "@sailfin/engine";
import { v1, type RouteContext, type RouteDef } from "../route.js";

/**
 * `POST /wenxinworkshop/dataset/*` (reference §10.1). A V1 "dataset" is one version; its
 * numeric `id`/`datasetId` is the version's row number and `datasetPK`/`bmlDatasetId` its `ds-`
 * id; `groupId` is the group's number. Every id parameter takes the number or the `ds-` string.
 */

const actor = (ctx: RouteContext) => ({ accessKey: ctx.caller.accessKey });

/** `storageInfo` / `storage`: the platform's own storage, or the user's bucket as created. */
function storageInfo(group: DatasetGroupRecord, version: DatasetVersionRecord): V1DatasetStorage {
  if (group.storageType === "BOS") {
    const [, bucket = "", dir = ""] = /^bos:\/([^/]+)\/(.*)$/.exec(group.storagePath) ?? [];
    return { storageId: bucket, storageName: bucket, storagePath: `/${bucket}/${dir}`, rawStoragePath: dir, region: "local" };
  }
  return { storageId: "sailfin", storageName: "sailfin", storagePath: `/datasets/${version.id}/`, rawStoragePath: "", region: "local" };
}

const displayName = (group: DatasetGroupRecord, version: DatasetVersionRecord) => `${group.name}_V${version.version}`;

/** The validation report of the last import (null before any import). */
function importErrorInfo(version: DatasetVersionRecord): V1ImportErrorInfo | null {
  const report = version.importReport;
  if (report === null) return null;
  return {
    errorCount: report.errorCount, errors: report.errors, truncated: report.truncated, message: report.error ?? "",
    records: report.records, characters: report.characters, bytes: report.bytes, blankLines: report.blankLines, files: report.files,
  };
}

/** The object `create` answers (the SDK mock's field list). */
function renderCreated({ group, version }: DatasetVersionView): V1DatasetCreated {
  return {
    id: version.num, groupId: group.num, groupPK: String(group.num), groupIdStr: group.id, datasetId: version.id,
    versionId: version.version, groupName: group.name, displayName: displayName(group, version), createFrom: 0,
    bmlDatasetId: version.id, userId: 0, dataType: group.dataType, projectType: group.projectType,
    templateType: group.templateType, remark: version.description, storageInfo: storageInfo(group, version),
    importStatus: v1DatasetImportStatus(version.state), importProgress: version.importProgress, exportStatus: -1,
    releaseStatus: v1DatasetReleaseStatus(version.state), status: 0, isUnique: 0, errCode: null,
    createTime: isoOffset(version.createdAt), modifyTime: isoOffset(version.modifiedAt),
  };
}

/** `memorySize` is in MB with two decimals, as the platform shows it; bytes are sent too. */
const megabytes = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 100) / 100;

/** What `info` and `statusList` show of a version's exports: how many, and the newest one's status and progress (-1 and 0 without one). */
interface ExportSummary {
  readonly count: number;
  readonly status: number;
  readonly progress: number;
}

async function exportSummary(ctx: RouteContext, version: DatasetVersionRecord): Promise<ExportSummary> {
  const exports = await datasetExportsOf(ctx.res, version.num);
  const latest = exports[0];
  if (latest === undefined) return { count: 0, status: -1, progress: 0 };
  return { count: exports.length, status: v1DatasetExportStatus(latest.status), progress: latest.status === "Succeeded" ? 100 : latest.progress };
}

/** A `dataset/exportRecord` entry; `downloadUrl` for a finished export into Sailfin's storage. */
async function renderExportRecord(ctx: RouteContext, view: DatasetExportView): Promise<V1DatasetExportRecord> {
  const { spec, result } = view;
  const bos = spec.destination === "BOS";
  return {
    exportId: view.id, creatorName: spec.creator, storageId: bos ? spec.bucket ?? "" : "sailfin",
    storagePath: result?.storagePath ?? (bos ? `bos:/${spec.bucket}/${spec.folder}` : ""),
    size: result === null ? 0 : megabytes(result.bytes), exportFormat: 0, exportType: spec.exportType,
    status: v1DatasetExportStatus(view.status), recordNum: result?.records ?? 0, exportTo: bos ? 1 : 0,
    downloadUrl: !bos && view.status === "Succeeded" && result !== null ? await exportDownloadUrl(ctx.res, ctx.baseUrl, view.id, result) : "",
    startTime: sqlTime(view.startedAt ?? view.createdAt), finishTime: sqlTime(view.finishedAt),
  };
}

/** `importErrorDetail`: the invalid lines the last import recorded (the first 100). */
function renderImportErrors({ group, version }: DatasetVersionView): V1ImportErrorDetail {
  const report = version.importReport;
  const only = report?.files.length === 1 ? report.files[0]! : "";
  return {
    dataType: "file", downloadUrl: "", isZip: 0, projectType: group.projectType,
    content: (report?.errors ?? []).map((e, i) => {
      const file = e.file ?? only;
      return { sequence: i + 1, sampleFileName: file, sampleName: file.split("/").pop() ?? "", textLocation: e.line, textContent: `${e.field}: ${e.reason}` };
    }),
  };
}

function renderInfo({ group, version }: DatasetVersionView, exports: ExportSummary): V1DatasetInfo {
  const released = version.state === "Released";
  return {
    groupPK: String(group.num),
    groupIdStr: group.id,
    name: group.name,
    dataType: group.dataType,
    versionInfo: {
      id: version.num, groupId: group.num, datasetId: version.num, datasetPK: version.id, datasetIdStr: version.id,
      importRecordCount: version.importReport === null ? 0 : 1, exportRecordCount: exports.count, bmlDatasetId: version.id,
      userId: 0, versionId: version.version, displayName: displayName(group, version),
      importStatus: v1DatasetImportStatus(version.state), importProgress: version.importProgress, exportStatus: exports.status,
      exportProgress: exports.progress, dataType: group.dataType, projectType: group.projectType, templateType: group.templateType, errCode: null,
      uniqueType: 0, importErrorInfo: importErrorInfo(version),
      createTime: sqlTime(version.createdAt), modifyTime: sqlTime(version.modifiedAt),
      storageType: group.storageType === "BOS" ? "usrBos" : "sysBos", storage: storageInfo(group, version),
      releaseStatus: v1DatasetReleaseStatus(version.state), releaseErrCode: 0,
      releaseStoragePath: released && version.dataPath !== null ? `/${version.dataPath}` : "",
      releaseProgress: released ? 100 : 0, remark: version.description,
      annotatedEntityCount: version.recordCount, entityCount: version.recordCount, labelCount: 0,
      memorySize: megabytes(version.byteSize), memorySizeBytes: version.byteSize, characterCount: version.charCount,
      contentHash: version.contentHash ?? "", releaseTime: sqlTime(version.releasedAt),
      isEnhancing: false, enhanceStatus: -1, hasEnhance: false, isSelfInstructEnhance: false, etlStatus: 0, hasEtl: false,
      isPipelineEtl: false, description: version.description, tag: [], license: "",
    },
  };
}

function renderStatus({ version }: DatasetVersionView, exports: ExportSummary): V1DatasetStatus {
  return {
    importStatus: v1DatasetImportStatus(version.state), importProgress: version.importProgress,
    releaseStatus: v1DatasetReleaseStatus(version.state), releaseProgress: version.state === "Released" ? 100 : 0,
    exportStatus: exports.status, exportProgress: exports.progress, enhanceStatus: -1, etlStatus: 0, importErrorInfo: importErrorInfo(version),
    entityCount: version.recordCount, annotatedEntityCount: version.recordCount, labelCount: 0,
    characterCount: version.charCount, modifyTime: sqlTime(version.modifiedAt),
  };
}

async function create(ctx: RouteContext, body: unknown): Promise<V1DatasetCreated> {
  const input = parseWith(V1CreateDatasetBody, body);
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
    if (group.dataFormat !== format.name) {
      throw new SailfinError("InvalidParameter", { field: "templateType", detail: `dataset ${input.name} holds ${group.templateType} data` });
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
  v1("/wenxinworkshop/dataset/import", "dataset:write", async (ctx, body): Promise<boolean> => {
    const input = parseWith(V1ImportDatasetBody, body);
    if (input.importFrom !== undefined && input.importFrom !== 1) {
      throw new SailfinError("InvalidParameter", { field: "importFrom", detail: "only 1 (a bucket, bos:/bucket/path) is supported" });
    }
    await startDatasetImport(ctx.res, actor(ctx), { versionRef: input.datasetId, versionField: "datasetId", files: input.files, filesField: "files" });
    return true;
  }, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/release", "dataset:write", async (ctx, body): Promise<boolean> => {
    const input = parseWith(V1DatasetIdBody, body);
    await releaseDatasetVersion(ctx.res, actor(ctx), input.datasetId, "datasetId");
    return true;
  }, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/info", "dataset:read", async (ctx, body): Promise<V1DatasetInfo> => {
    const input = parseWith(V1DatasetIdBody, body);
    const view = await describeDatasetVersion(ctx.res, input.datasetId, "datasetId");
    return renderInfo(view, await exportSummary(ctx, view.version));
  }, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/statusList", "dataset:read", async (ctx, body): Promise<V1DatasetStatusList> => {
    const input = parseWith(V1DatasetStatusListBody, body);
    const details = await describeDatasetVersions(ctx.res, input.datasetIds, "datasetIds");
    // Keyed by the ids as the caller sent them.
    const summaries = await Promise.all(details.map((detail) => exportSummary(ctx, detail.version)));
    return Object.fromEntries(details.map((detail, i) => [String(input.datasetIds[i]), renderStatus(detail, summaries[i]!)]));
  }, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/export", "dataset:write", async (ctx, body): Promise<boolean> => {
    const input = parseWith(V1DatasetExportBody, body);
    await createDatasetExport(ctx.res, actor(ctx), {
      versionRef: input.datasetId, versionField: "datasetId", destination: input.exportTo === 1 ? "BOS" : "sysStorage",
      ...(input.exportTo === 1 ? { storagePath: input.storageId ?? "", bucketOnly: true } : {}), storagePathField: "storageId",
      ...(input.exportType === undefined ? {} : { exportType: input.exportType as 1 | 2 }),
    });
    return true;
  }, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/exportRecord", "dataset:read", async (ctx, body): Promise<V1DatasetExportRecord[]> => {
    const input = parseWith(V1DatasetIdBody, body);
    const exports = await listDatasetExports(ctx.res, input.datasetId, "datasetId");
    return Promise.all(exports.map((view) => renderExportRecord(ctx, view)));
  }, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/importErrorDetail", "dataset:read", async (ctx, body): Promise<V1ImportErrorDetail> => {
    // Sailfin records one kind of import error (invalid lines), so every errCode lists them.
    const input = parseWith(V1ImportErrorDetailBody, body);
    return renderImportErrors(await describeDatasetVersion(ctx.res, input.datasetId, "datasetId"));
  }, { datasetFamily: true }),
  v1("/wenxinworkshop/dataset/delete", "dataset:delete", async (ctx, body): Promise<V1DatasetDeleteResult> => {
    const input = parseWith(V1DatasetIdBody, body);
    const { remaining } = await deleteDatasetVersion(ctx.res, actor(ctx), input.datasetId, "datasetId", { dropEmptyGroup: true });
    return { versionCount: remaining };
  }, { datasetFamily: true }),
];
