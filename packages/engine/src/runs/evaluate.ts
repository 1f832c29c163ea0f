import { readFile } from "node:fs/promises";
import { z } from "zod";
import { nowIso } from "@sailfin/contract";
import {
  aggregateMetrics, sampleMetrics, stopWordSet,
  type ChatMessage, type SampleMetrics, type StopWords,
} from "@sailfin/data";
import { judgeSummary } from "../evaluations/judge-summary.js";
import type { ResultDatasetInput } from "../datasets/create-result-dataset.js";
import type { EffectMetric, EvalResult, EvalRunSpec, EvalUnitResult, EvalUnitSpec } from "../evaluations/eval-spec.js";
import { folderKey } from "../artifacts/run-files.js";
import type { ModelVersionRef, RunDeps } from "./deps.js";
import { defineRunKind } from "./define.js";
import { failed, type RunOutcome } from "./outcome.js";
import { generateAnswers } from "./generate-answers.js";

const unitSchema = z.object({
  index: z.int(),
  modelVersionId: z.string(),
  modelVersionNum: z.int(),
  modelSetId: z.string(),
  modelSetNum: z.int(),
  modelName: z.string(),
  version: z.int(),
  sourceType: z.string(),
  promptTemplate: z.string().nullable(),
  params: z.object({
    temperature: z.number().nullable(),
    topP: z.number().nullable(),
    penaltyScore: z.number(),
    maxOutputTokens: z.int(),
    stop: z.array(z.string()),
    system: z.string().nullable(),
  }),
  answers: z.object({ dataKey: z.string(), contentHash: z.string() }).optional(),
}) satisfies z.ZodType<EvalUnitSpec>;

/** The payload of an `evaluate` run (written by createEvaluation). */
export const evaluateSpecSchema = z.object({
  specVersion: z.literal(1),
  kind: z.literal("evaluate"),
  dataset: z.object({ versionId: z.string(), versionNum: z.int(), name: z.string(), dataKey: z.string(), contentHash: z.string() }),
  units: z.array(unitSchema),
  modes: z.array(z.enum(["rule", "model", "manual"])),
  stopWords: z.array(z.string()).nullable(),
  judge: z.object({
    url: z.string(),
    model: z.string(),
    timeoutMs: z.number(),
    prompt: z.object({
      templateContent: z.string().optional(), metric: z.string().optional(), steps: z.string().optional(), minScore: z.number(), maxScore: z.number(),
    }),
  }).nullable(),
  manual: z.object({
    dimensions: z.array(z.object({ dimension: z.string(), description: z.string(), minScore: z.number(), maxScore: z.number() })),
  }).optional(),
  maxSamples: z.int(),
  seed: z.int(),
  echo: z.record(z.string(), z.unknown()),
}) satisfies z.ZodType<EvalRunSpec>;

/** One evaluation sample: the conversation so far, the prompt that `{input}` stands for, the reference answer; an answers dataset's sample also the model's answer. */
interface EvalSample {
  readonly history: ChatMessage[];
  readonly input: string;
  readonly reference: string;
  readonly completion: string | null;
}

/** One unit's answers, for the result dataset of a manual evaluation. */
interface UnitAnswers {
  readonly samples: readonly EvalSample[];
  readonly predictions: readonly string[];
}

/** Judge calls in flight at once: a remote judge is slow per call, and fine with a few in parallel. */
const JUDGE_CONCURRENCY = 4;
/**
 * One attempt of an evaluation. For each version in turn: prompts are rendered with the
 * version's chat template and tokenized here; the runtime's `generate` recipe answers them (one
 * batched process per version); answers are decoded here, cut at stop strings, scored with the
 * rule metrics and, in `model` mode, by the judge; every sample's result is stored. A version
 * that cannot be evaluated (deleted, or its generation fails) is recorded as failed and the
 * others go on; the evaluation is PartlyDone then. A retry starts over (results are replaced).
 */
export async function runEvaluate(spec: EvalRunSpec, deps: RunDeps): Promise<RunOutcome> {
  const { files } = deps;
  const dataFile = await files.input(spec.dataset.dataKey);
  let samples: EvalSample[];
  try {
    samples = parseSamples(await readFile(dataFile, "utf8"), spec.maxSamples);
  } catch (error) {
    return failed("user", `evaluation dataset ${spec.dataset.versionId}: ${(error as Error).message}`);
  }
  if (samples.length === 0) return failed("user", `evaluation dataset ${spec.dataset.versionId} has no samples`);
  const stopWords: StopWords | undefined = spec.stopWords === null ? undefined : stopWordSet(spec.stopWords);
  // A retried attempt starts over: the answers of a lost one go, fenced by this lease.
  if (!(await deps.recordEvalResults([], { replace: true }))) return { kind: "lost" };

  // Prompts and answers are this node's scratch files: never uploaded.
  const workDir = await files.output(`runs/${deps.run.id}/`);
  const units: EvalUnitResult[] = [];
  const answered: UnitAnswers[] = [];
  for (const unit of spec.units) {
    if (deps.signal.aborted) return { kind: "stopped", reason: `stopped after ${units.length} of ${spec.units.length} model versions` };
    const outcome = unit.answers === undefined
      ? await evaluateUnit(deps, spec, unit, samples, stopWords, workDir)
      : await scoreAnswersUnit(deps, spec, unit, unit.answers.dataKey, stopWords);
    if (outcome.kind === "lost") return { kind: "lost" };
    if (outcome.kind === "stopped") return { kind: "stopped", reason: `stopped while evaluating ${unit.modelVersionId}` };
    units.push(outcome.result);
    if (outcome.answers !== null) answered.push(outcome.answers);
  }
  if (units.every((u) => u.state === "Fail")) {
    return failed("user", units.map((u) => `${spec.units[u.index]!.modelVersionId}: ${u.message}`).join("; "));
  }
  let manual: EvalResult["manual"];
  if (spec.modes.includes("manual")) {
    // People score next: the answers become a released dataset (what Dataset.test_using_llm reads back).
    const resultDataset = await deps.createResultDataset(resultDatasetRows(deps.run.id, answered));
    if (resultDataset === null) return { kind: "lost" };
    manual = { resultDataset, finished: false, finishedAt: null };
  }
  const result: EvalResult = { units, partly: units.some((u) => u.state !== "Done"), ...(manual === undefined ? {} : { manual }) };
  const count = spec.units.some((u) => u.answers !== undefined) ? `${units.length} answer datasets` : `${units.length} model versions on ${samples.length} samples`;
  return { kind: "done", reason: manual === undefined ? `evaluated ${count}` : `answered ${count}; manual scoring has begun`, result };
}

/**
 * A manual evaluation's result dataset: one object per line, `{prompt, response: [[reference]],
 * completion}`. An object, not PromptResponse's one-turn array: the Python SDK's batch inference
 * maps each loaded row as a dict (`entry["prompt"]`, `entry["completion"]`), and it loads an
 * array line as one packed row (a list), where that mapping fails.
 */
function resultDatasetRows(runId: string, answered: readonly UnitAnswers[]): ResultDatasetInput {
  const lines: string[] = [];
  let characters = 0;
  for (const unit of answered) {
    unit.samples.forEach((sample, i) => {
      const completion = unit.predictions[i] ?? "";
      characters += [...sample.input].length + [...sample.reference].length + [...completion].length;
      lines.push(JSON.stringify({ prompt: sample.input, response: [[sample.reference]], completion }));
    });
  }
  return {
    name: `${runId}_result`, description: `answers of evaluation ${runId}, for manual scoring`,
    jsonl: lines.length === 0 ? "" : `${lines.join("\n")}\n`, records: lines.length, characters,
  };
}

type UnitOutcome = { kind: "done"; result: EvalUnitResult; answers: UnitAnswers | null } | { kind: "stopped" } | { kind: "lost" };

/** A unit that failed before it answered anything. */
function unitFailure(unit: EvalUnitSpec, message: string): UnitOutcome {
  return {
    kind: "done", answers: null,
    result: { index: unit.index, state: "Fail", message, samples: 0, failedSamples: 0, generatedTokens: 0, tokensPerSecond: 0, sizeBytes: 0, effectMetric: {} },
  };
}

/**
 * An `inferDataset` unit: the answers dataset already holds each sample's prompt, reference and
 * answer (`completion` on the last turn), so nothing is generated; the answers are scored as a
 * model's would be.
 */
async function scoreAnswersUnit(
  deps: RunDeps, spec: EvalRunSpec, unit: EvalUnitSpec, dataKey: string, stopWords: StopWords | undefined,
): Promise<UnitOutcome> {
  let samples: EvalSample[];
  try {
    samples = parseSamples(await readFile(await deps.files.input(dataKey), "utf8"), spec.maxSamples);
  } catch (error) {
    return unitFailure(unit, `answers dataset ${unit.modelVersionId}: ${(error as Error).message}`);
  }
  if (samples.length === 0) return unitFailure(unit, `answers dataset ${unit.modelVersionId} has no samples`);
  const missing = samples.findIndex((s) => s.completion === null);
  if (missing >= 0) return unitFailure(unit, `answers dataset ${unit.modelVersionId}: sample ${missing + 1} has no completion (the model's answer) on its last turn`);
  const predictions = samples.map((s) => ({ text: s.completion!, finishReason: "given" }));
  return scoreUnit(deps, spec, unit, samples, predictions, stopWords, { generatedTokens: 0, tokensPerSecond: 0, sizeBytes: 0 });
}

async function evaluateUnit(
  deps: RunDeps, spec: EvalRunSpec, unit: EvalUnitSpec, samples: readonly EvalSample[], stopWords: StopWords | undefined,
  workDir: string,
): Promise<UnitOutcome> {
  const unitFailed = (message: string): UnitOutcome => unitFailure(unit, message);
  const version: ModelVersionRef | null = await deps.reads.modelVersion({ num: unit.modelVersionNum });
  if (version === null || version.status !== "Ready" || version.artifactPath === null) return unitFailed(`model version ${unit.modelVersionId} no longer exists or is not Ready`);
  // A staging failure (the store unreachable) is the system's, retried: not this version's failure.
  const modelDir = await deps.files.input(folderKey(version.artifactPath));
  const conversations = samples.map((s) => {
    const content = unit.promptTemplate === null ? s.input : unit.promptTemplate.split("{input}").join(s.input);
    return [...(unit.params.system === null ? [] : [{ role: "system", content: unit.params.system }]), ...s.history, { role: "user", content }];
  });
  const share = 100 / spec.units.length;
  const generated = await generateAnswers(deps, {
    modelDir, conversations, workDir, name: `unit-${unit.index}`,
    params: {
      temperature: unit.params.temperature, topP: unit.params.topP, repetitionPenalty: unit.params.penaltyScore,
      maxNewTokens: unit.params.maxOutputTokens, stop: unit.params.stop, seed: spec.seed,
    },
    progressOffset: unit.index * share, progressScale: share * (spec.modes.includes("model") ? 0.7 : 1),
  });
  if (generated.kind === "lost" || generated.kind === "stopped") return generated;
  if (generated.kind === "failed") return unitFailed(generated.reason);
  return scoreUnit(deps, spec, unit, samples, generated.answers, stopWords, {
    generatedTokens: generated.generatedTokens,
    tokensPerSecond: generated.tokensPerSecond,
    sizeBytes: version.sizeBytes,
  });
}

/** Scores one unit's answers (rule metrics, the judge in `model` mode), records them (fenced) and sums them up. */
async function scoreUnit(
  deps: RunDeps, spec: EvalRunSpec, unit: EvalUnitSpec, samples: readonly EvalSample[],
  predictions: ReadonlyArray<{ readonly text: string; readonly finishReason: string }>, stopWords: StopWords | undefined,
  measured: { readonly generatedTokens: number; readonly tokensPerSecond: number; readonly sizeBytes: number },
): Promise<UnitOutcome> {
  const metrics: SampleMetrics[] = predictions.map((p, i) => sampleMetrics(p.text, samples[i]!.reference, stopWords === undefined ? {} : { stopWords }));

  let judged: Array<{ score: number | null; error: string | null }> = samples.map(() => ({ score: null, error: null }));
  if (spec.modes.includes("model") && spec.judge !== null) {
    const judge = spec.judge;
    // Resolved against this worker's own judge endpoints: the server's may differ, or have changed since the evaluation was created.
    const target = deps.judge.target(judge.url);
    judged = await mapLimit(samples, JUDGE_CONCURRENCY, async (sample, i) => {
      if (deps.signal.aborted) return { score: null, error: "stopped" };
      if ("refused" in target) return { score: null, error: `judge endpoint refused by this worker: apiUrl ${target.refused}` };
      const r = await deps.judge.sample({
        url: target.url, apiKey: target.apiKey, model: judge.model, timeoutMs: judge.timeoutMs, prompt: judge.prompt,
        question: sample.input, prediction: predictions[i]!.text, reference: sample.reference, signal: deps.signal,
      });
      return r.ok ? { score: r.score, error: null } : { score: null, error: r.error.slice(0, 1_000) };
    });
    if (deps.signal.aborted) return { kind: "stopped" };
  }

  const now = nowIso();
  const rows = samples.map((s, i) => ({
    unit_index: unit.index, model_version_num: unit.modelVersionNum, sample_index: i,
    prompt: s.input, prediction: predictions[i]!.text, reference: s.reference, finish_reason: predictions[i]!.finishReason,
    metrics: JSON.stringify(spec.modes.includes("rule") ? metrics[i] : {}), judge_score: judged[i]!.score, judge_error: judged[i]!.error, created_at: now,
  }));
  if (!(await deps.recordEvalResults(rows))) return { kind: "lost" };

  const failedSamples = judged.filter((j) => j.error !== null).length;
  let effectMetric: EffectMetric = spec.modes.includes("rule") ? aggregateMetrics(metrics) : {};
  if (spec.modes.includes("model") && spec.judge !== null) {
    effectMetric = { ...effectMetric, ...judgeSummary(judged.map((j) => j.score), spec.judge.prompt.minScore, spec.judge.prompt.maxScore) };
  }
  return {
    kind: "done",
    answers: { samples, predictions: predictions.map((p) => p.text) },
    result: {
      index: unit.index, state: failedSamples > 0 ? "PartlyDone" : "Done",
      message: failedSamples > 0 ? `the judge failed on ${failedSamples} of ${samples.length} samples` : "",
      samples: samples.length, failedSamples,
      ...measured, effectMetric,
    },
  };
}

/**
 * PromptResponse records: the last turn's prompt is the input, its first answer the reference. A
 * bare object is a one-turn record (the lines of a manual evaluation's result dataset).
 */
function parseSamples(jsonl: string, max: number): EvalSample[] {
  const out: EvalSample[] = [];
  for (const line of jsonl.split("\n")) {
    if (line.trim() === "" || out.length >= max) continue;
    const parsed = JSON.parse(line) as unknown;
    const turns = (Array.isArray(parsed) || parsed === null || typeof parsed !== "object" ? parsed : [parsed]) as Array<{ prompt: string; response: string[][]; completion?: string }>;
    if (!Array.isArray(turns) || turns.length === 0) throw new Error("a record is not a PromptResponse conversation");
    const last = turns[turns.length - 1]!;
    const history = turns.slice(0, -1).flatMap((t) => [{ role: "user", content: t.prompt }, { role: "assistant", content: t.response[0]![0]! }]);
    out.push({ history, input: last.prompt, reference: last.response[0]![0]!, completion: typeof last.completion === "string" ? last.completion : null });
  }
  return out;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return out;
}

export const evaluateRun = defineRunKind({
  kind: "evaluate", noun: "evaluation", readAction: "eval:read", concurrency: "evaluation", needsRuntime: true, spec: evaluateSpecSchema, run: runEvaluate,
});
