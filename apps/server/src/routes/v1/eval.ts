import {
  STATE_WORD, SailfinError, V1CreateEvalBody, V1DeleteEvalsBody, V1EvalExportBody, V1EvalExportInfoBody, V1EvalIdBody,
  V1EvalResultListBody, V1_EVAL_RESULT_METRICS, V1Id, exportState, isoOffset, parseWith, v1EvalState,
  type V1EvalCancelResult, type V1EvalCreated, type V1EvalDetail, type V1EvalExportCreated, type V1EvalExportInfo,
  type V1EvalReportItem, type V1EvalResultList, type V1EvalState, type V1EvaluableModel,
} from "@sailfin/contract";
import {
  createEval, createEvalExport, deleteEvals, describeEval, describeEvalExport, describeModelVersions, evalResults,
  findModelSet, findModelVersion, listModelSets, stopEval, waitingReason,
  type EngineResources, type EvalExportView, type EvalRunSpec, type EvalUnitInput, type EvalView,
} from "@sailfin/engine";
import {
  dimensionsOf, downloadUrl, evalProgress, exportColumns, exportFailReason, given, inferenceParams, partResultIds, unitResult,
} from "../eval-shared.js";
import { v1, type RouteContext, type RouteDef } from "../route.js";
import { withWaitingReason } from "../waiting-reason.js";
import { v1ModelVersion } from "./modelrepo.js";

/**
 * V1 evaluation (`/wenxinworkshop/modelrepo/eval/*`, reference §8.1; seed 002 for export/info).
 * Ids are the numeric `num`s, also accepted as digit strings or as the public `ame-…` /
 * `amemt-…` ids. Sailfin's additions (`progress`, `failReason`, the report's measurements, the
 * download link) are listed in docs/api.md.
 */

const EVAL = "/wenxinworkshop/modelrepo/eval";
const MAX_RESULT_PAGE_SIZE = 100;

/**
 * `evalStandardConf` as the client sent it, or rebuilt from the spec (an evaluation created
 * through V2); a manual evaluation's result dataset is added once written (reference §8.1: the
 * Python SDK's batch inference reads `resultDatasetIdStr`).
 */
function standardConf(view: EvalView): unknown {
  const { spec } = view;
  const conf = spec.echo.evalStandardConf !== undefined ? spec.echo.evalStandardConf as Record<string, unknown> : {
    evalMode: spec.modes.join(","),
    ...(spec.judge === null ? {} : { apiName: spec.judge.model, apiUrl: spec.judge.url, prompt: spec.judge.prompt }),
    ...(spec.manual === undefined ? {} : { evaluationDimension: spec.manual.dimensions }),
  };
  const dataset = view.result?.manual?.resultDataset;
  if (dataset === undefined) return conf;
  return {
    ...conf, resultDatasetId: dataset.versionNum, resultDatasetIdStr: dataset.versionId, resultDatasetName: dataset.name,
    // PromptResponse text (§6.3 projectType 20), imported (2) and released (2) when written.
    resultDatasetProjectType: 20, resultDatasetImportStatus: 2, resultDatasetReleaseStatus: 2,
  };
}

async function versionDescriptions(res: EngineResources, spec: EvalRunSpec): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const unit of spec.units) {
    // A version deleted since (possible once the evaluation has finished) just has no description.
    const version = await findModelVersion(res, unit.modelVersionNum, "id").catch(() => null);
    out.set(unit.modelVersionNum, version?.description ?? "");
  }
  return out;
}

/** `eval/detail.result` (reference §8.1), plus `progress` and `failReason`. */
function renderEval(view: EvalView, descriptions: Map<number, string>): V1EvalDetail {
  const { spec } = view;
  const state: V1EvalState = v1EvalState(view, view.result?.partly ?? false, view.runState.manualPending ?? false);
  return {
    evaluationId: view.num,
    evaluationIdStr: view.id,
    name: view.name,
    description: view.description,
    state,
    evalUnits: spec.units.map((unit) => {
      const result = unitResult(view, unit.index);
      return {
        modelVersionId: unit.modelVersionNum,
        modelVersionIdStr: unit.modelVersionId,
        modelId: unit.modelSetNum,
        modelIdStr: unit.modelSetId,
        modelName: unit.modelName,
        modelVersion: String(unit.version),
        modelSource: unit.sourceType,
        state: state === "DoingWithManualBegin" ? state : result?.state ?? state,
        modelVersionDesc: descriptions.get(unit.modelVersionNum) ?? "",
        message: result?.message ?? "",
        modelTags: [],
      };
    }),
    datasetId: spec.dataset.versionNum,
    datasetIdStr: spec.dataset.versionId,
    datasetName: spec.dataset.name,
    // The echo holds what V1CreateEvalBody accepted: flat scalars.
    computeResourceConf: (spec.echo.computeResourceConf ?? {}) as V1EvalDetail["computeResourceConf"],
    evalStandardConf: standardConf(view),
    createTime: isoOffset(view.createdAt),
    finishTime: isoOffset(view.finishedAt),
    progress: evalProgress(view),
    ...(view.status === "Failed" ? { failReason: view.failureReason ?? "" } : {}),
  };
}

/** `eval/report` items: one per evaluated version, with Sailfin's measurements. */
function renderReport(view: EvalView): V1EvalReportItem[] {
  const { spec } = view;
  return spec.units.map((unit) => {
    const result = unitResult(view, unit.index);
    return {
      modelName: unit.modelName,
      modelVersion: String(unit.version),
      modelVersionSource: unit.sourceType,
      evalMode: spec.modes.join(","),
      evaluationName: view.name,
      // Units have no rows of their own: a unit is its 1-based place in the evaluation.
      id: unit.index + 1,
      modelVersionId: unit.modelVersionNum,
      modelVersionIdStr: unit.modelVersionId,
      modelId: unit.modelSetNum,
      modelIdStr: unit.modelSetId,
      evaluationJobId: unit.index + 1,
      userId: "",
      projectId: "",
      evaluationId: view.num,
      effectMetric: result?.effectMetric ?? {},
      sizeBytes: result?.sizeBytes ?? 0,
      samples: result?.samples ?? 0,
      failedSamples: result?.failedSamples ?? 0,
      tokensPerSecond: result?.tokensPerSecond ?? 0,
    };
  });
}

/** Seed 002's field set and order, plus `failReason` when the export failed. */
async function renderExportInfo(ctx: RouteContext, view: EvalExportView): Promise<V1EvalExportInfo> {
  const state = exportState(view.status);
  return {
    id: view.spec.evalRunNum,
    idStr: view.spec.evalId,
    exportID: view.num,
    exportIDStr: view.id,
    state,
    exportType: view.spec.exportType,
    volumeId: view.spec.volumeId ?? "",
    exportPath: view.result?.exportPath ?? "",
    downloadUrl: await downloadUrl(ctx, view),
    ...(state === "Fail" ? { failReason: exportFailReason(view) } : {}),
  };
}

/** Evaluable models: text-generation sets with their Ready versions (sets without one are left out). */
async function evaluableModels(res: EngineResources): Promise<V1EvaluableModel[]> {
  const out: V1EvaluableModel[] = [];
  let marker: string | undefined;
  // 100 pages of 100 sets bound the work of this unpaged route.
  for (let page = 0; page < 100; page++) {
    const listed = await listModelSets(res, { marker, limit: 100, reverse: false });
    const ready = listed.items.filter((item) => item.set.modelType === "Text2Text")
      .flatMap((item) => item.versions.filter((v) => v.status === "Ready"));
    const views = await describeModelVersions(res, ready);
    for (const item of listed.items) {
      const versions = views.filter((v) => v.set.num === item.set.num);
      if (versions.length === 0) continue;
      out.push({
        modelId: item.set.num,
        modelIdStr: item.set.id,
        modelName: item.set.name,
        source: item.set.source,
        modelType: 0, // text generation (SDK ModelTypeUser), the only type an evaluation can run
        trainType: versions[0]!.baseModel ?? "",
        modelVersionList: versions.map((view) => {
          const v = v1ModelVersion(view);
          return {
            modelVersionId: v.modelVersionId, modelVersionIdStr: v.modelVersionIdStr, version: v.version, sourceType: v.sourceType,
            framework: v.framework, algorithm: v.algorithm, modelNet: v.modelNet, trainType: v.trainType, description: v.description,
          };
        }),
      });
    }
    if (!listed.pageInfo.isTruncated) break;
    marker = listed.pageInfo.nextMarker;
  }
  return out;
}

/** V1 model-version references (numbers, digit strings or `amv-…`) to version numbers. */
async function versionNums(res: EngineResources, refs: readonly V1Id[], field: string): Promise<number[]> {
  const out: number[] = [];
  for (const [i, ref] of refs.entries()) {
    if (typeof ref === "number") out.push(ref);
    else if (/^\d{1,15}$/.test(ref)) out.push(Number(ref));
    else out.push((await findModelVersion(res, ref, `${field}[${i}]`)).num);
  }
  return out;
}

export const evalV1Routes: RouteDef[] = [
  v1(`${EVAL}/create`, "eval:write", async (ctx, body): Promise<V1EvalCreated> => {
    const input = parseWith(V1CreateEvalBody, body);
    if (input.id !== undefined) {
      throw new SailfinError("InvalidParameter", { field: "id", detail: "Sailfin keeps no saved (pending) evaluations to start; leave id out to create one" });
    }
    const units: EvalUnitInput[] = [];
    for (const [i, unit] of input.versionEvalInfo.entries()) {
      const at = `versionEvalInfo[${i}]`;
      if (unit.modelId !== undefined) {
        // The SDK names both; a version of another model is a mistake worth saying so.
        const version = await findModelVersion(ctx.res, unit.modelVersionId, `${at}.modelVersionId`);
        const set = await findModelSet(ctx.res, unit.modelId, `${at}.modelId`);
        if (version.setNum !== set.num) {
          throw new SailfinError("InvalidParameter", { field: `${at}.modelId`, detail: `model version ${version.id} belongs to another model than ${set.id}` });
        }
      }
      const template = unit.prompt?.enable === true ? unit.prompt.content : undefined;
      if (unit.prompt?.enable === true && given(template) === undefined) {
        throw new SailfinError("InvalidParameter", { field: `${at}.prompt.content`, detail: "is required when prompt.enable is true" });
      }
      units.push({
        modelVersion: unit.modelVersionId, field: `${at}.modelVersionId`,
        promptTemplate: template ?? null, templateField: `${at}.prompt.content`,
        params: inferenceParams(unit.params),
      });
    }
    const conf = input.evalStandardConf;
    const created = await createEval(ctx.res, ctx.caller, {
      dimensions: dimensionsOf(conf.evaluationDimension), dimensionsField: "evalStandardConf.evaluationDimension",
      name: input.name,
      description: input.description ?? "",
      dataset: input.datasetId, datasetField: "datasetId",
      units, unitsField: "versionEvalInfo",
      modes: conf.evalMode.split(","), modesField: "evalStandardConf.evalMode",
      stopWordsPath: given(conf.stopWordsPath), stopWordsField: "evalStandardConf.stopWordsPath",
      judge: { url: given(conf.apiUrl), model: given(conf.apiName), prompt: conf.prompt },
      judgeField: "evalStandardConf",
      // The parsed objects, not the raw body: unknown keys are dropped, not stored and shown back.
      echo: { evalStandardConf: conf, ...(input.computeResourceConf === undefined ? {} : { computeResourceConf: input.computeResourceConf }) },
    });
    return { evalId: created.num, evalIdStr: created.id };
  }),

  v1(`${EVAL}/detail`, "eval:read", async (ctx, body): Promise<V1EvalDetail> => {
    const input = parseWith(V1EvalIdBody, body);
    const view = await describeEval(ctx.res, input.id, "id");
    return withWaitingReason(renderEval(view, await versionDescriptions(ctx.res, view.spec)), await waitingReason(ctx.res.db, view));
  }),

  v1(`${EVAL}/report`, "eval:read", async (ctx, body): Promise<V1EvalReportItem[]> => {
    const input = parseWith(V1EvalIdBody, body);
    const view = await describeEval(ctx.res, input.id, "id");
    if (view.result === null) {
      throw new SailfinError("InvalidParameter", { field: "id", detail: `evaluation ${view.id} has not finished (${STATE_WORD}); its report is ready once it is Done`, state: view.runState });
    }
    return renderReport(view);
  }),

  v1(`${EVAL}/cancel`, "eval:write", async (ctx, body): Promise<V1EvalCancelResult> => {
    const input = parseWith(V1EvalIdBody, body);
    // A finished evaluation is a Conflict (rendered as V1 errors are), as V1 stopJob does.
    await stopEval(ctx.res, ctx.caller, input.id, "id");
    return { result: true, errorMessage: "" };
  }),

  v1(`${EVAL}/model/list`, "eval:read", async (ctx): Promise<V1EvaluableModel[]> => evaluableModels(ctx.res)),

  v1(`${EVAL}/result/list`, "eval:read", async (ctx, body): Promise<V1EvalResultList> => {
    const input = parseWith(V1EvalResultListBody, body);
    const view = await describeEval(ctx.res, input.id, "id");
    const ranges: Record<string, { start?: number; end?: number }> = {};
    for (const key of V1_EVAL_RESULT_METRICS) if (input[key] !== undefined) ranges[key] = input[key]!;
    const rows = await evalResults(ctx.res, view.num, {
      ranges,
      ...(input.modelVersionIds === undefined ? {} : { modelVersionNums: await versionNums(ctx.res, input.modelVersionIds, "modelVersionIds") }),
      ...(input.orderBy === undefined ? {} : { orderBy: input.orderBy, order: input.order ?? "desc" }),
    });
    const pageNo = input.pageNo ?? 1;
    const pageSize = Math.min(input.pageSize ?? 20, MAX_RESULT_PAGE_SIZE);
    // At most 5 × 5,000 rows per evaluation (MAX_EVAL_UNITS × MAX_EVAL_SAMPLES): the page is a slice.
    const page = rows.slice((pageNo - 1) * pageSize, pageNo * pageSize);
    return {
      total: rows.length,
      pageNo,
      pageSize,
      results: page.map((r) => ({
        id: r.num, modelVersionId: r.modelVersionNum, evalUnitIndex: r.unitIndex, sampleIndex: r.sampleIndex,
        prompt: r.prompt, prediction: r.prediction, completion: r.reference, metrics: r.metrics,
        judgeScore: r.judgeScore, judgeError: r.judgeError,
      })),
    };
  }),

  v1(`${EVAL}/delete`, "eval:write", async (ctx, body): Promise<boolean> => {
    const input = parseWith(V1DeleteEvalsBody, body);
    await deleteEvals(ctx.res, ctx.caller, input.evalIds, "evalIds");
    return true;
  }),

  v1(`${EVAL}/result/export`, "eval:write", async (ctx, body): Promise<V1EvalExportCreated> => {
    const input = parseWith(V1EvalExportBody, body);
    const created = await createEvalExport(ctx.res, ctx.caller, {
      eval: input.id, evalField: "id",
      exportType: input.exportType ?? "local",
      volumeId: given(input.volumeId), volumeField: "volumeId",
      content: exportColumns(input.exportContent), contentField: "exportContent",
      resultIds: partResultIds(input.exportOpt, input.resultIds), resultIdsField: "resultIds",
    });
    return { exportID: created.num, exportIDStr: created.id };
  }),

  v1(`${EVAL}/result/export/info`, "eval:read", async (ctx, body): Promise<V1EvalExportInfo> => {
    const input = parseWith(V1EvalExportInfoBody, body);
    return await renderExportInfo(ctx, await describeEvalExport(ctx.res, input.exportID, "exportID"));
  }),
];
