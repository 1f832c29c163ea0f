import {
  CreateEvalResultExportTaskBody, CreateEvalTaskBody, DescribeEvalResultExportTaskBody, DescribeEvalTasksBody, EvalTaskIdBody,
  STATE_WORD, SailfinError, ScoreEvalSampleBody, exportState, isoOffset, pageRequest, parseWith, v2EvalState,
  type DescribeEvalTasksResult, type EvalExportTask, type EvalManualSamples, type EvalTaskDetail, type EvalTaskReport, type V2EvalState,
} from "@sailfin/contract";
import {
  createEval, createEvalExport, deleteEvals, describeEval, describeEvalExport, finishManualScoring, latestEvalExport, listEvals,
  manualSamples, scoreManualSample, stopEval, waitingReason,
  type EvalExportView, type EvalUnitInput, type EvalView,
} from "@sailfin/engine";
import { v2, type RouteContext, type RouteDef } from "../route.js";
import { withWaitingReason } from "../waiting-reason.js";
import {
  dimensionsOf, downloadUrl, evalProgress, exportColumns, exportFailReason, given, inferenceParams, partResultIds, unitResult,
} from "../eval-shared.js";

/**
 * V2 evaluation (`POST /v2/eval?Action=…`, reference §8.2): model versions answer a dataset
 * (`evalObjectType` "model") or answers datasets are scored as they are ("inferDataset"), by rule
 * metrics, a judge and/or people (`evalMode` "manual", `evalType` "manual"). People score through
 * Sailfin's extension actions DescribeEvalManualSamples, ScoreEvalSample and
 * FinishEvalManualScoring. Export tasks are described by their own id or by the evaluation's
 * (its latest export).
 */

const MODEL_CONFIG = "evalObjectConfig.evalModelConfig";
const INFER_CONFIG = "evalObjectConfig.evalInferDatasetConfig";


/** Per-model state: a finished unit's own outcome, else the evaluation's. */
function modelState(view: EvalView, index: number, state: V2EvalState): V2EvalState {
  const result = unitResult(view, index);
  if (result === undefined || state === "RunningWithManualBegin") return state;
  return result.state === "Fail" ? "Failed" : "Successed";
}

/** The evaluation object of DescribeEvalTask and DescribeEvalTasks' `taskList`. */
function renderTask(view: EvalView): EvalTaskDetail {
  const { spec } = view;
  const state = v2EvalState(view, view.runState.manualPending ?? false);
  const resultDataset = view.result?.manual?.resultDataset;
  return {
    taskId: view.id,
    taskName: view.name,
    description: view.description,
    evalType: spec.manual === undefined ? "auto" : "manual",
    state,
    evalObjectType: spec.units.some((u) => u.answers !== undefined) ? "inferDataset" : "model",
    evalMode: spec.modes.join(","),
    models: spec.units.map((unit) => ({
      modelId: unit.modelVersionId,
      modelName: `${unit.modelName}-V${unit.version}`,
      modelSetId: unit.modelSetId,
      state: modelState(view, unit.index, state),
      message: unitResult(view, unit.index)?.message ?? "",
    })),
    datasetVersionId: spec.dataset.versionId,
    createTime: isoOffset(view.createdAt),
    finishTime: isoOffset(view.finishedAt),
    progress: evalProgress(view),
    ...(view.status === "Failed" ? { failReason: view.failureReason ?? "" } : {}),
    ...(resultDataset === undefined ? {} : { resultDatasetId: resultDataset.versionId }),
  };
}

/** The two objects an evaluation can score: model versions (answering now) or answers datasets. */
function evalObjects(input: CreateEvalTaskBody): Pick<Parameters<typeof createEval>[2], "dataset" | "datasetField" | "units" | "unitsField" | "answers"> {
  if (input.evalObjectType === "inferDataset") {
    const config = input.evalObjectConfig.evalInferDatasetConfig;
    if (config === undefined) throw new SailfinError("InvalidParameter", { field: INFER_CONFIG, detail: "is required when evalObjectType is inferDataset" });
    return {
      datasetField: `${INFER_CONFIG}.evalInferDatasetConfigList`, units: [], unitsField: `${INFER_CONFIG}.evalInferDatasetConfigList`,
      answers: config.evalInferDatasetConfigList.map((d, i) => ({ dataset: d.inferDatasetVersionId, field: `${INFER_CONFIG}.evalInferDatasetConfigList[${i}].inferDatasetVersionId` })),
    };
  }
  const config = input.evalObjectConfig.evalModelConfig;
  if (config === undefined) throw new SailfinError("InvalidParameter", { field: MODEL_CONFIG, detail: "is required when evalObjectType is model" });
  if (config.storageType === "BOS") {
    throw new SailfinError("InvalidParameter", {
      field: `${MODEL_CONFIG}.storageType`,
      detail: "Sailfin keeps the answers itself (sysStorage); export them into a bucket with CreateEvalResultExportTask",
    });
  }
  const units: EvalUnitInput[] = config.evalModelConfigList.map((model, i) => ({
    modelVersion: model.modelId, field: `${MODEL_CONFIG}.evalModelConfigList[${i}].modelId`,
    promptTemplate: given(model.promptTemplate) ?? null, templateField: `${MODEL_CONFIG}.evalModelConfigList[${i}].promptTemplate`,
    params: inferenceParams(model.inferenceParams, model.stop),
  }));
  return { dataset: config.versionId, datasetField: `${MODEL_CONFIG}.versionId`, units, unitsField: `${MODEL_CONFIG}.evalModelConfigList` };
}

async function renderExport(ctx: RouteContext, view: EvalExportView): Promise<EvalExportTask> {
  const state = exportState(view.status);
  return {
    exportTaskId: view.id,
    evalId: view.spec.evalId,
    state,
    storageType: view.spec.exportType === "storage" ? "BOS" : "sysStorage",
    bucket: view.spec.volumeId ?? "",
    exportPath: view.result?.exportPath ?? "",
    downloadUrl: await downloadUrl(ctx, view),
    createTime: isoOffset(view.createdAt),
    finishTime: isoOffset(view.finishedAt),
    ...(state === "Fail" ? { failReason: exportFailReason(view) } : {}),
  };
}

export const evalV2Routes: RouteDef[] = [
  v2("eval", "CreateEvalTask", "eval:write", async (ctx, body): Promise<string> => {
    const input = parseWith(CreateEvalTaskBody, body);
    const judge = input.evalConfig.autoModelEvalConfig;
    const created = await createEval(ctx.res, ctx.caller, {
      name: input.taskName,
      description: input.description ?? "",
      ...evalObjects(input),
      dimensions: dimensionsOf(input.evalConfig.manualEvalConfig?.evaluationDimension), dimensionsField: "evalConfig.manualEvalConfig.evaluationDimension",
      modes: input.evalConfig.evalMode.split(","), modesField: "evalConfig.evalMode",
      stopWordsPath: given(input.evalConfig.autoRuleEvalConfig?.stopWordsPath), stopWordsField: "evalConfig.autoRuleEvalConfig.stopWordsPath",
      judge: { url: given(judge?.apiUrl), model: given(judge?.apiName), prompt: judge?.prompt },
      judgeField: "evalConfig.autoModelEvalConfig",
      // The parsed objects, not the raw body: unknown keys are dropped, not stored.
      echo: { evalObjectConfig: input.evalObjectConfig, evalConfig: input.evalConfig },
    });
    return created.id;
  }),

  v2("eval", "DescribeEvalTasks", "eval:read", async (ctx, body): Promise<DescribeEvalTasksResult> => {
    const input = parseWith(DescribeEvalTasksBody, body);
    const request = pageRequest(input);
    const page = await listEvals(ctx.res, request, input.keyFilter, input.evalType);
    return { taskList: page.items.map(renderTask), pageInfo: page.pageInfo };
  }),

  v2("eval", "DescribeEvalTask", "eval:read", async (ctx, body): Promise<EvalTaskDetail> => {
    const input = parseWith(EvalTaskIdBody, body);
    const view = await describeEval(ctx.res, input.taskId, "taskId");
    return withWaitingReason(renderTask(view), await waitingReason(ctx.res.db, view));
  }),

  v2("eval", "DescribeEvalTaskReport", "eval:read", async (ctx, body): Promise<EvalTaskReport> => {
    const input = parseWith(EvalTaskIdBody, body);
    const view = await describeEval(ctx.res, input.taskId, "taskId");
    const state = v2EvalState(view, view.runState.manualPending ?? false);
    if (view.result === null) {
      throw new SailfinError("InvalidParameter", { field: "taskId", detail: `evaluation ${view.id} has not finished (${STATE_WORD}); its report is ready once it has Successed`, state: view.runState });
    }
    return {
      taskId: view.id,
      state,
      reports: view.spec.units.map((unit) => {
        const result = unitResult(view, unit.index);
        return {
          modelId: unit.modelVersionId,
          modelName: `${unit.modelName}-V${unit.version}`,
          effectMetric: result?.effectMetric ?? {},
          sizeBytes: result?.sizeBytes ?? 0,
          samples: result?.samples ?? 0,
          failedSamples: result?.failedSamples ?? 0,
          tokensPerSecond: result?.tokensPerSecond ?? 0,
        };
      }),
    };
  }),

  v2("eval", "StopEvalTask", "eval:write", async (ctx, body): Promise<Record<string, never>> => {
    const input = parseWith(EvalTaskIdBody, body);
    await stopEval(ctx.res, ctx.caller, input.taskId, "taskId");
    return {};
  }),

  v2("eval", "DeleteEvalTask", "eval:write", async (ctx, body) => {
    const input = parseWith(EvalTaskIdBody, body);
    // Looked up first so that an unknown id is named `taskId` (not the engine's list field `taskId[0]`).
    const view = await describeEval(ctx.res, input.taskId, "taskId");
    await deleteEvals(ctx.res, ctx.caller, [view.id], "taskId");
    return true;
  }),

  v2("eval", "CreateEvalResultExportTask", "eval:write", async (ctx, body): Promise<string> => {
    const input = parseWith(CreateEvalResultExportTaskBody, body);
    const created = await createEvalExport(ctx.res, ctx.caller, {
      eval: input.evalId, evalField: "evalId",
      exportType: input.storageType === "BOS" ? "storage" : "local",
      volumeId: given(input.bucket), volumeField: "bucket",
      content: exportColumns(input.exportContent), contentField: "exportContent",
      resultIds: partResultIds(input.exportOpt, input.resultIds), resultIdsField: "resultIds",
    });
    return created.id;
  }),

  v2("eval", "DescribeEvalResultExportTask", "eval:read", async (ctx, body): Promise<EvalExportTask> => {
    const input = parseWith(DescribeEvalResultExportTaskBody, body);
    if (input.exportTaskId !== undefined) return await renderExport(ctx, await describeEvalExport(ctx.res, input.exportTaskId, "exportTaskId"));
    if (input.evalId === undefined) throw new SailfinError("InvalidParameter", { field: "exportTaskId", detail: "exportTaskId or evalId is required" });
    const evaluation = await describeEval(ctx.res, input.evalId, "evalId");
    const latest = await latestEvalExport(ctx.res, evaluation.num);
    if (latest === null) throw new SailfinError("NotFound", { field: "evalId", detail: `evaluation ${evaluation.id} has no export task` });
    return await renderExport(ctx, latest);
  }),

  // Sailfin extensions (docs/compatibility.md): people score a manual evaluation's answers.
  v2("eval", "DescribeEvalManualSamples", "eval:read", async (ctx, body): Promise<EvalManualSamples> => {
    const input = parseWith(EvalTaskIdBody, body);
    const scoring = await manualSamples(ctx.res, input.taskId, "taskId");
    const view = scoring.evaluation;
    return {
      taskId: view.id,
      state: v2EvalState(view, view.runState.manualPending ?? false),
      resultDatasetId: view.result?.manual?.resultDataset.versionId ?? "",
      dimensions: scoring.dimensions.map((d) => ({ dimension: d.dimension, description: d.description, minScore: d.minScore, maxScore: d.maxScore })),
      scored: scoring.scored,
      total: scoring.total,
      finished: scoring.finished,
      samples: scoring.samples.map((s) => ({
        resultId: s.resultId, modelId: s.modelVersionId, sampleIndex: s.sampleIndex, prompt: s.prompt, reference: s.reference, prediction: s.prediction, scores: s.scores,
      })),
    };
  }, true),

  v2("eval", "ScoreEvalSample", "eval:write", async (ctx, body): Promise<{ finished: boolean }> => {
    const input = parseWith(ScoreEvalSampleBody, body);
    const scored = await scoreManualSample(ctx.res, ctx.caller, input.taskId, "taskId", {
      resultId: input.resultId, resultField: "resultId", scores: input.scores, scoresField: "scores",
    });
    return { finished: scored.finished };
  }, true),

  v2("eval", "FinishEvalManualScoring", "eval:write", async (ctx, body): Promise<boolean> => {
    const input = parseWith(EvalTaskIdBody, body);
    await finishManualScoring(ctx.res, ctx.caller, input.taskId, "taskId");
    return true;
  }, true),
];
