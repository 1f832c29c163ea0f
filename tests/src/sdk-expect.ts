import assert from "node:assert/strict";

/**
 * Wire-shape checks shared by the official-SDK tests, written from the Qianfan reference
 * (design/qianfan-api.md §1.4, §6.2, seed 001 for the job list, seed 000 for V1 jobDetail).
 */

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const SQL_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

export function expectRequestId(body: any): void {
  assert.match(body.requestId, /^[0-9a-f-]{36}$/, "V2 bodies carry a requestId");
}

/** `pageInfo` as seed 001 shows it; `nextMarker` only when truncated. */
export function expectPageInfo(pageInfo: any, expected: { marker: string; maxKeys: number; isTruncated: boolean }): void {
  assert.equal(pageInfo.marker, expected.marker);
  assert.equal(pageInfo.maxKeys, expected.maxKeys);
  assert.equal(pageInfo.isTruncated, expected.isTruncated);
  if (expected.isTruncated) assert.equal(typeof pageInfo.nextMarker, "string");
  else assert.ok(pageInfo.nextMarker === undefined || pageInfo.nextMarker === "", "no nextMarker on the last page");
}

/** One `jobList[]` item of DescribeFineTuningJobs, field for field as in seed 001. */
export function expectJobItem(item: any, expected: { jobId: string; name: string; description: string; model: string; trainMode: string }): void {
  for (const key of ["jobId", "name", "description", "model", "trainMode"] as const) assert.equal(item[key], expected[key], key);
  assert.match(item.createTime, ISO_Z, "createTime is ISO-8601 UTC with Z and no fraction");
}

/** DescribeFineTuningTask result (reference §6.2.2). */
export function expectTask(task: any, expected: { taskId: string; jobId: string; runStatus: string; trainMode: string; parameterScale: string }): void {
  for (const key of ["taskId", "jobId", "runStatus", "trainMode", "parameterScale"] as const) assert.equal(task[key], expected[key], key);
  assert.equal(typeof task.jobName, "string");
  assert.equal(typeof task.model, "string");
  assert.match(task.createDate, ISO_Z);
  if (task.runStatus === "Running") assert.match(task.runProgress, /^\d{1,3}%$/, "runProgress keeps its % sign");
}

/** V1 jobDetail result (seed 000). */
export function expectV1JobDetail(detail: any, expected: { id: number; taskId: number; trainStatus: string }): void {
  assert.equal(detail.id, expected.id);
  assert.equal(detail.taskId, expected.taskId);
  assert.equal(detail.trainStatus, expected.trainStatus);
  for (const key of ["taskName", "trainType", "trainMode", "peftType", "vdlLink"]) assert.equal(typeof detail[key], "string", key);
  assert.match(detail.startTime, SQL_TIME);
  assert.match(detail.finishTime, SQL_TIME);
  assert.equal(detail.finishtime, undefined, "the seed's misspelt finishtime is not emitted");
  assert.equal(typeof detail.progress, "number");
}

/*
 * Shapes of every other route, written from what the route files in apps/server/src/routes
 * render: each documented field is there with its type, ids carry their prefix, states are one
 * of their words, times have their dialect's form. Extra fields are allowed (Sailfin
 * extensions grow); missing or mistyped ones are not.
 */

/** V2 model / compression / evaluation times: `2024-03-22T17:13:33+00:00`; unset is "". */
const ISO_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;
const ISO_OFFSET_OR_UNSET = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00)?$/;
const ISO_Z_OR_UNSET = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|0000-00-00T00:00:00Z)$/;
const SQL_TIME_OR_UNSET = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|0000-00-00 00:00:00)$/;

/** Public id prefixes and tail lengths (packages/contract ids.ts: 16 for datasets, 12 otherwise). */
export const ID = {
  job: /^job-[a-z0-9]{12}$/,
  task: /^task-[a-z0-9]{12}$/,
  modelSet: /^am-[a-z0-9]{12}$/,
  modelVersion: /^amv-[a-z0-9]{12}$/,
  compTask: /^amva-[a-z0-9]{12}$/,
  eval: /^ame-[a-z0-9]{12}$/,
  evalExport: /^amemt-[a-z0-9]{12}$/,
  dataset: /^ds-[a-z0-9]{16}$/,
  importTask: /^dsit-[a-z0-9]{12}$/,
} as const;

/** One field check: a JSON type, a pattern for a string, a list of allowed values, or a function. */
type Check = "string" | "number" | "integer" | "boolean" | "object" | "array" | "null" | RegExp | readonly unknown[] | ((value: any) => void);

function checkValue(value: unknown, check: Check, at: string): void {
  if (typeof check === "function") return check(value);
  if (check instanceof RegExp) {
    assert.equal(typeof value, "string", `${at} is a string`);
    assert.match(value as string, check, at);
    return;
  }
  if (Array.isArray(check)) {
    assert.ok(check.includes(value), `${at} is one of ${JSON.stringify(check)}, got ${JSON.stringify(value)}`);
    return;
  }
  switch (check) {
    case "integer": assert.ok(Number.isInteger(value), `${at} is an integer, got ${JSON.stringify(value)}`); return;
    case "null": assert.equal(value, null, `${at} is null`); return;
    case "array": assert.ok(Array.isArray(value), `${at} is an array, got ${JSON.stringify(value)}`); return;
    case "object": assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), `${at} is an object, got ${JSON.stringify(value)}`); return;
    default: assert.equal(typeof value, check, `${at} is a ${check}, got ${JSON.stringify(value)}`);
  }
}

/** Either of two checks (a nullable number: `either("number", "null")`). */
function either(a: Check, b: Check): (value: unknown) => void {
  return (value) => {
    try {
      checkValue(value, a, "value");
    } catch {
      checkValue(value, b, "value");
    }
  };
}

/** Every key of `spec` is present on `obj` and passes its check. */
function expectShape(obj: any, spec: Record<string, Check>, what: string): void {
  assert.ok(obj !== null && typeof obj === "object", `${what} is an object, got ${JSON.stringify(obj)}`);
  for (const [key, check] of Object.entries(spec)) {
    assert.ok(key in obj, `${what} has ${key}: ${JSON.stringify(obj)}`);
    checkValue(obj[key], check, `${what}.${key}`);
  }
}

/** The `expected` values, key by key. */
function expectValues(obj: any, expected: Record<string, unknown>, what: string): void {
  for (const [key, value] of Object.entries(expected)) if (value !== undefined) assert.deepEqual(obj[key], value, `${what}.${key}`);
}

/** V1 envelope: digit-string `log_id`, `result`; the dataset family adds `status: 200, success: true`. */
export function expectV1Envelope(body: any, options: { datasetFamily?: boolean } = {}): void {
  assert.match(body.log_id, /^\d+$/, "log_id is a string of digits");
  assert.ok("result" in body, "V1 success carries result");
  assert.equal(body.error_code, undefined);
  if (options.datasetFamily) {
    assert.equal(body.status, 200);
    assert.equal(body.success, true);
  } else {
    assert.equal(body.status, undefined, "only the dataset family carries status");
  }
}

/** A V2 page's `pageInfo`: marker (string), maxKeys, isTruncated, and `nextMarker` exactly when truncated. */
export function expectPageShape(pageInfo: any, idPattern?: RegExp): void {
  expectShape(pageInfo, { marker: "string", maxKeys: "integer", isTruncated: "boolean" }, "pageInfo");
  if (pageInfo.isTruncated) checkValue(pageInfo.nextMarker, idPattern ?? "string", "pageInfo.nextMarker");
  else assert.equal(pageInfo.nextMarker, undefined, "no nextMarker on the last page");
}

// ---- datasets ----------------------------------------------------------------------------

const IMPORT_CODES = [-1, 0, 1, 2, 3, 4];
const RELEASE_CODES = [0, 1, 2, 3];

const STORAGE_INFO: Record<string, Check> = { storageId: "string", storageName: "string", storagePath: "string", rawStoragePath: "string", region: "string" };

/** V1 `dataset/create` result (one version; `datasetId` is its `ds-` id, `id` its number). */
export function expectV1DatasetCreated(result: any, expected: { name: string; versionId: number; projectType: number; templateType: number; dataType: number }): void {
  expectShape(result, {
    id: "integer", groupId: "integer", groupPK: /^\d+$/, groupIdStr: ID.dataset, datasetId: ID.dataset, versionId: "integer",
    groupName: "string", displayName: "string", createFrom: [0], bmlDatasetId: ID.dataset, userId: "integer",
    dataType: "integer", projectType: "integer", templateType: "integer", remark: "string", storageInfo: "object",
    importStatus: IMPORT_CODES, importProgress: "number", exportStatus: [-1], releaseStatus: RELEASE_CODES, status: [0],
    isUnique: [0], errCode: "null", createTime: ISO_OFFSET, modifyTime: ISO_OFFSET,
  }, "dataset/create");
  expectShape(result.storageInfo, STORAGE_INFO, "storageInfo");
  assert.equal(result.bmlDatasetId, result.datasetId);
  assert.equal(result.groupPK, String(result.groupId));
  assert.equal(result.displayName, `${expected.name}_V${expected.versionId}`);
  expectValues(result, { groupName: expected.name, versionId: expected.versionId, projectType: expected.projectType, templateType: expected.templateType, dataType: expected.dataType }, "dataset/create");
}

/** V1 `importErrorInfo` (null before any import). */
function expectV1ImportErrorInfo(info: any): void {
  if (info === null) return;
  expectShape(info, {
    // `truncated` counts the errors left out of `errors`.
    errorCount: "integer", errors: "array", truncated: "integer", message: "string", records: "integer",
    characters: "integer", bytes: "integer", blankLines: "integer", files: "array",
  }, "importErrorInfo");
}

/** V1 `dataset/info` result (`versionInfo` is the version). */
export function expectV1DatasetInfo(
  result: any,
  expected: { name: string; id: number; datasetPK: string; versionId: number; importStatus?: number; releaseStatus?: number; entityCount?: number },
): void {
  expectShape(result, { groupPK: /^\d+$/, groupIdStr: ID.dataset, name: "string", dataType: "integer", versionInfo: "object" }, "dataset/info");
  assert.equal(result.name, expected.name);
  const v = result.versionInfo;
  expectShape(v, {
    id: "integer", groupId: "integer", datasetId: "integer", datasetPK: ID.dataset, datasetIdStr: ID.dataset, importRecordCount: [0, 1],
    exportRecordCount: [0], bmlDatasetId: ID.dataset, userId: "integer", versionId: "integer", displayName: "string",
    importStatus: IMPORT_CODES, importProgress: "number", exportStatus: [-1], exportProgress: "number", dataType: "integer",
    projectType: "integer", templateType: "integer", errCode: "null", uniqueType: "integer",
    importErrorInfo: either("null", "object"), createTime: SQL_TIME, modifyTime: SQL_TIME, storageType: ["sysBos", "usrBos"],
    storage: "object", releaseStatus: RELEASE_CODES, releaseErrCode: "integer", releaseStoragePath: "string",
    releaseProgress: [0, 100], remark: "string", annotatedEntityCount: "integer", entityCount: "integer", labelCount: "integer",
    memorySize: "number", memorySizeBytes: "integer", characterCount: "integer", contentHash: "string",
    releaseTime: SQL_TIME_OR_UNSET, isEnhancing: [false], enhanceStatus: [-1], hasEnhance: [false], isSelfInstructEnhance: [false],
    etlStatus: [0], hasEtl: [false], isPipelineEtl: [false], description: "string", tag: "array", license: "string",
  }, "versionInfo");
  expectShape(v.storage, STORAGE_INFO, "versionInfo.storage");
  expectV1ImportErrorInfo(v.importErrorInfo);
  assert.equal(v.id, v.datasetId, "id and datasetId are both the version's number");
  assert.equal(v.datasetIdStr, v.datasetPK);
  assert.equal(v.displayName, `${expected.name}_V${expected.versionId}`);
  if (v.releaseStatus === 2) assert.match(v.releaseStoragePath, /^\/.+/, "a released version names its data");
  expectValues(v, {
    id: expected.id, datasetPK: expected.datasetPK, versionId: expected.versionId, importStatus: expected.importStatus,
    releaseStatus: expected.releaseStatus, entityCount: expected.entityCount,
  }, "versionInfo");
}

/** One entry of V1 `dataset/statusList` (keyed by the ids as sent). */
export function expectV1DatasetStatus(entry: any, expected: { importStatus?: number; releaseStatus?: number; entityCount?: number }): void {
  expectShape(entry, {
    importStatus: IMPORT_CODES, importProgress: "number", releaseStatus: RELEASE_CODES, releaseProgress: [0, 100], exportStatus: [-1],
    exportProgress: "number", enhanceStatus: [-1], etlStatus: [0], importErrorInfo: either("null", "object"), entityCount: "integer",
    annotatedEntityCount: "integer", labelCount: "integer", characterCount: "integer", modifyTime: SQL_TIME,
  }, "statusList entry");
  expectV1ImportErrorInfo(entry.importErrorInfo);
  expectValues(entry, expected, "statusList entry");
}

const V2_IMPORT_WORDS = ["NotStarted", "Running", "Finished", "Failed", "Terminated"];
const V2_PUBLISH_WORDS = ["Unpublished", "Publishing", "Published", "PublishFailed"];

/** A V2 dataset (CreateDataset adds versionId/version, DescribeDatasets items versionCount/latestVersion). */
export function expectV2Dataset(
  dataset: any, expected: { datasetId?: string; datasetName: string; dataFormat: string; storageType: string; versionCount?: number; latestVersion?: number },
): void {
  expectShape(dataset, {
    datasetId: ID.dataset, datasetName: "string", dataFormat: "string", storageType: ["BOS", "sysStorage"], storagePath: "string",
    versionCount: "integer", latestVersion: "integer", createTime: ISO_OFFSET, modifyTime: ISO_OFFSET,
  }, "dataset");
  expectValues(dataset, expected, "dataset");
}

/** A V2 dataset version (CreateDatasetVersion, DescribeDatasetVersion, DescribeDatasetVersions items). */
export function expectV2DatasetVersion(
  version: any,
  expected: { datasetId: string; datasetName: string; versionId?: string; version: number; dataFormat: string; importStatus?: string; publishStatus?: string; sampleCount?: number },
): void {
  expectShape(version, {
    datasetId: ID.dataset, datasetName: "string", versionId: ID.dataset, version: "integer", description: "string", dataFormat: "string",
    storageType: ["BOS", "sysStorage"], storagePath: "string", importStatus: V2_IMPORT_WORDS, importProgress: "number",
    publishStatus: V2_PUBLISH_WORDS, sampleCount: "integer", characterCount: "integer", storageSize: "integer", contentHash: "string",
    importErrorInfo: either("null", "object"), createTime: ISO_OFFSET, modifyTime: ISO_OFFSET, publishTime: ISO_OFFSET_OR_UNSET,
  }, "dataset version");
  if (version.importErrorInfo !== null) {
    expectShape(version.importErrorInfo, { errorCount: "integer", errors: "array", truncated: "integer", message: "string", files: "array" }, "importErrorInfo");
  }
  if (version.publishStatus === "Published") {
    assert.match(version.publishTime, ISO_OFFSET);
    assert.match(version.contentHash, /^[0-9a-f]{64}$/, "a published version has its sha256");
  } else assert.equal(version.contentHash, "", "the hash is fixed at publish");
  expectValues(version, expected, "dataset version");
}

/** V2 DescribeImportTask (the task's own status words, not the version's). */
export function expectV2ImportTask(task: any, expected: { taskId: string; datasetId: string; versionId: string; files: string[]; importStatus?: string }): void {
  expectShape(task, {
    taskId: ID.importTask, datasetId: ID.dataset, versionId: ID.dataset, importStatus: ["Running", "Finished", "Failed"], files: "array", errorMessage: "string",
    importErrorInfo: either("null", "object"), createTime: ISO_OFFSET, finishTime: ISO_OFFSET_OR_UNSET,
  }, "import task");
  if (task.importStatus !== "Running") assert.match(task.finishTime, ISO_OFFSET);
  expectValues(task, expected, "import task");
}

// ---- model repository ----------------------------------------------------------------------

const MODEL_TYPES = ["Text2Text", "Text2Image", "TextRepresentation", "ImageUnderstanding", "Industry"];
const VERSION_STATES = ["Creating", "Ready", "Fail"];

/** V2 model set (DescribeModelSet; DescribeCustomModelSets items add modelCount). */
export function expectV2ModelSet(set: any, expected: { modelSetId: string; modelSetName: string; modelType: string; modelIds?: string[]; listItem?: boolean }): void {
  expectShape(set, {
    modelSetId: ID.modelSet, modelSetName: "string", modelType: MODEL_TYPES, source: "string", labels: "array",
    createTime: ISO_OFFSET, modifyTime: ISO_OFFSET, modelIds: "array", modelNames: "array",
    ...(expected.listItem ? { modelCount: "integer" as const } : {}),
  }, "model set");
  for (const id of set.modelIds) assert.match(id, ID.modelVersion);
  assert.equal(set.modelNames.length, set.modelIds.length);
  for (const name of set.modelNames) assert.match(name, new RegExp(`^${escape(set.modelSetName)}-V\\d+$`));
  if (expected.listItem) assert.equal(set.modelCount, set.modelIds.length);
  expectValues(set, { modelSetId: expected.modelSetId, modelSetName: expected.modelSetName, modelType: expected.modelType, modelIds: expected.modelIds }, "model set");
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** V2 DescribeModel (a version), with its `sourceInfo` by source type. */
export function expectV2ModelVersion(version: any, expected: { modelId: string; modelSetId: string; status?: string; sourceType: "Import" | "Train" | "Acceleration" }): void {
  expectShape(version, {
    modelSetId: ID.modelSet, modelId: ID.modelVersion, modelName: /-V\d+$/, model: "string", status: VERSION_STATES, sourceInfo: "object",
    createTime: ISO_OFFSET, modifyTime: ISO_OFFSET, modelApplicationType: ["chat"], isSupportModelComp: "boolean",
  }, "model version");
  const source = version.sourceInfo;
  assert.equal(source.sourceType, expected.sourceType);
  if (expected.sourceType === "Import") expectShape(source, { importBosUri: /^bos:\/.+\/$/ }, "sourceInfo");
  if (expected.sourceType === "Train") expectShape(source, { trainTaskId: ID.task, trainJobId: ID.job }, "sourceInfo");
  if (expected.sourceType === "Acceleration") expectShape(source, { accelerationTaskId: ID.compTask, sourceModelId: ID.modelVersion }, "sourceInfo");
  if (version.status === "Ready") expectShape(version, { tokenLimitations: "object" }, "model version");
  if (version.status === "Fail") expectShape(version, { failReason: "string" }, "model version");
  assert.equal(version.isSupportModelComp, version.status === "Ready" && expected.sourceType !== "Acceleration");
  expectValues(version, { modelId: expected.modelId, modelSetId: expected.modelSetId, status: expected.status }, "model version");
}

/** V1 `sourceExtra` by source type. */
function expectV1SourceExtra(extra: any, sourceType: string): void {
  assert.equal(extra.sourceType, sourceType);
  if (sourceType === "Import") expectShape(extra.importModelVersionSourceExtra, { bucket: "string", object: "string" }, "importModelVersionSourceExtra");
  if (sourceType === "Train") {
    expectShape(extra.trainSourceExtra, {
      taskId: "integer", taskIdStr: ID.job, taskName: "string", iterationVersion: "integer", runId: "integer", runIdStr: ID.task,
      devType: [1], modelType: [20], templateType: [2000, 2002, 40100],
    }, "trainSourceExtra");
  }
  if (sourceType === "Acceleration") {
    expectShape(extra.accelerationSourceExtra, {
      taskId: "integer", taskIdStr: ID.compTask, taskName: "string", sourceModelVersionId: "integer", sourceModelVersionIdStr: ID.modelVersion,
    }, "accelerationSourceExtra");
  }
}

/** A V1 model version (modelDetail's `modelVersionList[]`; modelVersionDetail adds `params`). */
export function expectV1ModelVersion(
  version: any, expected: { modelId?: number; modelIdStr: string; modelVersionIdStr: string; state?: string; sourceType: string; detail?: boolean },
): void {
  expectShape(version, {
    modelId: "integer", modelIdStr: ID.modelSet, modelName: "string", modelVersionId: "integer", modelVersionIdStr: ID.modelVersion,
    version: /^\d+$/, description: "string", sourceType: ["Import", "Train", "Acceleration"], sourceExtra: "object", framework: ["pytorch"],
    algorithm: "string", modelNet: "string", state: VERSION_STATES, ioMode: ["chat"], ioLength: /^\d*$/, copyright: "string",
    property: "object", createTime: ISO_OFFSET, modifyTime: ISO_OFFSET, deployResource: "array", supportOptions: "array", trainType: "string",
    ...(expected.detail ? { params: "object" as const } : {}),
  }, "V1 model version");
  expectV1SourceExtra(version.sourceExtra, expected.sourceType);
  expectValues(version, {
    modelId: expected.modelId, modelIdStr: expected.modelIdStr, modelVersionIdStr: expected.modelVersionIdStr, state: expected.state, sourceType: expected.sourceType,
  }, "V1 model version");
}

/** V1 `modelrepo/modelDetail` (a set with its versions). */
export function expectV1ModelDetail(detail: any, expected: { modelId: number; modelIdStr: string; modelName: string; versionIds: string[] }): void {
  expectShape(detail, {
    modelId: "integer", modelIdStr: ID.modelSet, modelName: "string", source: "string", modelType: [0, 1, 2, 3, 5], createUserId: "integer",
    createUser: "string", createTime: ISO_OFFSET, modifyTime: ISO_OFFSET, description: "string", trainType: "string", tags: "array",
    languageSupport: "array", expansion: "array", modelVersionList: "array",
  }, "modelDetail");
  expectValues(detail, { modelId: expected.modelId, modelIdStr: expected.modelIdStr, modelName: expected.modelName }, "modelDetail");
  assert.deepEqual(detail.modelVersionList.map((v: any) => v.modelVersionIdStr), expected.versionIds);
}

/** One `items[]` entry of V1 `model/user/list`. */
export function expectV1UserListItem(item: any, expected: { modelIdStr: string; modelName: string; versionCount: number; latestVersionIdStr?: string }): void {
  expectShape(item, {
    modelName: "string", modelId: "integer", modelIdStr: ID.modelSet, modelType: [0, 1, 2, 3, 5], tags: "array", createTime: ISO_OFFSET,
    versionCount: "integer", trainType: "string", latestVersionInfo: either("null", "object"),
  }, "user/list item");
  const latest = item.latestVersionInfo;
  if (latest !== null) {
    expectShape(latest, {
      state: VERSION_STATES, version: /^\d+$/, sourceType: ["Import", "Train", "Acceleration"], sourceExtra: "object",
      versionId: "integer", versionIdStr: ID.modelVersion,
    }, "latestVersionInfo");
    expectV1SourceExtra(latest.sourceExtra, latest.sourceType);
  }
  expectValues(item, { modelIdStr: expected.modelIdStr, modelName: expected.modelName, versionCount: expected.versionCount }, "user/list item");
  if (expected.latestVersionIdStr !== undefined) assert.equal(latest?.versionIdStr, expected.latestVersionIdStr);
}

/** V1 `publishTrainModel` result (`modelIDStr` with a capital ID, as the SDK reads it). */
export function expectV1Published(result: any): void {
  expectShape(result, { modelId: "integer", modelIDStr: ID.modelSet, version: /^\d+$/, versionId: "integer", versionIdStr: ID.modelVersion }, "publishTrainModel");
}

// ---- fine-tuning ---------------------------------------------------------------------------

/** Every field of the V2 task object (DescribeFineTuningTask, DescribeFineTuningTasks items), beyond `expectTask`'s values. */
export function expectTaskShape(task: any): void {
  expectShape(task, {
    taskId: ID.task, jobId: ID.job, jobName: "string", jobDescription: "string", description: "string", model: "string",
    trainMode: ["SFT", "PostPretrain", "DPO", "KTO"], parameterScale: ["FullFineTuning", "LoRA", "PromptTuning"],
    runStatus: ["Waiting", "Running", "Done", "Failed", "Stopped"], vdlLink: /^http:\/\/.+\/console\/tasks\/task-[a-z0-9]{12}$/,
    checkpointList: "array", createDate: ISO_Z, finishDate: ISO_Z_OR_UNSET, hyperParameterConfig: "object", datasetConfig: "object",
  }, "task");
  for (const c of task.checkpointList) expectShape(c, { step: "integer", perplexity: either("number", "null"), trainingLoss: either("number", "null") }, "checkpoint");
  expectShape(task.datasetConfig, { sourceType: "string", versions: "array", splitRatio: "number" }, "datasetConfig");
  for (const v of task.datasetConfig.versions) expectShape(v, { versionId: "string" }, "datasetConfig.versions[]");
  if (task.runStatus === "Running") assert.match(task.runProgress, /^\d{1,3}%$/);
  if (["Done", "Failed", "Stopped"].includes(task.runStatus)) assert.match(task.finishDate, ISO_Z);
}

/** A DescribeFineTuningJobs item, every field (`createDate` mirrors `createTime`: the SDK's mock reads it). */
export function expectJobShape(item: any): void {
  expectShape(item, {
    jobId: ID.job, name: "string", description: "string", model: "string", trainMode: ["SFT", "PostPretrain", "DPO", "KTO"],
    createTime: ISO_Z, createDate: ISO_Z,
  }, "job");
  assert.equal(item.createDate, item.createTime);
}

/** One DescribeFineTuningSupportModels entry, down to its hyper-parameter definitions. */
export function expectSupportModel(entry: any): void {
  expectShape(entry, { model: "string", supportTrainMode: "array" }, "support model");
  for (const mode of entry.supportTrainMode) {
    expectShape(mode, { trainMode: ["SFT", "PostPretrain", "DPO", "KTO"], supportParameterScale: "array" }, "supportTrainMode[]");
    for (const scale of mode.supportParameterScale) {
      expectShape(scale, { parameterScale: ["FullFineTuning", "LoRA", "PromptTuning"], supportHyperParameterConfig: "array" }, "supportParameterScale[]");
      for (const def of scale.supportHyperParameterConfig) {
        expectShape(def, { key: "string", type: ["int", "float", "boolean", "string"], checkType: ["range", "choice", "mult_choice"] }, "hyper-parameter");
        assert.ok("checkValue" in def && "default" in def, `${def.key} has checkValue and default`);
      }
    }
  }
}

// ---- compression ---------------------------------------------------------------------------

/** A compression task (DescribeModelCompTask, DescribeModelCompTasks items). */
export function expectCompTask(task: any, expected: { id: string; name: string; sourceModelId: string; status?: string }): void {
  expectShape(task, {
    id: ID.compTask, name: "string", description: "string", status: ["creating", "running", "succeeded", "failed", "stopping", "stopped"],
    sourceModelId: ID.modelVersion, modelId: "string", config: "object", createTime: ISO_OFFSET, progress: "number",
  }, "compression task");
  expectShape(task.config, { strategy: "string" }, "config");
  if (task.status === "succeeded") assert.match(task.modelId, ID.modelVersion);
  else assert.equal(task.modelId, "", "no output model before it succeeds");
  if (["succeeded", "failed", "stopped"].includes(task.status)) assert.match(task.finishTime, ISO_OFFSET);
  if (task.status === "failed") assert.equal(typeof task.failedReason, "string");
  expectValues(task, expected, "compression task");
}

// ---- evaluation ----------------------------------------------------------------------------

const V1_EVAL_STATES = ["Pending", "Doing", "Done", "PartlyDone", "Fail", "Stopping", "Stopped"];
const V2_EVAL_STATES = ["Queued", "Running", "Successed", "Failed", "Stopping", "Stopped"];
const EXPORT_STATES = ["Pending", "Uploading", "Done", "Fail"];

/** V1 `eval/create` result. */
export function expectV1EvalCreated(result: any): void {
  expectShape(result, { evalId: "integer", evalIdStr: ID.eval }, "eval/create");
}

/** V1 `eval/detail` result. */
export function expectV1EvalDetail(detail: any, expected: { evaluationIdStr: string; name: string; state?: string; datasetIdStr: string; modelVersionIdStrs: string[] }): void {
  expectShape(detail, {
    evaluationId: "integer", evaluationIdStr: ID.eval, name: "string", description: "string", state: V1_EVAL_STATES, evalUnits: "array",
    datasetId: "integer", datasetIdStr: ID.dataset, datasetName: "string", computeResourceConf: "object", evalStandardConf: "object",
    createTime: ISO_OFFSET, finishTime: ISO_OFFSET_OR_UNSET, progress: "number",
  }, "eval/detail");
  for (const unit of detail.evalUnits) {
    expectShape(unit, {
      modelVersionId: "integer", modelVersionIdStr: ID.modelVersion, modelId: "integer", modelIdStr: ID.modelSet, modelName: "string",
      modelVersion: /^\d+$/, modelSource: "string", state: "string", modelVersionDesc: "string", message: "string", modelTags: "array",
    }, "evalUnits[]");
  }
  assert.deepEqual(detail.evalUnits.map((u: any) => u.modelVersionIdStr), expected.modelVersionIdStrs);
  if (detail.state === "Fail") assert.equal(typeof detail.failReason, "string");
  expectValues(detail, { evaluationIdStr: expected.evaluationIdStr, name: expected.name, state: expected.state, datasetIdStr: expected.datasetIdStr }, "eval/detail");
}

/** A V2 evaluation (DescribeEvalTask, DescribeEvalTasks items). */
export function expectV2EvalTask(task: any, expected: { taskId: string; taskName: string; state?: string; datasetVersionId: string; modelIds: string[] }): void {
  expectShape(task, {
    taskId: ID.eval, taskName: "string", description: "string", evalType: ["auto"], state: V2_EVAL_STATES, evalObjectType: ["model"],
    evalMode: "string", models: "array", datasetVersionId: ID.dataset, createTime: ISO_OFFSET, finishTime: ISO_OFFSET_OR_UNSET, progress: "number",
  }, "eval task");
  for (const model of task.models) {
    expectShape(model, { modelId: ID.modelVersion, modelName: /-V\d+$/, modelSetId: ID.modelSet, state: V2_EVAL_STATES, message: "string" }, "models[]");
  }
  assert.deepEqual(task.models.map((m: any) => m.modelId), expected.modelIds);
  if (task.state === "Successed") assert.equal(task.progress, 100);
  if (task.state === "Failed") assert.equal(typeof task.failReason, "string");
  expectValues(task, { taskId: expected.taskId, taskName: expected.taskName, state: expected.state, datasetVersionId: expected.datasetVersionId }, "eval task");
}

/** V2 DescribeEvalTaskReport. */
export function expectV2EvalReport(report: any, expected: { taskId: string; modelIds: string[]; metrics: string[] }): void {
  expectShape(report, { taskId: ID.eval, state: V2_EVAL_STATES, reports: "array" }, "eval report");
  assert.equal(report.taskId, expected.taskId);
  assert.deepEqual(report.reports.map((r: any) => r.modelId), expected.modelIds);
  for (const r of report.reports) {
    expectShape(r, {
      modelId: ID.modelVersion, modelName: /-V\d+$/, effectMetric: "object", sizeBytes: "integer", samples: "integer",
      failedSamples: "integer", tokensPerSecond: "number",
    }, "reports[]");
    for (const key of expected.metrics) assert.equal(typeof r.effectMetric[key], "number", `effectMetric.${key}`);
  }
}

/** V2 DescribeEvalResultExportTask. */
export function expectV2EvalExport(exported: any, expected: { exportTaskId: string; evalId: string; state?: string }): void {
  expectShape(exported, {
    exportTaskId: ID.evalExport, evalId: ID.eval, state: EXPORT_STATES, storageType: ["BOS", "sysStorage"], bucket: "string",
    exportPath: "string", downloadUrl: "string", createTime: ISO_OFFSET, finishTime: ISO_OFFSET_OR_UNSET,
  }, "eval export");
  if (exported.state === "Done" && exported.storageType === "sysStorage") assert.match(exported.downloadUrl, /^http:\/\/.+\/sailfin\/v1\/exports\/amemt-[a-z0-9]{12}\/download\?/);
  if (exported.state === "Fail") assert.equal(typeof exported.failReason, "string");
  expectValues(exported, expected, "eval export");
}

/** V1 `finetune/createTask` result (the engine's job: number `id`, `job-` `uuid`). */
export function expectV1TaskCreated(result: any, expected: { name: string; description: string }): void {
  expectShape(result, { id: "integer", uuid: ID.job, name: "string", description: "string", createTime: SQL_TIME }, "createTask");
  expectValues(result, expected, "createTask");
}

/** V1 `finetune/createJob` result (one run: number `id`, `task-` `uuid`). */
export function expectV1JobCreated(result: any): void {
  expectShape(result, { id: "integer", uuid: ID.task }, "createJob");
}

/** Every field of V1 `jobDetail`, beyond `expectV1JobDetail`'s values. */
export function expectV1JobShape(detail: any): void {
  expectShape(detail, {
    id: "integer", description: "string", taskId: "integer", taskName: "string", version: "integer", jobRunType: [0, 1],
    trainType: "string", trainMode: "string", peftType: ["ALL", "LoRA", "P-tuning"], trainStatus: ["RUNNING", "FINISH", "STOP", "FAIL"],
    startTime: SQL_TIME_OR_UNSET, finishTime: SQL_TIME_OR_UNSET, runTime: "integer", trainTime: "integer", progress: "number",
    vdlLink: /^http:\/\/.+\/console\/tasks\/task-[a-z0-9]{12}$/,
  }, "jobDetail");
  if (detail.jobRunType === 1) expectShape(detail.increConfig, { taskId: "integer", jobId: "integer" }, "increConfig");
}

/** One entry of V1 `eval/model/list` (a text-generation set with its Ready versions). */
export function expectV1EvaluableModel(entry: any): void {
  expectShape(entry, {
    modelId: "integer", modelIdStr: ID.modelSet, modelName: "string", source: "string", modelType: [0], trainType: "string", modelVersionList: "array",
  }, "evaluable model");
  assert.ok(entry.modelVersionList.length > 0, "only sets with a Ready version are listed");
  for (const v of entry.modelVersionList) {
    expectShape(v, {
      modelVersionId: "integer", modelVersionIdStr: ID.modelVersion, version: /^\d+$/, sourceType: ["Import", "Train", "Acceleration"],
      framework: ["pytorch"], algorithm: "string", modelNet: "string", trainType: "string", description: "string",
    }, "modelVersionList[]");
  }
}

/** V1 `eval/result/list` page. */
export function expectV1EvalResultPage(page: any, expected: { total: number; pageNo: number; pageSize: number }): void {
  expectShape(page, { total: "integer", pageNo: "integer", pageSize: "integer", results: "array" }, "eval/result/list");
  expectValues(page, expected, "eval/result/list");
  for (const r of page.results) {
    expectShape(r, {
      id: "integer", modelVersionId: "integer", evalUnitIndex: "integer", sampleIndex: "integer", prompt: "string", prediction: "string",
      completion: "string", metrics: "object", judgeScore: either("number", "null"), judgeError: either("string", "null"),
    }, "results[]");
  }
}

/** One V1 `eval/report` item (one per evaluated version). */
export function expectV1EvalReportItem(item: any, expected: { modelVersionIdStr: string; metrics: string[] }): void {
  expectShape(item, {
    modelName: "string", modelVersion: /^\d+$/, modelVersionSource: "string", evalMode: "string", evaluationName: "string", id: "integer",
    modelVersionId: "integer", modelVersionIdStr: ID.modelVersion, modelId: "integer", modelIdStr: ID.modelSet, evaluationJobId: "integer",
    userId: "string", projectId: "string", evaluationId: "integer", effectMetric: "object", sizeBytes: "integer", samples: "integer",
    failedSamples: "integer", tokensPerSecond: "number",
  }, "eval/report item");
  assert.equal(item.modelVersionIdStr, expected.modelVersionIdStr);
  for (const key of expected.metrics) assert.equal(typeof item.effectMetric[key], "number", `effectMetric.${key}`);
}

/** V1 `eval/result/export` result and `eval/result/export/info` (seed 002's fields). */
export function expectV1ExportCreated(result: any): void {
  expectShape(result, { exportID: "integer", exportIDStr: ID.evalExport }, "eval/result/export");
}

export function expectV1ExportInfo(info: any, expected: { idStr: string; exportIDStr: string; state?: string }): void {
  expectShape(info, {
    id: "integer", idStr: ID.eval, exportID: "integer", exportIDStr: ID.evalExport, state: EXPORT_STATES, exportType: ["local", "storage"],
    volumeId: "string", exportPath: "string", downloadUrl: "string",
  }, "eval/result/export/info");
  if (info.state === "Fail") assert.equal(typeof info.failReason, "string");
  expectValues(info, expected, "eval/result/export/info");
}
