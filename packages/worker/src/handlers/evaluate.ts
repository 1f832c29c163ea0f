import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { nowIso } from "@sailfin/contract";
import {
  ChatRenderer, aggregateMetrics, loadTokenizer, sampleMetrics, stopWordSet,
  type ChatMessage, type LoadedTokenizer, type SampleMetrics, type StopWords,
} from "@sailfin/data";
import {
  judgeSample, judgeSummary, recordEvalResults, resolveJudgeTarget, type EffectMetric, type EvalResult, type EvalRunSpec, type EvalUnitResult, type EvalUnitSpec, type Lease,
} from "@sailfin/engine";
import { crashReason, localArtifacts, type HandlerContext, type Outcome } from "../outcome.js";
import { RuntimeLink } from "../runtime-link.js";

/** One evaluation sample: the conversation so far, the prompt that `{input}` stands for, the reference answer. */
interface EvalSample {
  readonly history: ChatMessage[];
  readonly input: string;
  readonly reference: string;
}

/** Judge calls in flight at once: a remote judge is slow per call, and fine with a few in parallel. */
const JUDGE_CONCURRENCY = 4;
/** End-of-turn markers of common chat templates, besides the tokenizer's own eos. */
const END_OF_TURN = ["<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>", "</s>"];

/**
 * One attempt of an evaluation. For each version in turn: prompts are rendered with the
 * version's chat template and tokenized here; the runtime's `generate` recipe answers them (one
 * batched process per version); answers are decoded here, cut at stop strings, scored with the
 * rule metrics and, in `model` mode, by the judge; every sample's result is stored. A version
 * that cannot be evaluated (deleted, or its generation fails) is recorded as failed and the
 * others go on; the evaluation is PartlyDone then. A retry starts over (results are replaced).
 */
export async function runEvaluate(ctx: HandlerContext, lease: Lease): Promise<Outcome> {
  const { res } = ctx;
  const spec = JSON.parse(lease.row.spec) as EvalRunSpec;
  const store = localArtifacts(res);
  if (store === null) return { kind: "failed", failure: "system", reason: "evaluation needs a local artifact store" };
  const { local } = store;

  let samples: EvalSample[];
  try {
    samples = parseSamples(await readFile(local(spec.dataset.dataKey), "utf8"), spec.maxSamples);
  } catch (error) {
    return { kind: "failed", failure: "user", reason: `evaluation dataset ${spec.dataset.versionId}: ${(error as Error).message}` };
  }
  if (samples.length === 0) return { kind: "failed", failure: "user", reason: `evaluation dataset ${spec.dataset.versionId} has no samples` };
  const stopWords: StopWords | undefined = spec.stopWords === null ? undefined : stopWordSet(spec.stopWords);
  // A retried attempt starts over: the answers of a lost one go, fenced by this lease.
  if (!(await recordEvalResults(res.db, lease, [], { replace: true }))) return { kind: "lost" };

  const workDir = local(`runs/${lease.runId}`);
  await mkdir(workDir, { recursive: true });
  const units: EvalUnitResult[] = [];
  for (const unit of spec.units) {
    if (ctx.signal.aborted) return { kind: "stopped", reason: `stopped after ${units.length} of ${spec.units.length} model versions` };
    const outcome = await evaluateUnit(ctx, lease, spec, unit, samples, stopWords, workDir);
    if (outcome.kind === "lost") return { kind: "lost" };
    if (outcome.kind === "stopped") return { kind: "stopped", reason: `stopped while evaluating ${unit.modelVersionId}` };
    units.push(outcome.result);
  }
  if (units.every((u) => u.state === "Fail")) {
    return { kind: "failed", failure: "user", reason: units.map((u) => `${spec.units[u.index]!.modelVersionId}: ${u.message}`).join("; ") };
  }
  const result: EvalResult = { units, partly: units.some((u) => u.state !== "Done") };
  return { kind: "done", reason: `evaluated ${units.length} model versions on ${samples.length} samples`, result };
}

type UnitOutcome = { kind: "done"; result: EvalUnitResult } | { kind: "stopped" } | { kind: "lost" };

async function evaluateUnit(
  ctx: HandlerContext, lease: Lease, spec: EvalRunSpec, unit: EvalUnitSpec, samples: readonly EvalSample[],
  stopWords: StopWords | undefined, workDir: string,
): Promise<UnitOutcome> {
  const { res } = ctx;
  const failed = (message: string): UnitOutcome => ({
    kind: "done",
    result: { index: unit.index, state: "Fail", message, samples: 0, failedSamples: 0, generatedTokens: 0, tokensPerSecond: 0, sizeBytes: 0, effectMetric: {} },
  });
  const version = await res.db.selectFrom("model_versions").select(["artifact_path", "status", "size_bytes"]).where("num", "=", unit.modelVersionNum).executeTakeFirst();
  if (version === undefined || version.status !== "Ready" || version.artifact_path === null) return failed(`model version ${unit.modelVersionId} no longer exists or is not Ready`);
  const modelDir = res.artifacts.localPath(version.artifact_path.replace(/\/$/, ""))!;

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
    return failed(`preparing prompts: ${(error as Error).message}`);
  }
  const promptsFile = join(workDir, `unit-${unit.index}.prompts.jsonl`);
  const outputFile = join(workDir, `unit-${unit.index}.answers.jsonl`);
  await writeFile(promptsFile, prompts.map((p, i) => JSON.stringify({ id: String(i), ids: tok.encode(p) })).join("\n") + "\n");
  const eos = [...new Set([tok.templateTokens.eos_token, ...END_OF_TURN].filter((t): t is string => t !== undefined)
    .map((t) => tok.tokenToId(t)).filter((id): id is number => id !== undefined))];
  const stopSequences = unit.params.stop.map((s) => tok.encode(s)).filter((ids) => ids.length > 0);
  const specPath = join(workDir, `unit-${unit.index}.spec.attempt-${lease.attempt}.json`);
  await writeFile(specPath, `${JSON.stringify({
    version: 1, modelDir, promptsFile, outputFile, maxNewTokens: unit.params.maxOutputTokens,
    doSample: unit.params.temperature !== null, temperature: unit.params.temperature ?? 1, topP: unit.params.topP ?? 1, topK: 0,
    repetitionPenalty: unit.params.penaltyScore, eosTokenIds: eos, stopSequences, batchSize: 16, seed: spec.seed,
    device: process.env.SAILFIN_DEVICE ?? "auto", dtype: "auto",
  }, null, 2)}\n`);

  const share = 100 / spec.units.length;
  const link = new RuntimeLink({
    db: res.db, lease, artifactRoot: res.artifacts.localPath("")!, keepCheckpoints: 1, onLeaseLost: ctx.leaseLost,
    progressOffset: unit.index * share, progressScale: share * (spec.modes.includes("model") ? 0.7 : 1),
  });
  const run = await ctx.executor.run({ recipe: "generate", specPath, signal: ctx.signal, onLine: (line) => link.line(line) });
  if (!(await link.close())) return { kind: "lost" };
  const ending = link.ending;
  if (ending?.kind === "stopped" || ctx.signal.aborted) return { kind: "stopped" };
  if (ending?.kind !== "done" || run.exitCode !== 0) {
    return failed(crashReason(ending?.kind === "error" ? ending.message : "generation stopped without finishing", run.exitCode, run.signal, run.stderrTail));
  }
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
    const target = resolveJudgeTarget(res.judge, judge.url);
    judged = await mapLimit(samples, JUDGE_CONCURRENCY, async (sample, i) => {
      if (ctx.signal.aborted) return { score: null, error: "stopped" };
      if ("refused" in target) return { score: null, error: `judge endpoint refused by this worker: apiUrl ${target.refused}` };
      const r = await judgeSample({
        url: target.url, apiKey: target.apiKey, model: judge.model, timeoutMs: judge.timeoutMs, prompt: judge.prompt,
        question: sample.input, prediction: predictions[i]!.text, reference: sample.reference, signal: ctx.signal,
      });
      return r.ok ? { score: r.score, error: null } : { score: null, error: r.error.slice(0, 1_000) };
    });
    if (ctx.signal.aborted) return { kind: "stopped" };
  }

  const now = nowIso();
  const rows = samples.map((s, i) => ({
    unit_index: unit.index, model_version_num: unit.modelVersionNum, sample_index: i,
    prompt: prompts[i]!.length > 0 ? s.input : "", prediction: predictions[i]!.text, reference: s.reference, finish_reason: predictions[i]!.finishReason,
    metrics: JSON.stringify(spec.modes.includes("rule") ? metrics[i] : {}), judge_score: judged[i]!.score, judge_error: judged[i]!.error, created_at: now,
  }));
  if (!(await recordEvalResults(res.db, lease, rows))) return { kind: "lost" };

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
      sizeBytes: Number(version.size_bytes), effectMetric,
    },
  };
}

/** PromptResponse records: the last turn's prompt is the input, its first answer the reference. */
export function parseSamples(jsonl: string, max: number): EvalSample[] {
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

