import { sql } from "kysely";
import { Readable } from "node:stream";
import { SailfinError, newId, type Page, type PageRequest, type V1Id } from "@sailfin/contract";
import { parseBucketUri, bucketKey } from "../artifacts/keys.js";
import { findReleasedDatasetVersion } from "../datasets/find-released-dataset-version.js";
import { findVersion, lockModelVersions } from "../models/model-rows.js";
import { enqueueRun } from "../queue/enqueue.js";
import { defaultPlacement } from "../pools/index.js";
import { findWorkRun, type WorkRow } from "../queue/find-work.js";
import { requestStop, type StopResult } from "../queue/request-stop.js";
import { keysetPage, type Db } from "@sailfin/store";
import type { Actor, EngineResources } from "../resources.js";
import { toWorkRunView, type WorkRunView } from "../work-run-record.js";
import { resolveJudgeTarget } from "./judge-endpoints.js";
import type { EvalMode, EvalResult, EvalRunSpec, EvalUnitSpec, InferenceParams, JudgeSpec, ManualDimension } from "./eval-spec.js";

/**
 * Evaluations (V1 `modelrepo/eval/*`, V2 `/v2/eval`, reference §8): up to five Ready model
 * versions answer the prompts of one released PromptResponse dataset; the worker scores each
 * answer against the reference (rule metrics) and, when asked, by a judge model. One `runs` row
 * of kind `evaluate` per evaluation; per-sample results in `eval_results`.
 */

const MAX_EVAL_UNITS = 5;
/** Samples one evaluation reads at most: evaluations are for comparing, not for bulk inference. */
const MAX_EVAL_SAMPLES = 5_000;

export interface EvalUnitInput {
  readonly modelVersion: V1Id;
  /** The request field naming this unit, for errors (`versionEvalInfo[1].modelVersionId`). */
  readonly field: string;
  readonly promptTemplate?: string | null;
  readonly templateField: string;
  readonly params?: Partial<InferenceParams>;
}

/** A manual evaluation's dimension as a request gives it (V1 min/maxScore, V2 scoreRange). */
export interface ManualDimensionInput {
  readonly dimension: string;
  readonly description?: string;
  readonly minScore?: number;
  readonly maxScore?: number;
}

interface CreateEvalInput {
  readonly name: string;
  readonly description?: string;
  /** The evaluation dataset (model units); unused with `answers`. */
  readonly dataset?: V1Id;
  readonly datasetField: string;
  readonly units: readonly EvalUnitInput[];
  readonly unitsField: string;
  /**
   * `evalObjectType: inferDataset`: answers datasets to score instead of model versions (PromptResponse,
   * each sample's last turn carrying `completion`); `units` is then empty.
   */
  readonly answers?: readonly { readonly dataset: V1Id; readonly field: string }[];
  /** `manual` mode's dimensions; absent: Qianfan's one, 满意度 (satisfaction). */
  readonly dimensions?: readonly ManualDimensionInput[];
  readonly dimensionsField?: string;
  /** As the request says it (`rule,model,manual`). */
  readonly modes: readonly string[];
  readonly modesField: string;
  readonly stopWordsPath?: string;
  readonly stopWordsField?: string;
  /** Judge settings from the request; URL falls back to the operator's default endpoint (`res.judge`). */
  readonly judge?: { url?: string; model?: string; prompt?: Partial<JudgeSpec["prompt"]> };
  readonly judgeField: string;
  readonly echo: Readonly<Record<string, unknown>>;
}

const DEFAULT_MAX_OUTPUT_TOKENS = 64;
const JUDGE_TIMEOUT_MS = 30_000;

function parseModes(input: CreateEvalInput): EvalMode[] {
  const modes = [...new Set(input.modes.map((m) => m.trim()).filter((m) => m !== ""))];
  if (modes.length === 0) throw new SailfinError("InvalidParameter", { field: input.modesField, detail: "name at least one of rule, model" });
  for (const mode of modes) {
    if (mode !== "rule" && mode !== "model" && mode !== "manual") {
      throw new SailfinError("InvalidParameter", { field: input.modesField, detail: `unknown evaluation mode ${JSON.stringify(mode)}; use rule, model and/or manual` });
    }
  }
  return modes as EvalMode[];
}

/** Qianfan's first (and default) dimension, and the scale people score on when a request names none. */
const SATISFACTION = "满意度";
const DEFAULT_SCORE_RANGE = { minScore: 1, maxScore: 5 } as const;
/** 满意度 plus Qianfan's four extra dimensions at most. */
const MAX_DIMENSIONS = 5;

function manualDimensions(input: CreateEvalInput): ManualDimension[] {
  const field = input.dimensionsField ?? "evaluationDimension";
  const given = input.dimensions ?? [];
  const list = given.length === 0 ? [{ dimension: SATISFACTION }] : given;
  if (list.length > MAX_DIMENSIONS) throw new SailfinError("InvalidParameter", { field, detail: `name at most ${MAX_DIMENSIONS} dimensions (got ${list.length})` });
  const seen = new Set<string>();
  return list.map((d, i) => {
    const name = d.dimension.trim();
    if (name === "" || name.length > 50) throw new SailfinError("InvalidParameter", { field: `${field}[${i}].dimension`, detail: "must be 1 to 50 characters" });
    if (seen.has(name)) throw new SailfinError("InvalidParameter", { field: `${field}[${i}].dimension`, detail: `names ${JSON.stringify(name)} twice` });
    seen.add(name);
    const minScore = d.minScore ?? DEFAULT_SCORE_RANGE.minScore;
    const maxScore = d.maxScore ?? DEFAULT_SCORE_RANGE.maxScore;
    if (!(minScore < maxScore)) throw new SailfinError("InvalidParameter", { field: `${field}[${i}].maxScore`, detail: "must be greater than minScore" });
    return { dimension: name, description: d.description ?? "", minScore, maxScore };
  });
}

async function readStopWords(res: EngineResources, path: string, field: string): Promise<string[]> {
  const key = bucketKey(parseBucketUri(path, field));
  if ((await res.artifacts.stat(key)) === null) throw new SailfinError("InvalidParameter", { field, detail: `no object at ${path}` });
  const chunks: Buffer[] = [];
  for await (const chunk of (await res.artifacts.get(key)) as Readable) chunks.push(chunk as Buffer);
  const words = Buffer.concat(chunks).toString("utf8").split(/\r?\n/).map((w) => w.trim()).filter((w) => w !== "" && !w.startsWith("#"));
  if (words.length > 100_000) throw new SailfinError("InvalidParameter", { field, detail: "more than 100000 stop words" });
  return words;
}

function params(input: Partial<InferenceParams> | undefined): InferenceParams {
  return {
    temperature: input?.temperature ?? null,
    topP: input?.topP ?? null,
    penaltyScore: input?.penaltyScore ?? 1,
    maxOutputTokens: input?.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    stop: input?.stop ?? [],
    system: input?.system ?? null,
  };
}

/**
 * Validates everything a user can get wrong before anything is queued, naming the field: the
 * dataset (released, PromptResponse), each version (Ready), each prompt template (`{input}`),
 * the modes, the judge. Returns the evaluation's `ame-…` id and number.
 *
 * @example await createEval(res, actor, { name: "e1", dataset: "ds-…", units: [...], modes: ["rule"], ... })
 */
export async function createEval(res: EngineResources, actor: Actor, input: CreateEvalInput): Promise<{ id: string; num: number }> {
  const modes = parseModes(input);
  const manual = modes.includes("manual") ? { dimensions: manualDimensions(input) } : undefined;
  if (input.answers !== undefined) return createAnswersEval(res, actor, input, modes, manual);
  if (input.units.length === 0 || input.units.length > MAX_EVAL_UNITS) {
    throw new SailfinError("InvalidParameter", { field: input.unitsField, detail: `evaluate 1 to ${MAX_EVAL_UNITS} model versions (got ${input.units.length})` });
  }
  if (input.dataset === undefined) throw new SailfinError("InvalidParameter", { field: input.datasetField, detail: "is required" });
  const dataset = await findReleasedDatasetVersion(res, input.dataset, input.datasetField);
  if (dataset.format !== "PromptResponse") {
    throw new SailfinError("InvalidParameter", { field: input.datasetField, detail: `an evaluation dataset must be PromptResponse (prompt + reference answer); ${dataset.version.id} is ${dataset.format}` });
  }
  for (const unit of input.units) {
    if (unit.promptTemplate != null && !unit.promptTemplate.includes("{input}")) {
      throw new SailfinError("InvalidParameter", { field: unit.templateField, detail: "the prompt template must contain {input}, where each sample's prompt goes" });
    }
  }
  const judge = judgeSpec(res, input, modes);
  const stopWords = await stopWordsOf(res, input);
  const versions: Awaited<ReturnType<typeof findVersion>>[] = [];
  for (const unit of input.units) versions.push(await findVersion(res.db, unit.modelVersion, unit.field));
  const id = newId("eval");
  const num = await res.db.transaction().execute(async (trx) => {
    // Shared locks: a concurrent delete of a version waits for this transaction and then sees the evaluation.
    const locked = await lockModelVersions(trx, res.dialect, versions.map((v) => v.num), "share");
    const units: EvalUnitSpec[] = [];
    for (const [index, unit] of input.units.entries()) {
      const row = locked.find((v) => v.num === versions[index]!.num);
      if (row === undefined) throw new SailfinError("NotFound", { field: unit.field, detail: `no model version ${String(unit.modelVersion)}` });
      if (row.status !== "Ready") throw new SailfinError("InvalidParameter", { field: unit.field, detail: `model version ${row.id} is ${row.status}; only Ready versions can be evaluated` });
      const set = await trx.selectFrom("model_sets").select(["num", "id", "name"]).where("num", "=", row.set_num).executeTakeFirstOrThrow();
      units.push({
        index, modelVersionId: row.id, modelVersionNum: row.num, modelSetId: set.id, modelSetNum: set.num, modelName: set.name,
        version: row.version, sourceType: row.source_type, promptTemplate: unit.promptTemplate ?? null, params: params(unit.params),
      });
    }
    const spec: EvalRunSpec = {
      specVersion: 1, kind: "evaluate",
      dataset: { versionId: dataset.version.id, versionNum: dataset.version.num, name: dataset.group.name, dataKey: dataset.dataPath, contentHash: dataset.contentHash },
      units, modes, stopWords, judge, ...(manual === undefined ? {} : { manual }), maxSamples: MAX_EVAL_SAMPLES, seed: 42, echo: input.echo,
    };
    return enqueueRun(trx, actor, {
      id, kind: "evaluate", name: input.name, description: input.description ?? "", modelVersionNum: units[0]!.modelVersionNum, spec,
      placement: defaultPlacement(res.pools),
    });
  });
  return { id, num };
}

/**
 * `evalObjectType: inferDataset`: each answers dataset is a unit scored without generation (no
 * model version is involved, so the run needs no runtime beyond what the kind declares). The
 * first answers dataset is also the evaluation's `dataset`.
 */
async function createAnswersEval(
  res: EngineResources, actor: Actor, input: CreateEvalInput, modes: EvalMode[], manual: EvalRunSpec["manual"],
): Promise<{ id: string; num: number }> {
  const answers = input.answers ?? [];
  if (answers.length === 0 || answers.length > MAX_EVAL_UNITS) {
    throw new SailfinError("InvalidParameter", { field: input.unitsField, detail: `score 1 to ${MAX_EVAL_UNITS} answers datasets (got ${answers.length})` });
  }
  const datasets = [];
  for (const answer of answers) {
    const dataset = await findReleasedDatasetVersion(res, answer.dataset, answer.field);
    if (dataset.format !== "PromptResponse") {
      throw new SailfinError("InvalidParameter", { field: answer.field, detail: `an answers dataset must be PromptResponse with the model's answer as completion on the last turn; ${dataset.version.id} is ${dataset.format}` });
    }
    datasets.push(dataset);
  }
  const judge = judgeSpec(res, input, modes);
  const stopWords = await stopWordsOf(res, input);
  const units: EvalUnitSpec[] = datasets.map((d, index) => ({
    index, modelVersionId: d.version.id, modelVersionNum: 0, modelSetId: d.group.id, modelSetNum: 0, modelName: d.group.name,
    version: d.version.version, sourceType: "InferDataset", promptTemplate: null, params: params(undefined),
    answers: { dataKey: d.dataPath, contentHash: d.contentHash },
  }));
  const first = datasets[0]!;
  const spec: EvalRunSpec = {
    specVersion: 1, kind: "evaluate",
    dataset: { versionId: first.version.id, versionNum: first.version.num, name: first.group.name, dataKey: first.dataPath, contentHash: first.contentHash },
    units, modes, stopWords, judge, ...(manual === undefined ? {} : { manual }), maxSamples: MAX_EVAL_SAMPLES, seed: 42, echo: input.echo,
  };
  const id = newId("eval");
  const num = await res.db.transaction().execute((trx) => enqueueRun(trx, actor, {
    id, kind: "evaluate", name: input.name, description: input.description ?? "", spec, placement: defaultPlacement(res.pools),
  }));
  return { id, num };
}

async function stopWordsOf(res: EngineResources, input: CreateEvalInput): Promise<string[] | null> {
  return input.stopWordsPath === undefined || input.stopWordsPath === ""
    ? null : await readStopWords(res, input.stopWordsPath, input.stopWordsField ?? "stopWordsPath");
}

function judgeSpec(res: EngineResources, input: CreateEvalInput, modes: readonly EvalMode[]): JudgeSpec | null {
  let judge: JudgeSpec | null = null;
  if (modes.includes("model")) {
    // Checked here and again by the worker before each call (its configuration may differ or change).
    const target = resolveJudgeTarget(res.judge, input.judge?.url);
    if ("refused" in target) throw new SailfinError("InvalidParameter", { field: `${input.judgeField}.apiUrl`, detail: target.refused });
    const url = target.url;
    const minScore = input.judge?.prompt?.minScore ?? 1;
    const maxScore = input.judge?.prompt?.maxScore ?? 10;
    if (!(minScore < maxScore)) throw new SailfinError("InvalidParameter", { field: `${input.judgeField}.prompt.maxScore`, detail: "must be greater than minScore" });
    judge = {
      url, model: input.judge?.model ?? "judge", timeoutMs: JUDGE_TIMEOUT_MS,
      prompt: { ...input.judge?.prompt, minScore, maxScore },
    };
  }
  return judge;
}

/** An evaluation as routes render it: its run's record, spec and outcome. */
export type EvalView = WorkRunView<EvalRunSpec, EvalResult>;

const viewOf = (row: WorkRow): EvalView => toWorkRunView(row);

/** One evaluation by `ame-…` id or number, or NotFound naming `field`. */
export async function describeEval(res: EngineResources, ref: V1Id, field: string): Promise<EvalView> {
  return viewOf(await findWorkRun(res.db, "evaluate", ref, field, "evaluation"));
}

/** The stored spec of a manual evaluation holds this (JSON.stringify's key order is the spec's). */
const MANUAL_SPEC_MARK = '%"manual":{"dimensions"%';

/**
 * A keyset page of evaluations, newest first; `keyFilter` matches the name, the id or an evaluated
 * version id; `evalType` keeps manual evaluations or automatic ones.
 */
export async function listEvals(res: EngineResources, request: PageRequest, keyFilter?: string, evalType?: "auto" | "manual"): Promise<Page<EvalView>> {
  let query = res.db.selectFrom("runs").selectAll().where("kind", "=", "evaluate");
  if (evalType === "manual") query = query.where("spec", "like", MANUAL_SPEC_MARK);
  if (evalType === "auto") query = query.where("spec", "not like", MANUAL_SPEC_MARK);
  if (keyFilter !== undefined && keyFilter !== "") {
    const like = `%${keyFilter.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    // SQLite has no default LIKE escape character: name it, for both dialects.
    query = query.where((eb) => eb.or([
      sql<boolean>`${sql.ref("name")} like ${like} escape '\\'`, eb("id", "=", keyFilter),
      eb("spec", "like", `%"modelVersionId":"${keyFilter.replace(/[^a-z0-9-]/g, "")}"%`),
    ]));
  }
  const page = await keysetPage(query, request, "runs");
  return { items: page.items.map(viewOf), pageInfo: page.pageInfo };
}

/** Stops an evaluation; what was scored so far stays readable. */
export async function stopEval(res: EngineResources, actor: Actor, ref: V1Id, field: string): Promise<StopResult> {
  return requestStop(res.db, actor, () => findWorkRun(res.db, "evaluate", ref, field, "evaluation"), field, "evaluation");
}

/**
 * Deletes finished evaluations with their results and exports (all or nothing): a waiting or
 * running one must be stopped first, and one with an export in progress waits for it.
 */
export async function deleteEvals(res: EngineResources, _actor: Actor, refs: readonly V1Id[], field: string): Promise<number> {
  const rows: WorkRow[] = [];
  for (const [i, ref] of refs.entries()) rows.push(await findWorkRun(res.db, "evaluate", ref, `${field}[${i}]`, "evaluation"));
  const exportKeys: string[] = [];
  await res.db.transaction().execute(async (trx) => {
    for (const row of rows) {
      const current = await trx.selectFrom("runs").select(["status"]).where("num", "=", row.num).executeTakeFirst();
      if (current !== undefined && (current.status === "Queued" || current.status === "Running")) {
        throw new SailfinError("Conflict", { field, detail: `evaluation ${row.id} is waiting or running; stop it first` });
      }
      const exports = await exportsOf(trx, row.num);
      if (exports.some((e) => e.status === "Queued" || e.status === "Running")) {
        throw new SailfinError("Conflict", { field, detail: `an export of evaluation ${row.id} is in progress; wait for it` });
      }
      for (const e of exports) {
        if (e.result !== null) exportKeys.push((JSON.parse(e.result) as { key: string }).key);
        await trx.deleteFrom("runs").where("num", "=", e.num).execute();
      }
      await trx.deleteFrom("eval_manual_scores").where("eval_run_num", "=", row.num).execute();
      await trx.deleteFrom("eval_results").where("eval_run_num", "=", row.num).execute();
      await trx.deleteFrom("runs").where("num", "=", row.num).execute();
    }
  });
  res.background.run("eval:remove-files", async () => {
    for (const key of [...exportKeys.filter((k) => k.startsWith("exports/")), ...rows.map((r) => `runs/${r.id}/`)]) {
      await res.artifacts.delete(key).catch((error: unknown) => res.log.warn({ err: error, key }, "could not remove a deleted evaluation's file"));
    }
  });
  return rows.length;
}

async function exportsOf(db: Db, evalRunNum: number): Promise<Array<{ num: number; status: string; result: string | null }>> {
  return db.selectFrom("runs").select(["num", "status", "result"]).where("kind", "=", "eval-export")
    .where("reads_run_num", "=", evalRunNum).execute();
}

export interface EvalResultRow {
  readonly num: number;
  readonly unitIndex: number;
  readonly modelVersionNum: number;
  readonly sampleIndex: number;
  readonly prompt: string;
  readonly prediction: string;
  readonly reference: string;
  readonly metrics: Record<string, number>;
  readonly judgeScore: number | null;
  readonly judgeError: string | null;
}

interface EvalResultFilter {
  /** Inclusive ranges on a metric (`bleu4`, `rouge_1`, `rouge_2`, `rouge_l`, `judgeScore`). */
  readonly ranges?: Readonly<Record<string, { start?: number; end?: number }>>;
  readonly modelVersionNums?: readonly number[];
  readonly orderBy?: string;
  readonly order?: "asc" | "desc";
}

/**
 * Every result of an evaluation matching the filter, in sample order (or by a metric). Metric
 * filters and ordering run here, not in SQL: metrics are one JSON column, and an evaluation
 * holds at most MAX_EVAL_UNITS × MAX_EVAL_SAMPLES rows.
 */
export async function evalResults(res: EngineResources, evalRunNum: number, filter: EvalResultFilter = {}): Promise<EvalResultRow[]> {
  let query = res.db.selectFrom("eval_results").selectAll().where("eval_run_num", "=", evalRunNum);
  if (filter.modelVersionNums !== undefined && filter.modelVersionNums.length > 0) query = query.where("model_version_num", "in", [...filter.modelVersionNums]);
  const rows = (await query.orderBy("num", "asc").execute()).map((r): EvalResultRow => ({
    num: r.num, unitIndex: r.unit_index, modelVersionNum: r.model_version_num, sampleIndex: r.sample_index, prompt: r.prompt,
    prediction: r.prediction, reference: r.reference, metrics: JSON.parse(r.metrics) as Record<string, number>,
    judgeScore: r.judge_score, judgeError: r.judge_error,
  }));
  const value = (row: EvalResultRow, key: string): number | null => (key === "judgeScore" ? row.judgeScore : row.metrics[key] ?? null);
  let out = rows.filter((row) => Object.entries(filter.ranges ?? {}).every(([key, range]) => {
    const v = value(row, key);
    return v !== null && (range.start === undefined || v >= range.start) && (range.end === undefined || v <= range.end);
  }));
  if (filter.orderBy !== undefined) {
    const key = filter.orderBy;
    const sign = filter.order === "asc" ? 1 : -1;
    out = [...out].sort((a, b) => sign * ((value(a, key) ?? -Infinity) - (value(b, key) ?? -Infinity)) || a.num - b.num);
  }
  return out;
}
