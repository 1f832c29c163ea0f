import {
  CreateFineTuningJobBody, CreateFineTuningTaskBody, DescribeFineTuningJobsBody, DescribeFineTuningTaskMetricsBody, DescribeFineTuningTasksBody,
  FineTuningJobIdBody, FineTuningTaskIdBody, SailfinError, isoZ, pageRequest, parseWith, v2RunStatus,
  type CreateFineTuningJobResult, type CreateFineTuningTaskResult, type DescribeFineTuningJobsResult, type DescribeFineTuningTasksResult,
  type FineTuningJobItem, type FineTuningTaskDetail, type FineTuningTaskMetrics, type FineTuningTaskQuote, type SupportModel,
} from "@sailfin/contract";
import {
  createJob, createRun, deleteJob, deleteRun, describeRun, describeSupportModels, listJobs, listRuns, pauseRun, quoteRun, resumeRun, runMetrics, stopRun,
  placementView, waitingReason, type CreateRunInput, type ResourcePools,
  type FinetuneJobListItem, type FinetuneRunDetail, type RunDatasetInput,
} from "@sailfin/engine";
import { withWaitingReason } from "../waiting-reason.js";
import { v2, type RouteContext, type RouteDef } from "../route.js";

/**
 * `POST /v2/finetuning?Action=…` (reference §6.2). V2 says *job* for the container and *task*
 * for one run; the engine says job and run.
 */

const actor = (ctx: RouteContext) => ({ accessKey: ctx.caller.accessKey });

/** `jobList[]` item; the docs say `createTime`, the SDK's mock `createDate`: both are sent. */
function renderJob(job: FinetuneJobListItem): FineTuningJobItem {
  return {
    jobId: job.id, name: job.name, description: job.description, model: job.model, trainMode: job.trainMode,
    createTime: isoZ(job.createdAt), createDate: isoZ(job.createdAt),
  };
}

/** The task object (reference §6.2.2), with the frozen hyper-parameters and datasets echoed. */
function renderTask(detail: FinetuneRunDetail, baseUrl: string, pools: ResourcePools): FineTuningTaskDetail {
  const { run, job, checkpoints } = detail;
  const runStatus = v2RunStatus(run.status);
  const spec = run.spec;
  return {
    taskId: run.id, jobId: job.id, jobName: job.name, jobDescription: job.description, description: run.description,
    model: job.model, trainMode: run.trainMode, parameterScale: run.parameterScale, runStatus,
    // The Python trainer reads `int(runProgress[:-1])` only while Running: always "NN%".
    ...(runStatus === "Running" ? { runProgress: `${Math.floor(run.progress)}%` } : {}),
    vdlLink: `${baseUrl}/console/tasks/${run.id}`,
    checkpointList: checkpoints.map((c) => ({
      step: c.step, perplexity: c.evalLoss === null ? null : Math.exp(c.evalLoss), trainingLoss: c.trainLoss,
    })),
    // Sailfin extension: what went wrong, and whether it was the input (user) or the system.
    ...(run.status === "Failed" && run.failureReason !== null ? { failureReason: run.failureReason, failureKind: run.failureKind } : {}),
    createDate: isoZ(run.createdAt),
    finishDate: isoZ(run.finishedAt),
    hyperParameterConfig: spec.hyperParameters,
    datasetConfig: {
      sourceType: spec.dataset.sourceType,
      versions: spec.dataset.versions.map((v) => ({ versionId: v.versionId, samplingRate: v.samplingRate, ...(v.role === undefined ? {} : { role: v.role }) })),
      splitRatio: spec.dataset.splitRatio,
    },
    ...(spec.increment === null ? {} : { incrementTaskId: spec.increment.runId, incrementCheckpointStep: spec.increment.step }),
    resourceConfig: placementView(pools, run.placement),
    ...(detail.openAiJob === null ? {} : { openAiJob: detail.openAiJob }),
  };
}

/** Data mixing with Qianfan's own corpora cannot be honoured here: refused rather than ignored. */
function refuseCorpusMixing(corpusConfig: unknown): void {
  if (corpusConfig === null || corpusConfig === undefined || typeof corpusConfig !== "object") return;
  const config = (corpusConfig as { config?: unknown }).config;
  if (Array.isArray(config) && config.length > 0) {
    throw new SailfinError("InvalidParameter", {
      field: "corpusConfig", detail: "mixing in Qianfan corpora is not supported by Sailfin; add the data as a dataset version instead",
    });
  }
}

/** A CreateFineTuningTask body as the engine's run input (shared by the create and its quote). */
function runInput(body: unknown): CreateRunInput {
  const input = parseWith(CreateFineTuningTaskBody, body);
  refuseCorpusMixing(input.corpusConfig);
  // modelConfig belongs to custom-model jobs, which Sailfin does not have.
  if (input.incrementCheckpointStep !== undefined && input.incrementTaskId === undefined) {
    throw new SailfinError("InvalidParameter", { field: "incrementCheckpointStep", detail: "needs incrementTaskId" });
  }
  const sourceType = input.datasetConfig.sourceType ?? "Platform";
  const datasets: RunDatasetInput[] = input.datasetConfig.versions.map((v, i) => ({
    sourceType, sourceField: "datasetConfig.sourceType",
    ref: v.versionId === undefined ? undefined : { id: v.versionId },
    field: `datasetConfig.versions[${i}].versionId`,
    ...(v.samplingRate === undefined ? {} : { samplingRate: v.samplingRate }),
  }));
  return {
    job: { id: input.jobId },
    description: input.description ?? "",
    ...(input.parameterScale === undefined ? {} : { parameterScale: input.parameterScale }),
    hyperParameters: input.hyperParameterConfig ?? {},
    datasets,
    splitRatio: input.datasetConfig.splitRatio ?? 20,
    ...(input.resourceConfig == null ? {} : { resources: input.resourceConfig }),
    ...(input.incrementTaskId === undefined ? {} : {
      increment: {
        ref: { id: input.incrementTaskId }, whenSeveral: "require" as const,
        ...(input.incrementCheckpointStep === undefined ? {} : { step: input.incrementCheckpointStep }),
      },
    }),
  };
}

export const finetuningV2Routes: RouteDef[] = [
  v2("finetuning", "CreateFineTuningJob", "tuning:write", async (ctx, body): Promise<CreateFineTuningJobResult> => {
    // A job-level hyperParameterConfig (the SDK may pass one through kwargs) is not stored:
    // hyper-parameters are validated and frozen per task.
    const input = parseWith(CreateFineTuningJobBody, body);
    const job = await createJob(ctx.res, actor(ctx), {
      name: input.name, description: input.description ?? "", model: input.model, trainMode: input.trainMode,
      ...(input.parameterScale === undefined ? {} : { parameterScale: input.parameterScale }),
    });
    return { jobId: job.id };
  }),

  v2("finetuning", "DescribeFineTuningJobs", "tuning:read", async (ctx, body): Promise<DescribeFineTuningJobsResult> => {
    const input = parseWith(DescribeFineTuningJobsBody, body);
    const page = await listJobs(
      ctx.res,
      { trainMode: input.trainMode ?? input.trainModel, model: input.model },
      pageRequest({ marker: input.marker ?? input.maker, maxKeys: input.maxKeys, pageReverse: input.pageReverse }),
    );
    return { jobList: page.items.map(renderJob), pageInfo: page.pageInfo };
  }),

  v2("finetuning", "DeleteFineTuningJob", "tuning:write", async (ctx, body) => {
    const input = parseWith(FineTuningJobIdBody, body);
    await deleteJob(ctx.res, actor(ctx), { id: input.jobId }, "jobId");
    return true;
  }),

  v2("finetuning", "CreateFineTuningTask", "tuning:write", async (ctx, body): Promise<CreateFineTuningTaskResult> => {
    const run = await createRun(ctx.res, actor(ctx), runInput(body));
    return { jobId: run.spec.jobId, taskId: run.id };
  }),

  // Sailfin extension: what CreateFineTuningTask with this body would train, and for how long.
  v2("finetuning", "DescribeFineTuningTaskQuote", "tuning:write", async (ctx, body): Promise<FineTuningTaskQuote> => quoteRun(ctx.res, runInput(body)), true),

  v2("finetuning", "DescribeFineTuningTasks", "tuning:read", async (ctx, body): Promise<DescribeFineTuningTasksResult> => {
    const input = parseWith(DescribeFineTuningTasksBody, body);
    const page = await listRuns(
      ctx.res, { id: input.jobId }, "jobId",
      pageRequest({ marker: input.marker ?? input.maker, maxKeys: input.maxKeys, pageReverse: input.pageReverse }),
    );
    return { taskList: page.items.map((detail) => renderTask(detail, ctx.baseUrl, ctx.res.pools)), pageInfo: page.pageInfo };
  }),

  v2("finetuning", "DescribeFineTuningTask", "tuning:read", async (ctx, body): Promise<FineTuningTaskDetail> => {
    const input = parseWith(FineTuningTaskIdBody, body);
    const detail = await describeRun(ctx.res, { id: input.taskId }, "taskId");
    return withWaitingReason(renderTask(detail, ctx.baseUrl, ctx.res.pools), await waitingReason(ctx.res.db, { status: detail.run.status, kind: "finetune", poolId: detail.run.placement.poolId }));
  }),

  // Sailfin extension: the full metric series of a task, for charts (docs/api.md).
  v2("finetuning", "DescribeFineTuningTaskMetrics", "tuning:read", async (ctx, body): Promise<FineTuningTaskMetrics> => {
    const input = parseWith(DescribeFineTuningTaskMetricsBody, body);
    return runMetrics(ctx.res, { id: input.taskId }, "taskId", input.sinceStep);
  }, true),

  v2("finetuning", "StopFineTuningTask", "tuning:write", async (ctx, body) => {
    const input = parseWith(FineTuningTaskIdBody, body);
    await stopRun(ctx.res, actor(ctx), { id: input.taskId }, "taskId");
    return true;
  }),

  // Sailfin extensions (OpenAI's pause/resume): a paused task holds no worker and resumes from its latest checkpoint.
  v2("finetuning", "PauseFineTuningTask", "tuning:write", async (ctx, body) => {
    const input = parseWith(FineTuningTaskIdBody, body);
    await pauseRun(ctx.res, actor(ctx), { id: input.taskId }, "taskId");
    return true;
  }, true),

  v2("finetuning", "ResumeFineTuningTask", "tuning:write", async (ctx, body) => {
    const input = parseWith(FineTuningTaskIdBody, body);
    await resumeRun(ctx.res, actor(ctx), { id: input.taskId }, "taskId");
    return true;
  }, true),

  v2("finetuning", "DeleteFineTuningTask", "tuning:write", async (ctx, body) => {
    const input = parseWith(FineTuningTaskIdBody, body);
    await deleteRun(ctx.res, actor(ctx), { id: input.taskId }, "taskId");
    return true;
  }),

  v2("finetuning", "DescribeFineTuningSupportModels", "tuning:read", async (ctx): Promise<SupportModel[]> => describeSupportModels(ctx.res)),
];
