import type { TrainMode } from "@sailfin/sdk";
import { required, str } from "../args.js";
import type { Command } from "../command.js";
import { PAGE_SIZE } from "../connection.js";
import { CliError } from "../errors.js";
import { json, record, table } from "../output.js";

/**
 * `sailfin jobs …` over V2 `/v2/finetuning`: a job is the container (a name, a base model, a
 * training mode); its tasks are the training runs (`sailfin tasks …`).
 */

const JOB_COLUMNS = ["jobId", "name", "model", "trainMode", "createTime"];
export const TASK_COLUMNS = ["taskId", "jobId", "parameterScale", "runStatus", "runProgress", "createDate", "finishDate"];

export const jobsCommands: Command[] = [
  {
    name: "jobs create",
    usage: "--name NAME --model MODEL [--train-mode SFT|DPO|KTO|PostPretrain] [--description TEXT] [--json]",
    summary: "create a fine-tuning job on a base model (MODEL: a model name from `sailfin models list`)",
    flags: { name: { type: "string" }, model: { type: "string" }, "train-mode": { type: "string" }, description: { type: "string" } },
    async run(ctx, _args, flags) {
      const description = str(flags, "description");
      const body = {
        name: required(flags, "name", "jobs create"), model: required(flags, "model", "jobs create"),
        // Not checked here: the server's error names a mode it does not know.
        trainMode: (str(flags, "train-mode") ?? "SFT") as TrainMode, ...(description === undefined ? {} : { description }),
      };
      const created = await (await ctx.client()).jobs.create(body);
      ctx.out(ctx.json ? json(created) : `created job ${created.jobId}`);
      return 0;
    },
  },
  {
    name: "jobs list",
    usage: "[--model MODEL] [--train-mode MODE] [--json]",
    summary: "list fine-tuning jobs",
    flags: { model: { type: "string" }, "train-mode": { type: "string" } },
    async run(ctx, _args, flags) {
      const model = str(flags, "model");
      const trainMode = str(flags, "train-mode");
      const jobs = await (await ctx.client()).jobs.list({
        ...(model === undefined ? {} : { model }), ...(trainMode === undefined ? {} : { trainMode }), maxKeys: PAGE_SIZE,
      }).toArray();
      ctx.out(ctx.json ? json(jobs) : table(jobs, JOB_COLUMNS));
      return 0;
    },
  },
  {
    name: "jobs show",
    usage: "JOB [--json]",
    summary: "a job and its tasks",
    positionals: { names: ["JOB"], min: 1 },
    async run(ctx, [jobId]) {
      const client = await ctx.client();
      // Listing the job's tasks first: the server names an unknown job in its answer.
      const tasks = await client.tasks.list({ jobId: jobId!, maxKeys: PAGE_SIZE }).toArray();
      const jobs = await client.jobs.list({ maxKeys: PAGE_SIZE }).toArray();
      const job = jobs.find((j) => j.jobId === jobId);
      if (job === undefined) throw new CliError(`no job ${jobId}`);
      if (ctx.json) ctx.out(json({ ...job, taskList: tasks }));
      else {
        ctx.out(record(job, ["jobId", "name", "description", "model", "trainMode", "createTime"]));
        ctx.out("");
        ctx.out(tasks.length === 0 ? "no tasks yet: start one with `sailfin tasks create --job ...`" : table(tasks, TASK_COLUMNS));
      }
      return 0;
    },
  },
  {
    name: "jobs delete",
    usage: "JOB",
    summary: "delete a job (refused while one of its tasks runs or has a published model)",
    positionals: { names: ["JOB"], min: 1 },
    async run(ctx, [jobId]) {
      await (await ctx.client()).jobs.delete({ jobId: jobId! });
      ctx.say(`deleted ${jobId}`);
      if (ctx.json) ctx.out(json(true));
      return 0;
    },
  },
];
