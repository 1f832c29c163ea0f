import { INT32_MAX, STATE_WORD, SailfinError, V1Id, intField, exportState, isoOffset, parseWith, v1EvalState, z, type V1EvalState } from "@sailfin/contract";
import {
  createEval, createEvalExport, deleteEvals, describeEval, describeEvalExport, evalResults, findSet, findVersion, runStateOf,
  listModelSets, stopEval, viewVersions, waitingReason,
  type EngineResources, type EvalExportView, type EvalRunSpec, type EvalUnitInput, type EvalView,
} from "@sailfin/engine";
import {
  ExportContentBody, InferenceParamsBody, JudgePromptBody, downloadUrl, evalProgress, exportColumns,
  exportFailReason, given, inferenceParams, partResultIds, unitResult,
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
const RESULT_METRICS = ["bleu4", "rouge_1", "rouge_2", "rouge_l", "judgeScore"] as const;
const MAX_RESULT_PAGE_SIZE = 100;

const CreateBody = z.object({
  name: z.string().min(1).max(100),
  description: z.string().max(500).optional(),
  datasetId: V1Id,
  versionEvalInfo: z.array(z.object({
    modelId: V1Id.optional(),
    modelVersionId: V1Id,
    params: InferenceParamsBody.optional(),
    prompt: z.object({ enable: z.boolean().optional(), content: z.string().optional() }).optional(),
  })),
  evalStandardConf: z.object({
    evalMode: z.string().min(1),
    scoreModes: z.array(z.string()).optional(),
    stopWordsPath: z.string().optional(),
    appId: z.union([z.number(), z.string()]).optional(),
    apiName: z.string().max(200).optional(),
    apiUrl: z.string().max(2_000).optional(),
    prompt: JudgePromptBody.optional(),
  }),
  /** Qianfan's resource choice (`{vmType: 1, vmNumber: 8}`), only echoed: flat scalars, so nothing deep or large is stored. */
  computeResourceConf: z.record(z.string().max(100), z.union([z.string().max(200), z.number(), z.boolean(), z.null()]))
    .refine((conf) => Object.keys(conf).length <= 20, "at most 20 keys").optional(),
  /** Qianfan starts a saved draft with it; Sailfin has no drafts. */
  id: V1Id.optional(),
});
const IdBody = z.object({ id: V1Id });
const Range = z.object({ start: z.number().optional(), end: z.number().optional() });
const ResultListBody = z.object({
  id: V1Id,
  pageNo: intField(1, INT32_MAX).optional(),
  pageSize: intField(1, INT32_MAX).optional(),
  bleu4: Range.optional(),
  rouge_1: Range.optional(),
  rouge_2: Range.optional(),
  rouge_l: Range.optional(),
  judgeScore: Range.optional(),
  modelVersionIds: z.array(V1Id).max(100).optional(),
  orderBy: z.enum(RESULT_METRICS).optional(),
  order: z.enum(["asc", "desc"]).optional(),
});
const DeleteBody = z.object({ evalIds: z.array(V1Id).min(1).max(100) });
const ExportBody = z.object({
  id: V1Id,
  exportType: z.enum(["local", "storage"]).optional(),
  exportOpt: z.enum(["total", "part"]).optional(),
  exportContent: ExportContentBody.optional(),
  volumeId: z.string().max(100).optional(),
  resultIds: z.array(V1Id).optional(),
});
const ExportInfoBody = z.object({ exportID: V1Id });

/** `evalStandardConf` as the client sent it, or rebuilt from the spec (an evaluation created through V2). */
function standardConf(spec: EvalRunSpec): unknown {
  if (spec.echo.evalStandardConf !== undefined) return spec.echo.evalStandardConf;
  return {
    evalMode: spec.modes.join(","),
    ...(spec.judge === null ? {} : { apiName: spec.judge.model, apiUrl: spec.judge.url, prompt: spec.judge.prompt }),
  };
}

async function versionDescriptions(res: EngineResources, spec: EvalRunSpec): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const unit of spec.units) {
    // A version deleted since (possible once the evaluation has finished) just has no description.
    const row = await findVersion(res.db, unit.modelVersionNum, "id").catch(() => null);
    out.set(unit.modelVersionNum, row?.description ?? "");
  }
  return out;
}

/** `eval/detail.result` (reference §8.1), plus `progress` and `failReason`. */
function renderEval(view: EvalView, descriptions: Map<number, string>): Record<string, unknown> {
  const { row, spec } = view;
  const state: V1EvalState = v1EvalState(view, view.result?.partly ?? false);
  return {
    evaluationId: row.num,
    evaluationIdStr: row.id,
    name: row.name,
    description: row.description,
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
        state: result?.state ?? state,
        modelVersionDesc: descriptions.get(unit.modelVersionNum) ?? "",
        message: result?.message ?? "",
        modelTags: [],
      };
    }),
    datasetId: spec.dataset.versionNum,
    datasetIdStr: spec.dataset.versionId,
    datasetName: spec.dataset.name,
    computeResourceConf: spec.echo.computeResourceConf ?? {},
    evalStandardConf: standardConf(spec),
    createTime: isoOffset(row.created_at),
    finishTime: isoOffset(row.finished_at),
    progress: evalProgress(view),
    ...(row.status === "Failed" ? { failReason: row.failure_reason ?? "" } : {}),
  };
}

/** `eval/report` items: one per evaluated version, with Sailfin's measurements. */
function renderReport(view: EvalView): Array<Record<string, unknown>> {
  const { row, spec } = view;
  return spec.units.map((unit) => {
    const result = unitResult(view, unit.index);
    return {
      modelName: unit.modelName,
      modelVersion: String(unit.version),
      modelVersionSource: unit.sourceType,
      evalMode: spec.modes.join(","),
      evaluationName: row.name,
      // Units have no rows of their own: a unit is its 1-based place in the evaluation.
      id: unit.index + 1,
      modelVersionId: unit.modelVersionNum,
      modelVersionIdStr: unit.modelVersionId,
      modelId: unit.modelSetNum,
      modelIdStr: unit.modelSetId,
      evaluationJobId: unit.index + 1,
      userId: "",
      projectId: "",
      evaluationId: row.num,
      effectMetric: result?.effectMetric ?? {},
      sizeBytes: result?.sizeBytes ?? 0,
      samples: result?.samples ?? 0,
      failedSamples: result?.failedSamples ?? 0,
      tokensPerSecond: result?.tokensPerSecond ?? 0,
    };
  });
}

/** Seed 002's field set and order, plus `failReason` when the export failed. */
function renderExportInfo(ctx: RouteContext, view: EvalExportView): Record<string, unknown> {
  const state = exportState(view.status);
  return {
    id: view.spec.evalRunNum,
    idStr: view.spec.evalId,
    exportID: view.row.num,
    exportIDStr: view.row.id,
    state,
    exportType: view.spec.exportType,
    volumeId: view.spec.volumeId ?? "",
    exportPath: view.result?.exportPath ?? "",
    downloadUrl: downloadUrl(ctx, view),
    ...(state === "Fail" ? { failReason: exportFailReason(view) } : {}),
  };
}

/** Evaluable models: text-generation sets with their Ready versions (sets without one are left out). */
async function evaluableModels(res: EngineResources): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  let marker: string | undefined;
  // 100 pages of 100 sets bound the work of this unpaged route.
  for (let page = 0; page < 100; page++) {
    const listed = await listModelSets(res, { marker, limit: 100, reverse: false });
    const ready = listed.items.filter((item) => item.set.model_type === "Text2Text")
      .flatMap((item) => item.versions.filter((v) => v.status === "Ready"));
    const views = await viewVersions(res.db, ready);
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
    else out.push((await findVersion(res.db, ref, `${field}[${i}]`)).num);
  }
  return out;
}

export const evalV1Routes: RouteDef[] = [
  v1(`${EVAL}/create`, "eval:write", async (ctx, body) => {
    const input = parseWith(CreateBody, body);
    if (input.id !== undefined) {
      throw new SailfinError("InvalidParameter", { field: "id", detail: "Sailfin keeps no saved (pending) evaluations to start; leave id out to create one" });
    }
    const units: EvalUnitInput[] = [];
    for (const [i, unit] of input.versionEvalInfo.entries()) {
      const at = `versionEvalInfo[${i}]`;
      if (unit.modelId !== undefined) {
        // The SDK names both; a version of another model is a mistake worth saying so.
        const version = await findVersion(ctx.res.db, unit.modelVersionId, `${at}.modelVersionId`);
        const set = await findSet(ctx.res.db, unit.modelId, `${at}.modelId`);
        if (version.set_num !== set.num) {
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

  v1(`${EVAL}/detail`, "eval:read", async (ctx, body) => {
    const input = parseWith(IdBody, body);
    const view = await describeEval(ctx.res, input.id, "id");
    return withWaitingReason(renderEval(view, await versionDescriptions(ctx.res, view.spec)), await waitingReason(ctx.res.db, view.row));
  }),

  v1(`${EVAL}/report`, "eval:read", async (ctx, body) => {
    const input = parseWith(IdBody, body);
    const view = await describeEval(ctx.res, input.id, "id");
    if (view.result === null) {
      throw new SailfinError("InvalidParameter", { field: "id", detail: `evaluation ${view.row.id} has not finished (${STATE_WORD}); its report is ready once it is Done`, state: runStateOf(view.row) });
    }
    return renderReport(view);
  }),

  v1(`${EVAL}/cancel`, "eval:write", async (ctx, body) => {
    const input = parseWith(IdBody, body);
    // A finished evaluation is a Conflict (rendered as V1 errors are), as V1 stopJob does.
    await stopEval(ctx.res, ctx.caller, input.id, "id");
    return { result: true, errorMessage: "" };
  }),

  v1(`${EVAL}/model/list`, "eval:read", async (ctx) => evaluableModels(ctx.res)),

  v1(`${EVAL}/result/list`, "eval:read", async (ctx, body) => {
    const input = parseWith(ResultListBody, body);
    const view = await describeEval(ctx.res, input.id, "id");
    const ranges: Record<string, { start?: number; end?: number }> = {};
    for (const key of RESULT_METRICS) if (input[key] !== undefined) ranges[key] = input[key]!;
    const rows = await evalResults(ctx.res, view.row.num, {
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

  v1(`${EVAL}/delete`, "eval:write", async (ctx, body) => {
    const input = parseWith(DeleteBody, body);
    await deleteEvals(ctx.res, ctx.caller, input.evalIds, "evalIds");
    return true;
  }),

  v1(`${EVAL}/result/export`, "eval:write", async (ctx, body) => {
    const input = parseWith(ExportBody, body);
    const created = await createEvalExport(ctx.res, ctx.caller, {
      eval: input.id, evalField: "id",
      exportType: input.exportType ?? "local",
      volumeId: given(input.volumeId), volumeField: "volumeId",
      content: exportColumns(input.exportContent), contentField: "exportContent",
      resultIds: partResultIds(input.exportOpt, input.resultIds), resultIdsField: "resultIds",
    });
    return { exportID: created.num, exportIDStr: created.id };
  }),

  v1(`${EVAL}/result/export/info`, "eval:read", async (ctx, body) => {
    const input = parseWith(ExportInfoBody, body);
    return renderExportInfo(ctx, await describeEvalExport(ctx.res, input.exportID, "exportID"));
  }),
];
