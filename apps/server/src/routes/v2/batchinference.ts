import {
  BatchInferenceTaskIdBody, CreateBatchInferenceTaskBody, DescribeBatchInferenceTasksBody, batchInferenceStatus, isoZ, pageRequest, parseWith,
  type BatchInferenceTask, type DescribeBatchInferenceTasksResult,
} from "@sailfin/contract";
import { createBatchTask, describeBatchTask, exportDownloadUrl, listBatchTasks, stopBatchTask, type BatchTaskView } from "@sailfin/engine";
import { assertGranted } from "../../gate.js";
import { v2, type RouteContext, type RouteDef } from "../route.js";

/**
 * Batch inference (V2 `/v2/batchinference?Action=…`, reference §16; docs/batch-inference.md).
 * Creating and stopping need `service:write`, reading `service:read`; creating also reads the
 * model version and the input (and writes `outputBosUri`), so the key must be granted those as well. The Python SDK's
 * `Referer: infer` header needs nothing.
 */

async function v2BatchTask(ctx: RouteContext, view: BatchTaskView): Promise<BatchInferenceTask> {
  const { spec, result } = view;
  const runStatus = batchInferenceStatus(view);
  const total = result?.samples ?? spec.input.totalCount ?? 0;
  return {
    taskId: view.id,
    name: view.name,
    description: view.description,
    endpoint: spec.endpoint,
    modelId: spec.modelId,
    inferenceParams: spec.inferenceParams,
    runStatus,
    ...(runStatus === "Failed" ? { errorCode: "TaskFailed", errorMsg: view.failureReason ?? "" } : {}),
    inputBosUri: spec.input.uri,
    ...(spec.input.datasetVersionId === null ? {} : { inputDatasetId: spec.input.datasetVersionId }),
    outputBosUri: spec.output.uri,
    outputDir: view.id,
    ...(runStatus === "Done" && result !== null ? { outputUrl: await exportDownloadUrl(ctx.res, ctx.baseUrl, view.id, result) } : {}),
    inputTokenUsage: result?.inputTokens ?? 0,
    outputTokenUsage: result?.outputTokens ?? 0,
    // Processed records: runs.progress is a percentage of the samples.
    progress: result !== null ? result.samples : Math.floor((total * view.progress) / 100),
    totalCount: total,
    creator: spec.creator,
    createTime: isoZ(view.createdAt),
    ...(view.finishedAt === null ? {} : { finishTime: isoZ(view.finishedAt) }),
    dataFormat: spec.input.dataFormat,
  };
}

export const batchInferenceRoutes: RouteDef[] = [
  v2("batchinference", "CreateBatchInferenceTask", "service:write", async (ctx, body) => {
    const input = parseWith(CreateBatchInferenceTaskBody, body);
    assertGranted(ctx.caller, "model:read");
    assertGranted(ctx.caller, input.inputDatasetId === undefined ? "storage:read" : "dataset:read");
    if (input.outputBosUri !== undefined && input.outputBosUri !== "") assertGranted(ctx.caller, "storage:write");
    const taskId = await createBatchTask(ctx.res, ctx.caller, {
      name: input.name, description: input.description, modelId: input.modelId, endpoint: input.endpoint,
      inferenceParams: input.inferenceParams ?? {}, inputBosUri: input.inputBosUri, inputDatasetId: input.inputDatasetId,
      outputBosUri: input.outputBosUri, afsConfig: input.afsConfig,
    });
    return { taskId };
  }),

  v2("batchinference", "DescribeBatchInferenceTask", "service:read", async (ctx, body): Promise<BatchInferenceTask> => {
    const input = parseWith(BatchInferenceTaskIdBody, body);
    return v2BatchTask(ctx, await describeBatchTask(ctx.res, input.taskId, "taskId"));
  }),

  v2("batchinference", "DescribeBatchInferenceTasks", "service:read", async (ctx, body): Promise<DescribeBatchInferenceTasksResult> => {
    const input = parseWith(DescribeBatchInferenceTasksBody, body);
    const page = await listBatchTasks(ctx.res, pageRequest(input), input.runStatus ?? []);
    return { taskList: await Promise.all(page.items.map((view) => v2BatchTask(ctx, view))), pageInfo: page.pageInfo };
  }),

  v2("batchinference", "StopBatchInferenceTask", "service:write", async (ctx, body) => {
    const input = parseWith(BatchInferenceTaskIdBody, body);
    await stopBatchTask(ctx.res, ctx.caller, input.taskId, "taskId");
    return true;
  }),
];
