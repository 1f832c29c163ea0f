import {
  CreateDatasetBody as CreateDatasetShape, CreateDatasetVersionBody, CreateExportTaskBody, ExportTaskIdBody, v2DatasetExportStatus, CreateImportTaskBody, DatasetFilter, DatasetIdBody, DatasetVersionIdBody,
  DescribeDatasetVersionsBody, DescribeDatasetsBody as DescribeDatasetsShape, ImportTaskIdBody, SailfinError,
  isoOffset, pageRequest, parseWith, v2DatasetImportStatus, v2DatasetPublishStatus, z,
  type CreateDatasetResult, type DatasetItem, type DatasetVersionItem,
  type DatasetExportTaskDetail, type DescribeDatasetVersionsResult, type DescribeDatasetsResult, type ImportErrorInfo, type ImportTaskDetail,
} from "@sailfin/contract";
import {
  createDataset, createDatasetExport, createDatasetVersion, describeDatasetExport, exportDownloadUrl, type DatasetExportView, deleteDataset, deleteDatasetVersion, describeDatasetVersion, describeImportTask,
  formatFromV2, formatInfo, listDatasetVersions, listDatasets, releaseDatasetVersion, startDatasetImport,
  V2_FORMAT_NAMES, type DataFormat, type DatasetGroupRecord, type DatasetVersionRecord,
} from "@sailfin/engine";
import { v2, type RouteContext, type RouteDef } from "../route.js";

/**
 * `POST /v2/dataset?Action=…` (reference §10.2). The reference did not capture these response
 * bodies: they follow the V2 conventions (`ds-` ids, `pageInfo` marker pages, ISO times) and
 * the fields the Python SDK reads (`result` = task id from CreateImportTask, `importStatus`,
 * `publishStatus`, `sampleCount`, `modifyTime`).
 */

const actor = (ctx: RouteContext) => ({ accessKey: ctx.caller.accessKey });

const DataFormatField = z.string().min(1).refine((value) => formatFromV2(value) !== undefined, {
  message: `unsupported; one of ${V2_FORMAT_NAMES.join(", ")}`,
});
// The contract's bodies take any format name; the server narrows them to the format table.
const CreateDatasetBody = CreateDatasetShape.extend({ dataFormat: DataFormatField });
const DescribeDatasetsBody = DescribeDatasetsShape.extend({ filter: DatasetFilter.extend({ dataFormat: DataFormatField.optional() }).optional() });

/** The V2 name of a stored format (the first of its accepted names). */
const v2Format = (name: string) => formatInfo(name as DataFormat).v2Names[0] ?? name;

function renderDataset(group: DatasetGroupRecord, counts?: { versionCount: number; latestVersion: number }): DatasetItem {
  return {
    datasetId: group.id, datasetName: group.name, dataFormat: v2Format(group.dataFormat),
    storageType: group.storageType, storagePath: group.storagePath,
    ...(counts === undefined ? {} : { versionCount: counts.versionCount, latestVersion: counts.latestVersion }),
    createTime: isoOffset(group.createdAt), modifyTime: isoOffset(group.modifiedAt),
  };
}

function importErrorInfo(version: DatasetVersionRecord): ImportErrorInfo | null {
  const report = version.importReport;
  if (report === null) return null;
  return { errorCount: report.errorCount, errors: report.errors, truncated: report.truncated, message: report.error ?? "", files: report.files };
}

function renderVersion(group: DatasetGroupRecord, version: DatasetVersionRecord): DatasetVersionItem {
  return {
    datasetId: group.id, datasetName: group.name, versionId: version.id, version: version.version,
    description: version.description, dataFormat: v2Format(group.dataFormat),
    storageType: group.storageType, storagePath: group.storagePath,
    importStatus: v2DatasetImportStatus(version.state), importProgress: version.importProgress,
    publishStatus: v2DatasetPublishStatus(version.state),
    sampleCount: version.recordCount, characterCount: version.charCount, storageSize: version.byteSize,
    contentHash: version.contentHash ?? "", importErrorInfo: importErrorInfo(version),
    createTime: isoOffset(version.createdAt), modifyTime: isoOffset(version.modifiedAt),
    publishTime: isoOffset(version.releasedAt),
  };
}

/** DescribeExportTask (reference §17.2); `progress` is a percent string, "0" once failed. */
async function renderExportTask(ctx: RouteContext, view: DatasetExportView): Promise<DatasetExportTaskDetail> {
  const { spec, result } = view;
  const exportStatus = v2DatasetExportStatus(view.status);
  const sys = spec.destination === "sysStorage";
  return {
    taskId: view.id, versionId: spec.versionId, storageType: spec.destination,
    storagePath: result?.storagePath ?? (sys ? "" : `bos:/${spec.bucket}/${spec.folder}`),
    sizeMB: result === null ? 0 : Math.round((result.bytes / (1024 * 1024)) * 100) / 100, sampleCount: result?.records ?? 0,
    exportStatus, progress: exportStatus === "ExportFinished" ? "100%" : exportStatus === "ExportFailed" ? "0" : `${view.progress}%`,
    creator: spec.creator, errorMessage: exportStatus === "ExportFailed" ? view.failureReason ?? "the export was stopped" : "",
    createTime: isoOffset(view.createdAt), finishTime: isoOffset(view.finishedAt),
    downloadUrl: sys && result !== null && exportStatus === "ExportFinished" ? await exportDownloadUrl(ctx.res, ctx.baseUrl, view.id, result) : "",
  };
}

export const datasetV2Routes: RouteDef[] = [
  v2("dataset", "CreateDataset", "dataset:write", async (ctx, body): Promise<CreateDatasetResult> => {
    const input = parseWith(CreateDatasetBody, body);
    if (input.storageType === "BOS" && !input.storagePath) {
      throw new SailfinError("InvalidParameter", { field: "storagePath", detail: "is required for BOS storage (bos:/bucket/dir/)" });
    }
    const { group, version } = await createDataset(ctx.res, actor(ctx), {
      name: input.datasetName, format: formatFromV2(input.dataFormat)!.name, storageType: input.storageType,
      ...(input.storageType === "BOS" ? { storagePath: input.storagePath!, storagePathField: "storagePath" } : {}),
      ...(input.description === undefined ? {} : { description: input.description }),
    });
    return { ...renderDataset(group, { versionCount: 1, latestVersion: 1 }), versionId: version.id, version: version.version };
  }),
  v2("dataset", "DescribeDatasets", "dataset:read", async (ctx, body): Promise<DescribeDatasetsResult> => {
    const input = parseWith(DescribeDatasetsBody, body);
    const page = await listDatasets(ctx.res, pageRequest(input), {
      ...(input.filter?.datasetName === undefined ? {} : { name: input.filter.datasetName }),
      ...(input.filter?.dataFormat === undefined ? {} : { format: formatFromV2(input.filter.dataFormat)!.name }),
    });
    return { datasets: page.items.map((s) => renderDataset(s.group, s)), pageInfo: page.pageInfo };
  }),
  v2("dataset", "DeleteDataset", "dataset:delete", async (ctx, body) => {
    const input = parseWith(DatasetIdBody, body);
    await deleteDataset(ctx.res, actor(ctx), input.datasetId, "datasetId");
    return true;
  }),
  v2("dataset", "CreateDatasetVersion", "dataset:write", async (ctx, body): Promise<DatasetVersionItem> => {
    const input = parseWith(CreateDatasetVersionBody, body);
    const { group, version } = await createDatasetVersion(ctx.res, actor(ctx), {
      datasetId: input.datasetId, field: "datasetId", ...(input.description === undefined ? {} : { description: input.description }),
    });
    return renderVersion(group, version);
  }),
  v2("dataset", "DescribeDatasetVersion", "dataset:read", async (ctx, body): Promise<DatasetVersionItem> => {
    const input = parseWith(DatasetVersionIdBody, body);
    const { group, version } = await describeDatasetVersion(ctx.res, input.versionId, "versionId");
    return renderVersion(group, version);
  }),
  v2("dataset", "DescribeDatasetVersions", "dataset:read", async (ctx, body): Promise<DescribeDatasetVersionsResult> => {
    const input = parseWith(DescribeDatasetVersionsBody, body);
    const { group, page } = await listDatasetVersions(ctx.res, input.datasetId, "datasetId", pageRequest(input));
    return { versions: page.items.map((v) => renderVersion(group, v)), pageInfo: page.pageInfo };
  }),
  v2("dataset", "DeleteDatasetVersion", "dataset:delete", async (ctx, body) => {
    const input = parseWith(DatasetVersionIdBody, body);
    await deleteDatasetVersion(ctx.res, actor(ctx), input.versionId, "versionId");
    return true;
  }),
  v2("dataset", "PublishDatasetVersion", "dataset:write", async (ctx, body) => {
    const input = parseWith(DatasetVersionIdBody, body);
    await releaseDatasetVersion(ctx.res, actor(ctx), input.versionId, "versionId");
    return true;
  }),
  v2("dataset", "CreateImportTask", "dataset:write", async (ctx, body) => {
    const input = parseWith(CreateImportTaskBody, body);
    const { task } = await startDatasetImport(ctx.res, actor(ctx), { versionRef: input.versionId, versionField: "versionId", files: input.files, filesField: "files" });
    return task.id;
  }),
  v2("dataset", "DescribeImportTask", "dataset:read", async (ctx, body): Promise<ImportTaskDetail> => {
    const input = parseWith(ImportTaskIdBody, body);
    const { task, group, version } = await describeImportTask(ctx.res, input.taskId, "taskId");
    const report = version.importReport;
    return {
      taskId: task.id, datasetId: group.id, versionId: version.id, importStatus: task.status,
      files: task.files, errorMessage: task.error ?? "",
      // The version keeps the report of its newest import only.
      importErrorInfo: report !== null && report.importTaskId === task.id ? importErrorInfo(version) : null,
      createTime: isoOffset(task.createdAt), finishTime: isoOffset(task.finishedAt),
    };
  }),
  v2("dataset", "CreateExportTask", "dataset:write", async (ctx, body): Promise<string> => {
    const input = parseWith(CreateExportTaskBody, body);
    const { id } = await createDatasetExport(ctx.res, actor(ctx), {
      versionRef: input.versionId, versionField: "versionId", destination: input.storageType,
      ...(input.storagePath === undefined ? {} : { storagePath: input.storagePath }), storagePathField: "storagePath",
    });
    return id;
  }),
  v2("dataset", "DescribeExportTask", "dataset:read", async (ctx, body): Promise<DatasetExportTaskDetail> => {
    const input = parseWith(ExportTaskIdBody, body);
    return renderExportTask(ctx, await describeDatasetExport(ctx.res, input.taskId, "taskId"));
  }),
];
