import type { BodyInput, CreateFineTuningTaskBody, FineTuningTaskDetail, FineTuningTaskQuote } from "@sailfin/sdk";
import { bool, int, keyValues, list, num, required, str, type FlagValues } from "../args.js";
import type { Command, Context } from "../command.js";
import { PAGE_SIZE } from "../connection.js";
import { CliError, UsageError } from "../errors.js";
import { json, record, table } from "../output.js";
import { canAsk, confirm } from "../prompt.js";
import { clock, count } from "../render/format.js";
import { TASK_COLUMNS } from "./jobs.js";
import { metricsSince, watchCommand } from "./task-watch.js";

/**
 * `sailfin tasks …` over V2 `/v2/finetuning`: a task is one training run of a job. `create`
 * shows the quote (DescribeFineTuningTaskQuote: tokens, steps, ETA) and asks before starting,
 * unless `--yes`; `watch` (task-watch.ts) follows a run live.
 */

const CREATE_FLAGS = {
  job: { type: "string" }, dataset: { type: "string", multiple: true }, scale: { type: "string" },
  epoch: { type: "string" }, "learning-rate": { type: "string" }, "batch-size": { type: "string" },
  "max-seq-len": { type: "string" }, "split-ratio": { type: "string" }, param: { type: "string", multiple: true },
  description: { type: "string" }, from: { type: "string" }, "from-step": { type: "string" },
} as const;
const CREATE_USAGE = "--job job-… --dataset ds-… [--dataset ds-…] [--scale LoRA|FullFineTuning] [--epoch N] [--learning-rate X] " +
  "[--batch-size N] [--max-seq-len N] [--split-ratio N] [--param KEY=VALUE…] [--from TASK [--from-step N]] [--description TEXT]";

export const tasksCommands: Command[] = [
  {
    name: "tasks create",
    usage: `${CREATE_USAGE} [--yes] [--json]`,
    summary: "start a training run: shows the quote (tokens, steps, ETA) and asks first unless --yes",
    flags: { ...CREATE_FLAGS, yes: { type: "boolean", short: "y" } },
    run: (ctx, _args, flags) => create(ctx, flags),
  },
  {
    name: "tasks quote",
    usage: `${CREATE_USAGE} [--json]`,
    summary: "what `tasks create` with the same flags would train, and for how long (starts nothing)",
    flags: CREATE_FLAGS,
    async run(ctx, _args, flags) {
      const quote = await (await ctx.client()).tasks.quote(taskBody(flags, "tasks quote"));
      if (ctx.json) ctx.out(json(quote));
      else for (const line of quoteLines(quote)) ctx.out(line);
      return 0;
    },
  },
  {
    name: "tasks list",
    usage: "[--job JOB] [--json]",
    summary: "list training tasks (of one job, or of every job)",
    flags: { job: { type: "string" } },
    async run(ctx, _args, flags) {
      const client = await ctx.client();
      const job = str(flags, "job");
      const jobIds = job !== undefined ? [job] : (await client.jobs.list({ maxKeys: PAGE_SIZE }).toArray()).map((j) => j.jobId);
      const tasks: FineTuningTaskDetail[] = [];
      for (const jobId of jobIds) tasks.push(...await client.tasks.list({ jobId, maxKeys: PAGE_SIZE }).toArray());
      ctx.out(ctx.json ? json(tasks) : table(tasks, TASK_COLUMNS));
      return 0;
    },
  },
  {
    name: "tasks show",
    usage: "TASK [--json]",
    summary: "a task: status, hyper-parameters, datasets, where it ran and checkpoints",
    positionals: { names: ["TASK"], min: 1 },
    async run(ctx, [taskId]) {
      const task = await (await ctx.client()).tasks.describe({ taskId: taskId! });
      if (ctx.json) {
        ctx.out(json(task));
        return 0;
      }
      ctx.out(record(task, [
        "taskId", "jobId", "jobName", "model", "trainMode", "parameterScale", "runStatus", "runProgress", "failureReason", "failureKind",
        "description", "createDate", "finishDate", "hyperParameterConfig", "datasetConfig", "resourceConfig", "incrementTaskId", "incrementCheckpointStep", "vdlLink",
      ]));
      if (task.checkpointList.length > 0) ctx.out(`\n${table(task.checkpointList, ["step", "trainingLoss", "perplexity"])}`);
      return 0;
    },
  },
  {
    name: "tasks stop",
    usage: "TASK",
    summary: "stop a waiting or running task (a running one saves a checkpoint first)",
    positionals: { names: ["TASK"], min: 1 },
    async run(ctx, [taskId]) {
      const client = await ctx.client();
      await client.tasks.stop({ taskId: taskId! });
      const task = await client.tasks.describe({ taskId: taskId! });
      if (ctx.json) ctx.out(json(task));
      else ctx.out(task.runStatus === "Stopped" ? `stopped ${taskId}` : `stopping ${taskId} (${task.runStatus}); \`sailfin tasks watch ${taskId}\` shows when it has`);
      return 0;
    },
  },
  {
    name: "tasks pause",
    usage: "TASK",
    summary: "pause a waiting or running task: a running one saves a checkpoint and frees its worker",
    positionals: { names: ["TASK"], min: 1 },
    async run(ctx, [taskId]) {
      const client = await ctx.client();
      await client.tasks.pause({ taskId: taskId! });
      const task = await client.tasks.describe({ taskId: taskId! });
      if (ctx.json) ctx.out(json(task));
      else ctx.out(task.runStatus === "Paused" ? `paused ${taskId}` : `pausing ${taskId} (${task.runStatus}); \`sailfin tasks watch ${taskId}\` shows when it has`);
      return 0;
    },
  },
  {
    name: "tasks resume",
    usage: "TASK",
    summary: "resume a paused task from its latest checkpoint",
    positionals: { names: ["TASK"], min: 1 },
    async run(ctx, [taskId]) {
      const client = await ctx.client();
      await client.tasks.resume({ taskId: taskId! });
      const task = await client.tasks.describe({ taskId: taskId! });
      if (ctx.json) ctx.out(json(task));
      else ctx.out(`resumed ${taskId} (${task.runStatus})`);
      return 0;
    },
  },
  watchCommand,
  {
    name: "tasks metrics",
    usage: "TASK [--since STEP] [--json]",
    summary: "a task's metric series (loss, learning rate, tokens/s, eval loss) by step",
    flags: { since: { type: "string" } },
    positionals: { names: ["TASK"], min: 1 },
    async run(ctx, [taskId], flags) {
      const since = int(flags, "since", { min: 0 });
      const metrics = await metricsSince(await ctx.client(), taskId!, since);
      ctx.out(ctx.json ? json(metrics) : table(metrics, ["step", "epoch", "loss", "lr", "gradNorm", "tokensPerSecond", "evalLoss"]));
      return 0;
    },
  },
];

/** The CreateFineTuningTask body (the quote takes the same one) from the flags. */
function taskBody(flags: FlagValues, command: string): BodyInput<typeof CreateFineTuningTaskBody> {
  const datasets = list(flags, "dataset");
  if (datasets.length === 0) throw new UsageError(`\`${command}\` needs --dataset ds-… (a released dataset version)`);
  const hyper: Record<string, unknown> = {};
  const put = (key: string, value: number | undefined) => { if (value !== undefined) hyper[key] = value; };
  put("epoch", int(flags, "epoch", { min: 1 }));
  put("learningRate", num(flags, "learning-rate", { min: 0 }));
  put("batchSize", int(flags, "batch-size", { min: 1 }));
  put("maxSeqLen", int(flags, "max-seq-len", { min: 1 }));
  Object.assign(hyper, keyValues(flags, "param"));
  const splitRatio = int(flags, "split-ratio", { min: 0, max: 20 });
  const scale = str(flags, "scale");
  const description = str(flags, "description");
  const from = str(flags, "from");
  const fromStep = int(flags, "from-step", { min: 0 });
  if (fromStep !== undefined && from === undefined) throw new UsageError("--from-step needs --from TASK");
  return {
    jobId: required(flags, "job", command),
    ...(scale === undefined ? {} : { parameterScale: scale }),
    hyperParameterConfig: hyper,
    datasetConfig: { sourceType: "Platform", versions: datasets.map((versionId) => ({ versionId })), ...(splitRatio === undefined ? {} : { splitRatio }) },
    ...(description === undefined ? {} : { description }),
    ...(from === undefined ? {} : { incrementTaskId: from }),
    ...(fromStep === undefined ? {} : { incrementCheckpointStep: fromStep }),
  };
}

function quoteLines(quote: FineTuningTaskQuote): string[] {
  const eta = quote.etaSeconds === null || quote.tokensPerSecond === null
    ? "unknown (no run of this model shape has finished here yet)"
    : `${clock(Math.max(1, quote.etaSeconds))} of training at ${count(quote.tokensPerSecond)} tok/s (median of ${quote.throughputRuns} finished run${quote.throughputRuns === 1 ? "" : "s"} of this model shape)`;
  return [
    `${quote.trainMode} ${quote.parameterScale}: ${count(quote.examples)} training examples, ${count(quote.validationRows)} validation rows`,
    `trained tokens  ${count(quote.trainedTokensPerEpoch)} × ${quote.epochs} epoch${quote.epochs === 1 ? "" : "s"} = ${count(quote.trainedTokens)}`,
    `steps           ${count(quote.totalSteps)} (${count(quote.stepsPerEpoch)} per epoch)`,
    `ETA             ${eta}`,
  ];
}

async function create(ctx: Context, flags: FlagValues): Promise<number> {
  const body = taskBody(flags, "tasks create");
  const yes = bool(flags, "yes");
  if (!yes && !canAsk()) {
    throw new UsageError("`tasks create` asks before starting, and stdin is not a terminal: pass --yes to start without asking (`sailfin tasks quote` with the same flags shows the cost)");
  }
  const client = await ctx.client();
  if (!yes) {
    const quote = await client.tasks.quote(body);
    // The question and its quote go to stderr under --json: stdout stays the result alone.
    const show = ctx.json ? (line: string) => process.stderr.write(`${line}\n`) : ctx.out;
    for (const line of quoteLines(quote)) show(line);
    if (!await confirm("Start?")) throw new CliError("not started");
  }
  const created = await client.tasks.create(body);
  if (ctx.json) ctx.out(json(created));
  else ctx.out(`started ${created.taskId} in ${created.jobId}; follow it with: sailfin tasks watch ${created.taskId}`);
  return 0;
}
