import type { BodyInput, CreateEvalTaskBody, EvalTaskReport } from "@sailfin/sdk";
import { bool, int, list, num, required, str, type FlagValues } from "../args.js";
import type { Command, Context } from "../command.js";
import { PAGE_SIZE } from "../connection.js";
import { UsageError } from "../errors.js";
import { json, record, table } from "../output.js";
import { bytes } from "../render/format.js";
import { waitUntilFinal } from "../render/wait.js";
import { downloadExport } from "./exports.js";

/**
 * `sailfin evals …` over V2 `/v2/eval`: evaluate model versions on a dataset (rule metrics,
 * and a judge model for `model` mode), read the report, export the per-sample results.
 */

const DEFAULT_CONTENT = ["prompt", "prediction", "completion", "metrics"];
const EVAL_RUNNING = new Set(["Queued", "Running", "Stopping"]);
const EXPORT_RUNNING = new Set(["Pending", "Uploading"]);
const intervalOf = (flags: FlagValues) => (num(flags, "interval", { min: 0.05 }) ?? 1) * 1000;

export const evalsCommands: Command[] = [
  {
    name: "evals create",
    usage: "--name NAME --dataset ds-… --model amv-… [--model amv-…] [--template '{input}'] [--mode rule,model] [--judge-url URL] " +
      "[--judge-model NAME] [--max-output-tokens N] [--temperature X] [--description TEXT] [--wait] [--json]",
    summary: "evaluate model versions on a released dataset (mode: rule metrics, and/or a judge model)",
    flags: {
      name: { type: "string" }, dataset: { type: "string" }, model: { type: "string", multiple: true }, template: { type: "string" },
      mode: { type: "string" }, "judge-url": { type: "string" }, "judge-model": { type: "string" }, "max-output-tokens": { type: "string" },
      temperature: { type: "string" }, description: { type: "string" }, wait: { type: "boolean" }, interval: { type: "string", hidden: true },
    },
    run: (ctx, _args, flags) => create(ctx, flags),
  },
  {
    name: "evals list",
    usage: "[--filter TEXT] [--json]",
    summary: "list evaluations (names containing TEXT)",
    flags: { filter: { type: "string" } },
    async run(ctx, _args, flags) {
      const filter = str(flags, "filter");
      const tasks = await (await ctx.client()).evaluations.list({ ...(filter === undefined ? {} : { keyFilter: filter }), maxKeys: PAGE_SIZE }).toArray();
      if (ctx.json) ctx.out(json(tasks));
      else ctx.out(table(tasks.map((t) => ({ ...t, models: t.models.map((m) => m.modelName) })), ["taskId", "taskName", "state", "progress", "evalMode", "models", "createTime"]));
      return 0;
    },
  },
  {
    name: "evals show",
    usage: "ame-… [--json]",
    summary: "an evaluation and the state of each evaluated version",
    positionals: { names: ["EVAL"], min: 1 },
    async run(ctx, [id]) {
      const task = await (await ctx.client()).evaluations.describe({ taskId: id! });
      if (ctx.json) ctx.out(json(task));
      else {
        ctx.out(record(task, ["taskId", "taskName", "description", "state", "progress", "failReason", "evalMode", "datasetVersionId", "createTime", "finishTime"]));
        ctx.out(`\n${table(task.models, ["modelId", "modelName", "state", "message"])}`);
      }
      return 0;
    },
  },
  {
    name: "evals report",
    usage: "ame-… [--json]",
    summary: "the metrics of each evaluated version (once the evaluation has finished)",
    positionals: { names: ["EVAL"], min: 1 },
    async run(ctx, [id]) {
      const report = await (await ctx.client()).evaluations.report({ taskId: id! });
      if (ctx.json) {
        ctx.out(json(report));
        return 0;
      }
      // Scalar metrics as columns (rouge_l, bleu4, accuracy, avgJudgeScore, …); distributions stay in --json.
      const metricNames = [...new Set(report.reports.flatMap((r) => scalarMetricNames(r.effectMetric)))];
      const rows = report.reports.map((r) => ({ model: r.modelName, modelId: r.modelId, samples: r.samples, failed: r.failedSamples, ...r.effectMetric }));
      ctx.out(table(rows, ["model", "modelId", "samples", "failed", ...metricNames]));
      return 0;
    },
  },
  {
    name: "evals export",
    usage: "ame-… [--storage BUCKET] [--content prompt,prediction,…] [--results ID,ID] [--wait] [--output FILE] [--json]",
    summary: "export per-sample results: a local zip (downloaded with --output), or into a bucket with --storage",
    flags: {
      storage: { type: "string" }, content: { type: "string", multiple: true }, results: { type: "string", multiple: true },
      wait: { type: "boolean" }, output: { type: "string" }, interval: { type: "string", hidden: true },
    },
    positionals: { names: ["EVAL"], min: 1 },
    run: (ctx, [id], flags) => exportResults(ctx, id!, flags),
  },
];

async function create(ctx: Context, flags: FlagValues): Promise<number> {
  const models = list(flags, "model");
  if (models.length === 0) throw new UsageError("`evals create` needs --model amv-… (one or more model versions)");
  const template = str(flags, "template");
  const maxOutputTokens = int(flags, "max-output-tokens", { min: 1 });
  const temperature = num(flags, "temperature");
  const params = { ...(maxOutputTokens === undefined ? {} : { max_output_tokens: maxOutputTokens }), ...(temperature === undefined ? {} : { temperature }) };
  const judgeUrl = str(flags, "judge-url");
  const judgeModel = str(flags, "judge-model");
  const description = str(flags, "description");
  const body: BodyInput<typeof CreateEvalTaskBody> = {
    taskName: required(flags, "name", "evals create"),
    ...(description === undefined ? {} : { description }),
    evalObjectType: "model",
    evalObjectConfig: {
      evalModelConfig: {
        versionId: required(flags, "dataset", "evals create"),
        evalModelConfigList: models.map((modelId) => ({
          modelId, ...(template === undefined ? {} : { promptTemplate: template }), ...(Object.keys(params).length === 0 ? {} : { inferenceParams: params }),
        })),
      },
    },
    evalConfig: {
      evalMode: list(flags, "mode").join(",") || "rule",
      ...(judgeUrl === undefined && judgeModel === undefined ? {} : {
        autoModelEvalConfig: { ...(judgeUrl === undefined ? {} : { apiUrl: judgeUrl }), ...(judgeModel === undefined ? {} : { apiName: judgeModel }) },
      }),
    },
  };
  const client = await ctx.client();
  const id = await client.evaluations.create(body);
  if (!bool(flags, "wait")) {
    ctx.out(ctx.json ? json(id) : `started ${id}; \`sailfin evals show ${id}\` shows its progress`);
    return 0;
  }
  const task = await waitUntilFinal({
    label: id, quiet: ctx.json, intervalMs: intervalOf(flags),
    read: () => client.evaluations.describe({ taskId: id }),
    status: (t) => t.state, progress: (t) => t.progress, isFinal: (s) => !EVAL_RUNNING.has(s),
  });
  if (ctx.json) ctx.out(json(task));
  else ctx.out(task.state === "Successed" ? `${id} finished: \`sailfin evals report ${id}\`` : `${id} ${task.state}${task.failReason ? `: ${task.failReason}` : ""}`);
  return task.state === "Successed" ? 0 : 1;
}

async function exportResults(ctx: Context, evalId: string, flags: FlagValues): Promise<number> {
  const bucket = str(flags, "storage");
  const output = str(flags, "output");
  if (bucket !== undefined && output !== undefined) throw new UsageError("--output downloads a local export: leave out --storage (a bucket export stays in the bucket)");
  const content = list(flags, "content");
  // Result ids are the numbers V1's eval/result/list gives; digits are sent as numbers.
  const results = list(flags, "results").map((r) => (/^\d+$/.test(r) ? Number(r) : r));
  const client = await ctx.client();
  const id = await client.exports.create({
    evalId, storageType: bucket === undefined ? "sysStorage" : "BOS",
    ...(bucket === undefined ? {} : { bucket }),
    // V2 requires the columns; the default is the SDK's four.
    exportContent: content.length === 0 ? DEFAULT_CONTENT : content,
    ...(results.length === 0 ? {} : { exportOpt: "part", resultIds: results }),
  });
  if (!bool(flags, "wait") && output === undefined) {
    ctx.out(ctx.json ? json(id) : `started ${id}; \`sailfin exports show ${id}\` shows when it is done`);
    return 0;
  }
  const task = await waitUntilFinal({
    label: id, quiet: ctx.json, intervalMs: intervalOf(flags),
    read: () => client.exports.describe({ exportTaskId: id }),
    status: (t) => t.state, progress: () => null, isFinal: (s) => !EXPORT_RUNNING.has(s),
  });
  if (task.state !== "Done" || output === undefined) {
    if (ctx.json) ctx.out(json(task));
    else ctx.out(task.state === "Done" ? `${id} Done: ${task.downloadUrl || `bos:/${task.bucket}/${task.exportPath}`}` : `${id} ${task.state}${task.failReason ? `: ${task.failReason}` : ""}`);
    return task.state === "Done" ? 0 : 1;
  }
  const size = await downloadExport(client, task, output);
  ctx.out(ctx.json ? json({ ...task, file: output, bytes: size }) : `${id} Done: saved ${output} (${bytes(size)})`);
  return 0;
}

/** The names of a report's scalar metrics (rouge_l, bleu4, accuracy, avgJudgeScore, …), in its order. */
function scalarMetricNames(metric: EvalTaskReport["reports"][number]["effectMetric"]): string[] {
  return Object.entries(metric).filter(([, value]) => typeof value === "number").map(([name]) => name);
}
