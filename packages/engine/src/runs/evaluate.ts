import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { nowIso, type RuntimeGenerateSpec } from "@sailfin/contract";
import {
  ChatRenderer, aggregateMetrics, loadTokenizer, sampleMetrics, stopTokenIds, stopWordSet,
  type ChatMessage, type LoadedTokenizer, type SampleMetrics, type StopWords,
} from "@sailfin/data";
import { judgeSummary } from "../evaluations/judge-summary.js";
import type { EffectMetric, EvalResult, EvalRunSpec, EvalUnitResult, EvalUnitSpec } from "../evaluations/eval-spec.js";
import { folderKey } from "../artifacts/run-files.js";
import type { ModelVersionRef, RunDeps } from "./deps.js";
import { defineRunKind } from "./define.js";
import { failed, type RunOutcome } from "./outcome.js";
import { runtimeFailure } from "./runtime-failure.js";

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
}) satisfies z.ZodType<EvalUnitSpec>;

/** The payload of an `evaluate` run (written by createEvaluation). */
export const evaluateSpecSchema = z.object({
  specVersion: z.literal(1),
  kind: z.literal("evaluate"),
  dataset: z.object({ versionId: z.string(), versionNum: z.int(), name: z.string(), dataKey: z.string(), contentHash: z.string() }),
  units: z.array(unitSchema),
  modes: z.array(z.enum(["rule", "model"])),
  stopWords: z.array(z.string()).nullable(),
  judge: z.object({
    url: z.string(),
    model: z.string(),
    timeoutMs: z.number(),
    prompt: z.object({
      templateContent: z.string().optional(), metric: z.string().optional(), steps: z.string().optional(), minScore: z.number(), maxScore: z.number(),
    }),
  }).nullable(),
  maxSamples: z.int(),
  seed: z.int(),
  echo: z.record(z.string(), z.unknown()),
}) satisfies z.ZodType<EvalRunSpec>;

/** One evaluation sample: the conversation so far, the prompt that `{input}` stands for, the reference answer. */
interface EvalSample {
  readonly history: ChatMessage[];
  readonly input: string;
  readonly reference: string;
}

/** Judge calls in flight at once: a remote judge is slow per call, and fine with a few in parallel. */
const JUDGE_CONCURRENCY = 4;

/** The paths and token ids one unit's generation uses. */
interface GenerateRuntimeInput {
  readonly modelDir: string;
  readonly promptsFile: string;
  readonly outputFile: string;
  readonly eosTokenIds: readonly number[];
  readonly stopSequences: readonly (readonly number[])[];
  readonly device: string;
}

/** The `generate` recipe's spec.json for one evaluated version. @example generateRuntimeSpec(spec, unit, input) */
function generateRuntimeSpec(spec: EvalRunSpec, unit: EvalUnitSpec, input: GenerateRuntimeInput): RuntimeGenerateSpec {
  const { params } = unit;
  return {
    version: 1, modelDir: input.modelDir, promptsFile: input.promptsFile, outputFile: input.outputFile, maxNewTokens: params.maxOutputTokens,
    doSample: params.temperature !== null, temperature: params.temperature ?? 1, topP: params.topP ?? 1, topK: 0,
    repetitionPenalty: params.penaltyScore, eosTokenIds: [...input.eosTokenIds], stopSequences: input.stopSequences.map((ids) => [...ids]), batchSize: 16, seed: spec.seed,
    device: input.device, dtype: "auto",
  };
}

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
  for (const unit of spec.units) {
    if (deps.signal.aborted) return { kind: "stopped", reason: `stopped after ${units.length} of ${spec.units.length} model versions` };
    const outcome = await evaluateUnit(deps, spec, unit, samples, stopWords, workDir);
    if (outcome.kind === "lost") return { kind: "lost" };
    if (outcome.kind === "stopped") return { kind: "stopped", reason: `stopped while evaluating ${unit.modelVersionId}` };
    units.push(outcome.result);
  }
  if (units.every((u) => u.state === "Fail")) {
    return failed("user", units.map((u) => `${spec.units[u.index]!.modelVersionId}: ${u.message}`).join("; "));
  }
  const result: EvalResult = { units, partly: units.some((u) => u.state !== "Done") };
  return { kind: "done", reason: `evaluated ${units.length} model versions on ${samples.length} samples`, result };
}

type UnitOutcome = { kind: "done"; result: EvalUnitResult } | { kind: "stopped" } | { kind: "lost" };

async function evaluateUnit(
  deps: RunDeps, spec: EvalRunSpec, unit: EvalUnitSpec, samples: readonly EvalSample[], stopWords: StopWords | undefined,
  workDir: string,
): Promise<UnitOutcome> {
  const unitFailed = (message: string): UnitOutcome => ({
    kind: "done",
    result: { index: unit.index, state: "Fail", message, samples: 0, failedSamples: 0, generatedTokens: 0, tokensPerSecond: 0, sizeBytes: 0, effectMetric: {} },
  });
  const version: ModelVersionRef | null = await deps.reads.modelVersion({ num: unit.modelVersionNum });
  if (version === null || version.status !== "Ready" || version.artifactPath === null) return unitFailed(`model version ${unit.modelVersionId} no longer exists or is not Ready`);
  // A staging failure (the store unreachable) is the system's, retried: not this version's failure.
  const modelDir = await deps.files.input(folderKey(version.artifactPath));
  let tok: LoadedTokenizer;
  let prompts: string[];
  try {
    tok = await loadTokenizer(modelDir);
    const chat = new ChatRenderer({ template: tok.chatTemplate, tokens: tok.templateTokens, addedTokens: tok.addedTokens });
    prompts = samples.map((s) => {
      const content = unit.promptTemplate === null ? s.input : unit.promptTemplate.split("{input}").join(s.input);
      const messages = [...(unit.params.system === null ? [] : [{ role: "system", content: unit.params.system }]), ...s.history, { role: "user", content }];
      return chat.render(messages, true);
    });
  } catch (error) {
    return unitFailed(`preparing prompts: ${(error as Error).message}`);
  }
  const promptsFile = join(workDir, `unit-${unit.index}.prompts.jsonl`);
  const outputFile = join(workDir, `unit-${unit.index}.answers.jsonl`);
  await writeFile(promptsFile, prompts.map((p, i) => JSON.stringify({ id: String(i), ids: tok.encode(p) })).join("\n") + "\n");
  const eos = stopTokenIds(tok);
  const stopSequences = unit.params.stop.map((s) => tok.encode(s)).filter((ids) => ids.length > 0);

  const share = 100 / spec.units.length;
  const runtime = await deps.runRuntime({
    recipe: "generate", jobKey: `${deps.run.id}/generate/${unit.index}`,
    specPath: join(workDir, `unit-${unit.index}.spec.attempt-${deps.run.attempt}.json`),
    spec: generateRuntimeSpec(spec, unit, { modelDir, promptsFile, outputFile, eosTokenIds: eos, stopSequences, device: deps.settings.device }),
    keepCheckpoints: 1, progressOffset: unit.index * share, progressScale: share * (spec.modes.includes("model") ? 0.7 : 1),
  });
  if (runtime.kind === "lost") return runtime;
  const { ending, result } = runtime;
  if (ending?.kind === "stopped" || deps.signal.aborted) return { kind: "stopped" };
  if (ending?.kind !== "done" || result.exitCode !== 0) return unitFailed(runtimeFailure("generate", ending, result).reason);
  const answers = new Map<string, { ids: number[]; finishReason: string }>();
  for (const line of (await readFile(outputFile, "utf8")).split("\n")) {
    if (line.trim() === "") continue;
    const row = JSON.parse(line) as { id: string; ids: number[]; finishReason: string };
    answers.set(row.id, row);
  }
  const eosSet = new Set(eos);
  const predictions = samples.map((_, i) => {
    const answer = answers.get(String(i));
    if (answer === undefined) return { text: "", finishReason: "missing" };
    return { text: cutAtStop(tok.decode(answer.ids.filter((id) => !eosSet.has(id))), unit.params.stop).trim(), finishReason: answer.finishReason };
  });
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
    prompt: prompts[i]!.length > 0 ? s.input : "", prediction: predictions[i]!.text, reference: s.reference, finish_reason: predictions[i]!.finishReason,
    metrics: JSON.stringify(spec.modes.includes("rule") ? metrics[i] : {}), judge_score: judged[i]!.score, judge_error: judged[i]!.error, created_at: now,
  }));
  if (!(await deps.recordEvalResults(rows))) return { kind: "lost" };

  const failedSamples = judged.filter((j) => j.error !== null).length;
  let effectMetric: EffectMetric = spec.modes.includes("rule") ? aggregateMetrics(metrics) : {};
  if (spec.modes.includes("model") && spec.judge !== null) {
    effectMetric = { ...effectMetric, ...judgeSummary(judged.map((j) => j.score), spec.judge.prompt.minScore, spec.judge.prompt.maxScore) };
  }
  const out = ending.outputs;
  return {
    kind: "done",
    result: {
      index: unit.index, state: failedSamples > 0 ? "PartlyDone" : "Done",
      message: failedSamples > 0 ? `the judge failed on ${failedSamples} of ${samples.length} samples` : "",
      samples: samples.length, failedSamples,
      generatedTokens: typeof out.generatedTokens === "number" ? out.generatedTokens : 0,
      tokensPerSecond: typeof out.tokensPerSecond === "number" ? out.tokensPerSecond : 0,
      sizeBytes: version.sizeBytes, effectMetric,
    },
  };
}

/** PromptResponse records: the last turn's prompt is the input, its first answer the reference. */
function parseSamples(jsonl: string, max: number): EvalSample[] {
  const out: EvalSample[] = [];
  for (const line of jsonl.split("\n")) {
    if (line.trim() === "" || out.length >= max) continue;
    const turns = JSON.parse(line) as Array<{ prompt: string; response: string[][] }>;
    if (!Array.isArray(turns) || turns.length === 0) throw new Error("a record is not a PromptResponse conversation");
    const last = turns[turns.length - 1]!;
    const history = turns.slice(0, -1).flatMap((t) => [{ role: "user", content: t.prompt }, { role: "assistant", content: t.response[0]![0]! }]);
    out.push({ history, input: last.prompt, reference: last.response[0]![0]! });
  }
  return out;
}

/** The text before the first stop string (the stop string itself is not part of the answer). */
export function cutAtStop(text: string, stops: readonly string[]): string {
  let end = text.length;
  for (const stop of stops) {
    const at = stop === "" ? -1 : text.indexOf(stop);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
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
