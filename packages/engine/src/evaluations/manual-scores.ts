import { SailfinError, STATE_WORD, nowIso, type ManualDimensionScores, type V1Id } from "@sailfin/contract";
import { appendEvent } from "@sailfin/store";
import { RUN_OBJECT } from "../queue/lease.js";
import { isUniqueViolation } from "../unique-retry.js";
import type { Actor, EngineResources } from "../resources.js";
import type { EvalResult, ManualDimension } from "./eval-spec.js";
import { describeEval, evalResults, type EvalView } from "./eval-tasks.js";

/**
 * Manual evaluation's scoring phase (Sailfin extension routes; Qianfan scores in its console):
 * once the run has written the answers, people score each answer on each of the evaluation's
 * dimensions, once. When every answer has every score, or the owner finishes early, the
 * evaluation is Done and each unit's `effectMetric` carries the means (`manualAvgScore`,
 * `manualScoreDistribution`). Scores are rows (eval_manual_scores, migration 0011); the means
 * are written into the run's result once, when scoring ends.
 */

interface ManualSample {
  /** The answer's id (`eval_results.num`): what a score names. */
  readonly resultId: number;
  readonly unitIndex: number;
  /** The version that answered (`amv-…`), or the answers dataset (`ds-…`) of an inferDataset evaluation. */
  readonly modelVersionId: string;
  readonly sampleIndex: number;
  readonly prompt: string;
  readonly reference: string;
  readonly prediction: string;
  /** Dimension → score, for the dimensions already scored. */
  readonly scores: Readonly<Record<string, number>>;
}

interface ManualScoring {
  readonly evaluation: EvalView;
  readonly dimensions: readonly ManualDimension[];
  readonly samples: readonly ManualSample[];
  /** Scores given / scores wanted (answers × dimensions). */
  readonly scored: number;
  readonly total: number;
  readonly finished: boolean;
}

/** The evaluation's dimensions, or why it has none to score (not manual; still answering). */
function scorable(view: EvalView, field: string): { dimensions: readonly ManualDimension[]; result: EvalResult } {
  const manual = view.spec.manual;
  if (manual === undefined || !view.spec.modes.includes("manual")) {
    throw new SailfinError("InvalidParameter", { field, detail: `evaluation ${view.id} is not a manual evaluation (its evalMode has no manual); it has no samples to score` });
  }
  if (view.result?.manual === undefined) {
    throw new SailfinError("Conflict", { field, detail: `evaluation ${view.id} has not written its answers yet (${STATE_WORD}); scoring begins once they are`, state: view.runState });
  }
  return { dimensions: manual.dimensions, result: view.result };
}

/**
 * Every answer of a manual evaluation with the scores it has so far.
 *
 * @example const { samples, dimensions } = await manualSamples(res, "ame-…", "taskId");
 */
export async function manualSamples(res: EngineResources, ref: V1Id, field: string): Promise<ManualScoring> {
  const view = await describeEval(res, ref, field);
  const { dimensions, result } = scorable(view, field);
  const rows = await evalResults(res, view.num);
  const scores = await res.db.selectFrom("eval_manual_scores").select(["result_num", "dimension", "score"]).where("eval_run_num", "=", view.num).execute();
  const byResult = new Map<number, Record<string, number>>();
  for (const s of scores) byResult.set(s.result_num, { ...byResult.get(s.result_num), [s.dimension]: s.score });
  return {
    evaluation: view, dimensions,
    samples: rows.map((r) => ({
      resultId: r.num, unitIndex: r.unitIndex, modelVersionId: view.spec.units[r.unitIndex]?.modelVersionId ?? "", sampleIndex: r.sampleIndex,
      prompt: r.prompt, reference: r.reference, prediction: r.prediction, scores: byResult.get(r.num) ?? {},
    })),
    scored: scores.length, total: rows.length * dimensions.length, finished: result.manual!.finished,
  };
}

interface ScoreInput {
  readonly resultId: V1Id;
  readonly resultField: string;
  readonly scores: readonly { readonly dimension: string; readonly score: number }[];
  readonly scoresField: string;
}

/**
 * Records one answer's scores (one or more dimensions). Each (answer, dimension) is scored once:
 * a second score is a Conflict naming the dimension (the unique index decides a race). When this
 * completes the evaluation's scores, it finishes.
 *
 * @example await scoreManualSample(res, actor, "ame-…", "taskId", { resultId: 12, resultField: "resultId", scores: [{ dimension: "满意度", score: 4 }], scoresField: "scores" });
 */
export async function scoreManualSample(
  res: EngineResources, actor: Actor, ref: V1Id, field: string, input: ScoreInput,
): Promise<{ readonly finished: boolean }> {
  const view = await describeEval(res, ref, field);
  const { dimensions, result } = scorable(view, field);
  if (result.manual!.finished) throw new SailfinError("Conflict", { field, detail: `the scoring of evaluation ${view.id} has finished (${STATE_WORD})`, state: view.runState });
  const resultNum = typeof input.resultId === "number" ? input.resultId : /^\d{1,15}$/.test(input.resultId) ? Number(input.resultId) : NaN;
  const answer = Number.isSafeInteger(resultNum)
    ? await res.db.selectFrom("eval_results").select(["num"]).where("num", "=", resultNum).where("eval_run_num", "=", view.num).executeTakeFirst()
    : undefined;
  if (answer === undefined) throw new SailfinError("NotFound", { field: input.resultField, detail: `evaluation ${view.id} has no answer ${String(input.resultId)}` });
  if (input.scores.length === 0) throw new SailfinError("InvalidParameter", { field: input.scoresField, detail: "give at least one score" });
  const seen = new Set<string>();
  input.scores.forEach((s, i) => {
    const dimension = dimensions.find((d) => d.dimension === s.dimension);
    if (dimension === undefined) {
      throw new SailfinError("InvalidParameter", { field: `${input.scoresField}[${i}].dimension`, detail: `unknown dimension ${JSON.stringify(s.dimension)}; this evaluation's are ${dimensions.map((d) => d.dimension).join(", ")}` });
    }
    if (seen.has(s.dimension)) throw new SailfinError("InvalidParameter", { field: `${input.scoresField}[${i}].dimension`, detail: `scores ${JSON.stringify(s.dimension)} twice` });
    seen.add(s.dimension);
    if (!Number.isFinite(s.score) || s.score < dimension.minScore || s.score > dimension.maxScore) {
      throw new SailfinError("InvalidParameter", { field: `${input.scoresField}[${i}].score`, detail: `must be between ${dimension.minScore} and ${dimension.maxScore} for ${dimension.dimension}` });
    }
  });
  const now = nowIso();
  try {
    await res.db.transaction().execute(async (trx) => {
      const already = await trx.selectFrom("eval_manual_scores").select(["dimension"])
        .where("result_num", "=", answer.num).where("dimension", "in", [...seen]).executeTakeFirst();
      if (already !== undefined) throw alreadyScored(input, already.dimension, answer.num);
      await trx.insertInto("eval_manual_scores").values(input.scores.map((s) => ({
        eval_run_num: view.num, result_num: answer.num, dimension: s.dimension, score: s.score, scorer: actor.accessKey, created_at: now,
      }))).execute();
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw alreadyScored(input, input.scores[0]!.dimension, answer.num);
    throw error;
  }
  const counted = await res.db.selectFrom("eval_manual_scores").select((eb) => eb.fn.countAll<number>().as("n")).where("eval_run_num", "=", view.num).executeTakeFirstOrThrow();
  const answers = await res.db.selectFrom("eval_results").select((eb) => eb.fn.countAll<number>().as("n")).where("eval_run_num", "=", view.num).executeTakeFirstOrThrow();
  if (Number(counted.n) < Number(answers.n) * dimensions.length) return { finished: false };
  await closeScoring(res, actor, view, "every answer is scored");
  return { finished: true };
}

function alreadyScored(input: ScoreInput, dimension: string, resultNum: number): SailfinError {
  const at = Math.max(0, input.scores.findIndex((s) => s.dimension === dimension));
  return new SailfinError("Conflict", { field: `${input.scoresField}[${at}].dimension`, detail: `answer ${resultNum} already has a ${dimension} score; each answer is scored once per dimension` });
}

/**
 * Ends the scoring of a manual evaluation now (answers left unscored stay out of the means).
 *
 * @example await finishManualScoring(res, actor, "ame-…", "taskId");
 */
export async function finishManualScoring(res: EngineResources, actor: Actor, ref: V1Id, field: string): Promise<void> {
  const view = await describeEval(res, ref, field);
  const { result } = scorable(view, field);
  if (result.manual!.finished) throw new SailfinError("Conflict", { field, detail: `the scoring of evaluation ${view.id} has already finished (${STATE_WORD})`, state: view.runState });
  if (!(await closeScoring(res, actor, view, "finished by its owner"))) {
    throw new SailfinError("Conflict", { field, detail: `the scoring of evaluation ${view.id} has already finished` });
  }
}

/** Writes the means into the result, once: the update names the result it read, so of two closers one wins. */
async function closeScoring(res: EngineResources, actor: Actor, view: EvalView, reason: string): Promise<boolean> {
  const { dimensions, result } = scorable(view, "taskId");
  const scores = await res.db.selectFrom("eval_manual_scores").innerJoin("eval_results", "eval_results.num", "eval_manual_scores.result_num")
    .select(["eval_results.unit_index as unit", "eval_manual_scores.dimension as dimension", "eval_manual_scores.score as score"])
    .where("eval_manual_scores.eval_run_num", "=", view.num).execute();
  const units = result.units.map((unit) => {
    const perDimension: ManualDimensionScores[] = dimensions.map((d) => summarise(d.dimension, scores.filter((s) => s.unit === unit.index && s.dimension === d.dimension).map((s) => s.score)));
    const first = perDimension[0]?.avgScore ?? null;
    return { ...unit, effectMetric: { ...unit.effectMetric, ...(first === null ? {} : { manualAvgScore: first }), manualScoreDistribution: perDimension } };
  });
  const now = nowIso();
  const closed: EvalResult = { ...result, units, manual: { ...result.manual!, finished: true, finishedAt: now } };
  const stored = await res.db.selectFrom("runs").select(["result"]).where("num", "=", view.num).executeTakeFirstOrThrow();
  if (stored.result === null || (JSON.parse(stored.result) as EvalResult).manual?.finished !== false) return false;
  const read = stored.result;
  return res.db.transaction().execute(async (trx) => {
    const updated = await trx.updateTable("runs").set({ result: JSON.stringify(closed) })
      .where("num", "=", view.num).where("result", "=", read).executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return false;
    await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: view.id, actor: actor.accessKey, from: "DoingWithManualBegin", to: "Done", reason: `manual scoring: ${reason}` });
    return true;
  });
}

function summarise(dimension: string, scores: readonly number[]): ManualDimensionScores {
  const distribution: Record<string, number> = {};
  for (const s of scores) distribution[String(s)] = (distribution[String(s)] ?? 0) + 1;
  const avg = scores.length === 0 ? null : scores.reduce((a, b) => a + b, 0) / scores.length;
  return { dimension, avgScore: avg === null ? null : Math.round(avg * 10_000) / 10_000, scored: scores.length, scoreDistribution: distribution };
}
