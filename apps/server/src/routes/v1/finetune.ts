import {
  SailfinError, V1CreateJobBody, V1CreateTaskBody, V1JobRefBody, V1_FINETUNE_KEYS, V1_PEFT_TYPES,
  matchKeys, parseWith, sqlTime, v1PeftType, v1RunStatus,
  type V1FinetuneJobCreated, type V1FinetuneJobDetail, type V1FinetuneTaskCreated,
} from "@sailfin/contract";
import {
  createJob, createRun, describeJob, describeRun, finetuneRef, runOrdinal, stopRun, waitingReason,
  type FinetuneRunDetail, type RunDatasetInput, placementView, type ResourcePools,
} from "@sailfin/engine";
import { withWaitingReason } from "../waiting-reason.js";
import { v1, type RouteContext, type RouteDef } from "../route.js";

/**
 * `POST /wenxinworkshop/finetune/*` (reference §6.1). V1 says *task* for the container (the
 * engine's job) and *job* for one run; ids are the numeric `num`s, also accepted as strings or
 * as the public ids. Body keys match case-insensitively (`baseTraintype`, `pefttype`).
 */

const actor = (ctx: RouteContext) => ({ accessKey: ctx.caller.accessKey });

/** Canonical key spelling for what V1 clients send in any case, nested objects included. */
function normalizeCreateJob(body: unknown): unknown {
  const top = matchKeys(body, V1_FINETUNE_KEYS.createJob);
  if (top === null || typeof top !== "object" || Array.isArray(top)) return top;
  const out = { ...(top as Record<string, unknown>) };
  if (out.increConfig !== undefined) out.increConfig = matchKeys(out.increConfig, V1_FINETUNE_KEYS.increConfig);
  if (Array.isArray(out.trainset)) out.trainset = out.trainset.map((entry) => matchKeys(entry, V1_FINETUNE_KEYS.trainset));
  if (out.resourceConfig != null) out.resourceConfig = matchKeys(out.resourceConfig, V1_FINETUNE_KEYS.resourceConfig);
  return out;
}

/** Whole seconds between two stored times (0 until the run starts). */
function secondsBetween(from: string | null, to: string | null): number {
  if (from === null) return 0;
  const end = to === null ? Date.now() : Date.parse(to);
  return Math.max(0, Math.floor((end - Date.parse(from)) / 1000));
}

/**
 * `jobDetail.result`, fields exactly as the seed page (with `finishTime`, not the page's
 * misspelt `finishtime`). V1 has no queued state: a queued run reads RUNNING with progress 0
 * (see `v1RunStatus`).
 */
function renderJobDetail(detail: FinetuneRunDetail, version: number, baseUrl: string, pools: ResourcePools): V1FinetuneJobDetail {
  const { run, job } = detail;
  const increment = run.spec.increment;
  const seconds = secondsBetween(run.startedAt, run.finishedAt);
  return {
    id: run.num, description: run.description, taskId: job.num, taskName: job.name, version,
    jobRunType: increment === null ? 0 : 1,
    ...(increment === null ? {} : { increConfig: { taskId: increment.jobNum, jobId: increment.runNum } }),
    trainType: job.model, trainMode: run.trainMode, peftType: v1PeftType(run.parameterScale),
    trainStatus: v1RunStatus(run.status),
    startTime: sqlTime(run.startedAt), finishTime: sqlTime(run.finishedAt),
    // No separate set-up phase is measured: training time is the run time.
    runTime: seconds, trainTime: seconds,
    progress: run.progress,
    vdlLink: `${baseUrl}/console/tasks/${run.id}`,
    // Sailfin extension: where it runs (the pool V1 createJob's own extension named, else the default).
    resourceConfig: placementView(pools, run.placement),
    // Sailfin extension: why a failed run failed (user input vs system).
    ...(run.status === "Failed" && run.failureReason !== null ? { failReason: run.failureReason, failKind: run.failureKind } : {}),
  };
}

export const finetuneV1Routes: RouteDef[] = [
  v1("/wenxinworkshop/finetune/createTask", "tuning:write", async (ctx, body): Promise<V1FinetuneTaskCreated> => {
    const input = parseWith(V1CreateTaskBody, matchKeys(body, V1_FINETUNE_KEYS.createTask));
    const job = await createJob(ctx.res, actor(ctx), {
      name: input.name, description: input.description ?? "", model: input.trainType, trainMode: input.trainMode ?? "SFT",
      ...(input.baseTrainType === undefined ? {} : { baseTrainType: input.baseTrainType }),
      fields: { model: "trainType" },
    });
    return { id: job.num, uuid: job.id, name: job.name, description: job.description, createTime: sqlTime(job.createdAt) };
  }),

  v1("/wenxinworkshop/finetune/createJob", "tuning:write", async (ctx, body): Promise<V1FinetuneJobCreated> => {
    const input = parseWith(V1CreateJobBody, normalizeCreateJob(body));
    const jobRef = finetuneRef(input.taskId);
    const job = await describeJob(ctx.res, jobRef, "taskId");
    if (input.trainMode !== undefined && input.trainMode !== job.trainMode) {
      throw new SailfinError("InvalidParameter", { field: "trainMode", detail: `task ${job.num} trains ${job.trainMode}` });
    }
    if (input.trainType !== undefined && input.trainType !== job.model) {
      throw new SailfinError("InvalidParameter", { field: "trainType", detail: `task ${job.num} trains ${job.model}` });
    }
    const parameterScale = V1_PEFT_TYPES[input.peftType.toLowerCase()];
    if (parameterScale === undefined) throw new SailfinError("InvalidParameter", { field: "peftType", detail: "must be ALL or LoRA" });
    const incremental = input.jobRunType === 1;
    if (incremental && input.increConfig === undefined) {
      throw new SailfinError("InvalidParameter", { field: "increConfig", detail: "is required when jobRunType is 1" });
    }
    const datasets: RunDatasetInput[] = input.trainset.map((entry, i) => {
      if (entry.type !== 1 && entry.type !== 2) {
        throw new SailfinError("InvalidParameter", { field: `trainset[${i}].type`, detail: "must be 1 (platform dataset) or 2 (BOS)" });
      }
      return {
        sourceType: entry.type === 1 ? "Platform" : "Bos", sourceField: `trainset[${i}].type`,
        ref: finetuneRef(entry.id), field: `trainset[${i}].id`,
      };
    });
    const run = await createRun(ctx.res, actor(ctx), {
      job: { num: job.num },
      description: input.description ?? "",
      parameterScale,
      hyperParameters: input.trainConfig,
      caseInsensitiveKeys: true,
      datasets,
      splitRatio: input.trainsetRate ?? 20,
      ...(input.resourceConfig == null ? {} : { resources: input.resourceConfig }),
      ...(incremental && input.increConfig !== undefined ? {
        increment: {
          ref: finetuneRef(input.increConfig.jobId), jobRef: finetuneRef(input.increConfig.taskId),
          jobField: "increConfig.taskId", whenSeveral: "latest" as const,
        },
      } : {}),
      fields: {
        job: "taskId", parameterScale: "peftType", hyperParameters: "trainConfig", splitRatio: "trainsetRate",
        increment: "increConfig.jobId", incrementStep: "increConfig.jobId",
      },
    });
    return { id: run.num, uuid: run.id };
  }),

  v1("/wenxinworkshop/finetune/jobDetail", "tuning:read", async (ctx, body): Promise<V1FinetuneJobDetail> => {
    const input = parseWith(V1JobRefBody, matchKeys(body, V1_FINETUNE_KEYS.jobRef));
    const detail = await describeRun(ctx.res, finetuneRef(input.jobId), "jobId", { job: finetuneRef(input.taskId), jobField: "taskId" });
    return withWaitingReason(
      renderJobDetail(detail, await runOrdinal(ctx.res, detail), ctx.baseUrl, ctx.res.pools),
      await waitingReason(ctx.res.db, { status: detail.run.status, kind: "finetune", poolId: detail.run.placement.poolId }),
    );
  }),

  v1("/wenxinworkshop/finetune/stopJob", "tuning:write", async (ctx, body): Promise<boolean> => {
    const input = parseWith(V1JobRefBody, matchKeys(body, V1_FINETUNE_KEYS.jobRef));
    await stopRun(ctx.res, actor(ctx), finetuneRef(input.jobId), "jobId", { job: finetuneRef(input.taskId), jobField: "taskId" });
    return true;
  }),
];
