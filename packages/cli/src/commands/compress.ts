import type { CompTaskItem } from "@sailfin/sdk";
import { bool, num, required, str } from "../args.js";
import type { Command } from "../command.js";
import { PAGE_SIZE } from "../connection.js";
import { json, record, table } from "../output.js";
import { bytes } from "../render/format.js";
import { waitUntilFinal } from "../render/wait.js";

/**
 * `sailfin compress …` over V2 `/v2/model?Action=…ModelCompTask`: quantize a model version into
 * a new version (weights W8A16C16 / INT8-PTQ: int8, W4A16C16: int4), measured before and after.
 */

const RUNNING = new Set(["creating", "running", "stopping"]);

export const compressCommands: Command[] = [
  {
    name: "compress create",
    usage: "--name NAME --model amv-… [--set am-…] --weight W8A16C16|W4A16C16|INT8-PTQ [--description TEXT] [--wait] [--json]",
    summary: "quantize a model version into a new version of --set (default: the source's own model)",
    flags: { name: { type: "string" }, model: { type: "string" }, set: { type: "string" }, weight: { type: "string" }, description: { type: "string" }, wait: { type: "boolean" }, interval: { type: "string", hidden: true } },
    async run(ctx, _args, flags) {
      const name = required(flags, "name", "compress create");
      const sourceModelId = required(flags, "model", "compress create");
      const weight = required(flags, "weight", "compress create");
      const description = str(flags, "description");
      const client = await ctx.client();
      const modelSetId = str(flags, "set") ?? (await client.models.describe({ modelId: sourceModelId })).modelSetId;
      const id = await client.compression.create({
        name, sourceModelId, modelSetId, config: { strategy: "Quantization", weight },
        ...(description === undefined ? {} : { description }),
      });
      if (!bool(flags, "wait")) {
        ctx.out(ctx.json ? json(id) : `started ${id}; \`sailfin compress show ${id}\` shows its progress`);
        return 0;
      }
      const task = await waitUntilFinal({
        label: id, quiet: ctx.json, intervalMs: (num(flags, "interval", { min: 0.05 }) ?? 1) * 1000,
        read: () => client.compression.describe({ modelCompTaskId: id }),
        status: (t) => t.status, progress: (t) => t.progress, isFinal: (s) => !RUNNING.has(s),
      });
      ctx.out(ctx.json ? json(task) : outcome(task));
      return task.status === "succeeded" ? 0 : 1;
    },
  },
  {
    name: "compress list",
    usage: "[--model amv-…] [--json]",
    summary: "list compression tasks (of one source version)",
    flags: { model: { type: "string" } },
    async run(ctx, _args, flags) {
      const model = str(flags, "model");
      const tasks = await (await ctx.client()).compression.list({ ...(model === undefined ? {} : { sourceModelId: model }), maxKeys: PAGE_SIZE }).toArray();
      ctx.out(ctx.json ? json(tasks) : table(tasks, ["id", "name", "status", "progress", "sourceModelId", "modelId", "createTime"]));
      return 0;
    },
  },
  {
    name: "compress show",
    usage: "amva-… [--json]",
    summary: "a compression task, with sizes and perplexity before and after",
    positionals: { names: ["TASK"], min: 1 },
    async run(ctx, [id]) {
      const task = await (await ctx.client()).compression.describe({ modelCompTaskId: id! });
      ctx.out(ctx.json ? json(task) : record(task));
      return 0;
    },
  },
  {
    name: "compress cancel",
    usage: "amva-…",
    summary: "cancel a queued or running compression task",
    positionals: { names: ["TASK"], min: 1 },
    async run(ctx, [id]) {
      const client = await ctx.client();
      await client.compression.cancel({ modelCompTaskId: id! });
      const task = await client.compression.describe({ modelCompTaskId: id! });
      ctx.out(ctx.json ? json(task) : `${id} ${task.status}`);
      return 0;
    },
  },
];

function outcome(task: CompTaskItem): string {
  if (task.status !== "succeeded") return `${task.id} ${task.status}${task.failedReason ? `: ${task.failedReason}` : ""}`;
  const size = task.sizeBeforeBytes !== undefined && task.sizeAfterBytes !== undefined ? `, ${bytes(task.sizeBeforeBytes)} → ${bytes(task.sizeAfterBytes)}` : "";
  const ppl = task.perplexityBefore != null && task.perplexityAfter != null
    ? `, perplexity ${task.perplexityBefore.toFixed(3)} → ${task.perplexityAfter.toFixed(3)} (${(task.perplexityDeltaPercent ?? 0) >= 0 ? "+" : ""}${task.perplexityDeltaPercent}%)` : "";
  return `${task.id} succeeded: new version ${task.modelId}${size}${ppl}`;
}
