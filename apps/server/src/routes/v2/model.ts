import {
  CreateCustomModelBody, CreateCustomModelSetBody, CreateModelExportTaskBody, ModelExportIdBody, modelExportStatus, DescribeModelSetBody, DescribeModelSetsBody, ModelIdBody, ModelSetIdBody,
  SailfinError, isoOffset, pageRequest, parseWith,
  type CreateCustomModelResult, type CreateModelExportTaskResult, type ModelExportTaskDetail, type DescribeCustomModelSetsResult, type DescribeSystemModelSetsResult, type ModelSetDetail,
  type ModelSourceInfo, type ModelVersionDetail, type ModelVersionStatus,
} from "@sailfin/contract";
import {
  createModelExport, exportDownloadUrl, latestModelExport, type ModelExportView,
  createModelSet, deleteModelSets, deleteModelVersions, describeModelSet, describeModelVersion,
  findModelSet, findModelSetByName, findModelVersion, importModelVersion, listModelSets, publishFromRun, servicesOfVersions,
  type ModelSetRecord, type ModelVersionRecord, type ModelVersionView,
} from "@sailfin/engine";
import { v2, type RouteContext, type RouteDef } from "../route.js";
import { versionServiceRefs } from "../service-render.js";

/**
 * V2 model repository (`POST /v2/model?Action=…`, reference §7.2). Reads need `model:read`,
 * writes `model:write`. Sailfin has no platform presets: DescribeSystemModelSets answers an
 * empty list with the usual page shape (honest, and what a client iterating pages expects).
 */

/** V2 model-set object (DescribeModelSet; list items add modelCount). */
function v2ModelSet(set: ModelSetRecord, versions: readonly ModelVersionRecord[]): ModelSetDetail {
  return {
    modelSetId: set.id,
    modelSetName: set.name,
    modelType: set.modelType,
    source: set.source,
    labels: set.labels,
    createTime: isoOffset(set.createdAt),
    modifyTime: isoOffset(set.modifiedAt),
    ...(set.description === "" ? {} : { description: set.description }),
    // Newest first: the Python SDK's publish flow takes modelIds[0] as the version it just created.
    modelIds: versions.map((v) => v.id),
    modelNames: versions.map((v) => versionName(set, v)),
  };
}

/** A version's V2 name: its set's name and version number (`qwen2-tiny-V1`). */
function versionName(set: ModelSetRecord, v: ModelVersionRecord): string {
  return `${set.name}-V${v.version}`;
}

/** V2 model-version object (DescribeModel). */
function v2ModelVersion(view: ModelVersionView): ModelVersionDetail {
  const { version: v, set, lineage, summary } = view;
  let sourceInfo: ModelSourceInfo;
  if (lineage.sourceType === "Import") {
    sourceInfo = { sourceType: "Import", importBosUri: `bos:/${lineage.bucket}/${lineage.object}/` };
  } else if (lineage.sourceType === "Train") {
    sourceInfo = {
      sourceType: "Train",
      trainTaskId: lineage.run?.id ?? "",
      trainJobId: lineage.job?.id ?? "",
      ...(lineage.step === null ? {} : { checkpointStep: lineage.step }),
    };
  } else {
    sourceInfo = { sourceType: "Acceleration", accelerationTaskId: lineage.comp?.id ?? "", sourceModelId: lineage.source?.id ?? "" };
  }
  return {
    modelSetId: set.id,
    modelId: v.id,
    modelName: versionName(set, v),
    model: view.baseModel ?? "",
    status: v.status as ModelVersionStatus,
    sourceInfo,
    ...(v.description === "" ? {} : { description: v.description }),
    createTime: isoOffset(v.createdAt),
    modifyTime: isoOffset(v.modifiedAt),
    modelApplicationType: "chat",
    ...(summary === null ? {} : { tokenLimitations: { trivial: { inputTokens: summary.maxPositionEmbeddings } } }),
    // Compression needs the files (only a Ready version has them) in full precision: a version
    // that is itself a compression output is not compressed again.
    isSupportModelComp: v.status === "Ready" && v.sourceType !== "Acceleration",
    ...(v.status === "Fail" && v.failReason !== null ? { failReason: v.failReason } : {}),
  };
}

/** DescribeModelExportTask (reference §17.3): the file fields once Done; `storagePath` is Sailfin's. */
async function renderModelExport(ctx: RouteContext, view: ModelExportView | null): Promise<ModelExportTaskDetail> {
  if (view === null) return { hasRecord: false };
  const status = modelExportStatus(view.status);
  const result = view.result;
  if (status !== "Done" || result === null) return { exportId: view.id, hasRecord: true, status };
  return {
    exportId: view.id, hasRecord: true, status, fileName: result.fileName, fileType: result.fileType, md5: result.md5, fileSize: result.bytes,
    downloadUrl: view.spec.bucket === null ? await exportDownloadUrl(ctx.res, ctx.baseUrl, view.id, result) : "",
    storagePath: result.storagePath,
  };
}

export const modelRoutes: RouteDef[] = [
  v2("model", "CreateCustomModelSet", "model:write", async (ctx, body) => {
    const input = parseWith(CreateCustomModelSetBody, body);
    const set = await createModelSet(ctx.res, ctx.caller, {
      name: input.modelSetName, modelType: input.modelType, nameField: "modelSetName",
      ...(input.labels === undefined ? {} : { labels: input.labels }),
      ...(input.description === undefined ? {} : { description: input.description }),
    });
    return set.id;
  }),

  v2("model", "DescribeCustomModelSets", "model:read", async (ctx, body): Promise<DescribeCustomModelSetsResult> => {
    const page = await listModelSets(ctx.res, pageRequest(parseWith(DescribeModelSetsBody, body)));
    return { customModelSetList: page.items.map((item) => ({ ...v2ModelSet(item.set, item.versions), modelCount: item.versions.length })), pageInfo: page.pageInfo };
  }),

  v2("model", "DescribeSystemModelSets", "model:read", async (_ctx, body): Promise<DescribeSystemModelSetsResult> => {
    const request = pageRequest(parseWith(DescribeModelSetsBody, body));
    // No presets exist, so no marker can name one.
    if (request.marker !== undefined) throw new SailfinError("InvalidMarker", { field: "marker" });
    return { systemModelSetList: [], pageInfo: { marker: "", maxKeys: request.limit, isTruncated: false } };
  }),

  v2("model", "DescribeModelSet", "model:read", async (ctx, body): Promise<ModelSetDetail> => {
    const input = parseWith(DescribeModelSetBody, body);
    let set: ModelSetRecord;
    if (input.modelSetId !== undefined) set = await findModelSet(ctx.res, input.modelSetId, "modelSetId");
    else if (input.modelSetName !== undefined) {
      const found = await findModelSetByName(ctx.res, input.modelSetName);
      if (found === null) throw new SailfinError("NotFound", { field: "modelSetName", detail: `no model named ${input.modelSetName}` });
      set = found;
    } else throw new SailfinError("InvalidParameter", { field: "modelSetId", detail: "modelSetId or modelSetName is required" });
    const view = await describeModelSet(ctx.res, set);
    return v2ModelSet(view.set, view.versions.map((v) => v.version));
  }),

  v2("model", "DeleteModelSet", "model:write", async (ctx, body) => {
    const input = parseWith(ModelSetIdBody, body);
    const set = await findModelSet(ctx.res, input.modelSetId, "modelSetId");
    await deleteModelSets(ctx.res, ctx.caller, [set], "modelSetId");
    return true;
  }),

  v2("model", "CreateCustomModel", "model:write", async (ctx, body): Promise<CreateCustomModelResult> => {
    const input = parseWith(CreateCustomModelBody, body);
    const set = await findModelSet(ctx.res, input.modelSetId, "modelSetId");
    let version: ModelVersionRecord;
    if (input.sourceType === "Import") {
      if (input.importMeta === undefined) throw new SailfinError("InvalidParameter", { field: "importMeta", detail: "is required for sourceType Import" });
      version = await importModelVersion(ctx.res, ctx.caller, {
        set, bucket: input.importMeta.bucket, objectPath: input.importMeta.objectPath,
        ...(input.description === undefined ? {} : { description: input.description }),
      });
    } else {
      if (input.trainMeta === undefined) throw new SailfinError("InvalidParameter", { field: "trainMeta", detail: "is required for sourceType Train" });
      const step = input.trainMeta.checkpointStep ?? input.trainMeta.step;
      const published = await publishFromRun(ctx.res, ctx.caller, {
        target: { kind: "existing", set },
        run: input.trainMeta.taskId,
        runField: "trainMeta.taskId",
        stepField: input.trainMeta.checkpointStep === undefined && input.trainMeta.step !== undefined ? "trainMeta.step" : "trainMeta.checkpointStep",
        ...(step === undefined ? {} : { step }),
        ...(input.description === undefined ? {} : { description: input.description }),
      });
      version = published.version;
    }
    return { modelSetId: set.id, modelId: version.id, modelName: versionName(set, version), status: version.status as ModelVersionStatus };
  }),

  v2("model", "DescribeModel", "model:read", async (ctx, body): Promise<ModelVersionDetail> => {
    const input = parseWith(ModelIdBody, body);
    const view = await describeModelVersion(ctx.res, input.modelId, "modelId");
    const services = await servicesOfVersions(ctx.res, [view.version.num]);
    return { ...v2ModelVersion(view), services: versionServiceRefs(services.get(view.version.num)) };
  }),

  v2("model", "DeleteModel", "model:write", async (ctx, body) => {
    const input = parseWith(ModelIdBody, body);
    const version = await findModelVersion(ctx.res, input.modelId, "modelId");
    await deleteModelVersions(ctx.res, ctx.caller, [version], "modelId");
    return true;
  }),
  v2("model", "CreateModelExportTask", "model:write", async (ctx, body): Promise<CreateModelExportTaskResult> => {
    const input = parseWith(CreateModelExportTaskBody, body);
    const { id } = await createModelExport(ctx.res, { accessKey: ctx.caller.accessKey }, {
      modelRef: input.modelId, modelField: "modelId", storagePathField: "storagePath",
      ...(input.storagePath === undefined ? {} : { storagePath: input.storagePath }),
    });
    return { exportId: id };
  }),
  v2("model", "DescribeModelExportTask", "model:read", async (ctx, body): Promise<ModelExportTaskDetail> => {
    const input = parseWith(ModelExportIdBody, body);
    return renderModelExport(ctx, await latestModelExport(ctx.res, input.modelId, "modelId"));
  }),
];
