import { randomBytes } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { SailfinApiError, type ModelSetDetail, type ModelVersionDetail, type SailfinClient } from "@sailfin/sdk";
import { bool, int, required, str } from "../args.js";
import type { Command, Context } from "../command.js";
import { PAGE_SIZE } from "../connection.js";
import { CliError, UsageError } from "../errors.js";
import { readFileStream } from "../file-streams.js";
import { json, record, table } from "../output.js";
import { byteProgress } from "../render/progress.js";

/**
 * `sailfin models …` over V2 `/v2/model`: import a Hugging Face folder as a base model, list,
 * show, publish a fine-tuning task's checkpoint as a new version, and write a tiny random model.
 */

/** The bucket the CLI uploads model folders into (each import gets its own folder in it). */
const IMPORT_BUCKET = "models-import";

export const modelsCommands: Command[] = [
  {
    name: "models import",
    usage: "DIR --name NAME [--json]",
    summary: "upload a Hugging Face folder and register it as a base model (a new version of NAME)",
    flags: { name: { type: "string" } },
    positionals: { names: ["DIR"], min: 1 },
    run: (ctx, [dir], flags) => importModel(ctx, dir!, required(flags, "name", "models import")),
  },
  {
    name: "models list",
    usage: "[--json]",
    summary: "list models (model sets) with their latest version",
    async run(ctx) {
      const sets = await (await ctx.client()).models.listSets({ maxKeys: PAGE_SIZE }).toArray();
      if (ctx.json) ctx.out(json(sets));
      else ctx.out(table(sets.map((s) => ({ ...s, latestVersion: s.modelIds[0] ?? "" })), ["modelSetId", "modelSetName", "modelType", "modelCount", "latestVersion", "createTime"]));
      return 0;
    },
  },
  {
    name: "models show",
    usage: "am-…|amv-… [--json]",
    summary: "a model (set) or a model version",
    positionals: { names: ["ID"], min: 1 },
    async run(ctx, [id]) {
      const client = await ctx.client();
      let result: ModelVersionDetail | ModelSetDetail;
      if (id!.startsWith("amv-")) result = await client.models.describe({ modelId: id! });
      else if (id!.startsWith("am-")) result = await client.models.describeSet({ modelSetId: id! });
      else throw new UsageError(`${id} is neither a model (am-…) nor a model version (amv-…)`);
      ctx.out(ctx.json ? json(result) : record(result));
      return 0;
    },
  },
  {
    name: "models publish",
    usage: "TASK (--set am-…|--name NAME) [--step N] [--description TEXT] [--no-wait] [--json]",
    summary: "publish a fine-tuning task's checkpoint (default: its last) as a new model version",
    flags: { set: { type: "string" }, name: { type: "string" }, step: { type: "string" }, description: { type: "string" }, "no-wait": { type: "boolean" } },
    positionals: { names: ["TASK"], min: 1 },
    run: (ctx, [taskId], flags) => publish(ctx, taskId!, flags),
  },
  {
    name: "models create-tiny",
    usage: "DIR [--arch llama|qwen2|qwen3|ernie4_5|mistral|gemma2|gemma3_text]",
    summary: "write a tiny RANDOM-weight model (for demos and tests only)",
    client: false,
    flags: { arch: { type: "string" } },
    positionals: { names: ["DIR"], min: 1 },
    async run(ctx, [dir], flags) {
      const arch = str(flags, "arch") ?? "qwen2";
      // Loaded on use: the engine (tokenizers, safetensors) would slow every other command's start.
      const { writeTinyModel, MODEL_FAMILIES } = await import("@sailfin/engine");
      const family = MODEL_FAMILIES.find((f) => f === arch);
      if (family === undefined) throw new UsageError(`--arch must be one of ${MODEL_FAMILIES.join(", ")}, got '${arch}'`);
      const info = await writeTinyModel(resolve(dir!), { architecture: family, seed: 0 });
      ctx.out(`wrote a tiny ${arch} model with RANDOM weights (${info.parameterCount} parameters) to ${info.dir}`);
      ctx.out("It is for demos and tests only: it generates noise. Import it with: sailfin models import DIR --name NAME");
      return 0;
    },
  },
];

async function importModel(ctx: Context, dir: string, name: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => e.name).sort();
  if (files.length === 0) throw new CliError(`${dir} holds no files`);
  const client = await ctx.client();
  const folder = `${new Date().toISOString().slice(0, 10)}-${randomBytes(6).toString("hex")}`;
  for (const file of files) {
    const path = join(dir, file);
    const { size } = await stat(path);
    ctx.say(`uploading ${file} (${size} bytes)`);
    const progress = byteProgress(process.stderr, `uploading ${file}`, size);
    await client.models.upload({ bucket: IMPORT_BUCKET, path: `${folder}/${file}`, body: readFileStream(path, (n) => progress.add(n)) });
    progress.done();
  }
  const set = await findOrCreateSet(client, name);
  const created = await client.models.create({
    modelSetId: set.modelSetId, sourceType: "Import", importMeta: { bucket: IMPORT_BUCKET, objectPath: `${folder}/` },
  });
  ctx.say(`checking ${created.modelId} …`);
  const version = await waitForVersion(client, created.modelId);
  if (ctx.json) ctx.out(json(version));
  if (version.status === "Ready") {
    ctx.say(`${version.modelId} Ready: base model "${name}" (set ${set.modelSetId})`);
    return 0;
  }
  ctx.say(`${version.modelId} Fail: ${version.failReason ?? "unknown reason"}`);
  return 1;
}

async function publish(ctx: Context, taskId: string, flags: Parameters<Command["run"]>[2]): Promise<number> {
  const setFlag = str(flags, "set");
  const name = str(flags, "name");
  if ((setFlag === undefined) === (name === undefined)) throw new UsageError("`models publish` needs either --set am-… (an existing model) or --name NAME (found or created)");
  const step = int(flags, "step", { min: 0 });
  const description = str(flags, "description");
  const client = await ctx.client();
  const set = setFlag !== undefined ? { modelSetId: setFlag } : await findOrCreateSet(client, name!);
  const created = await client.models.create({
    modelSetId: set.modelSetId, sourceType: "Train",
    trainMeta: { taskId, ...(step === undefined ? {} : { checkpointStep: step }) },
    ...(description === undefined ? {} : { description }),
  });
  if (bool(flags, "no-wait")) {
    ctx.out(ctx.json ? json(created) : `${created.modelId} ${created.status}: ${created.modelName} (from ${taskId}); the worker exports it`);
    return 0;
  }
  ctx.say(`exporting ${created.modelId} (${created.modelName}) from ${taskId} …`);
  const version = await waitForVersion(client, created.modelId);
  if (ctx.json) ctx.out(json(version));
  else ctx.out(version.status === "Ready" ? `${version.modelId} Ready: ${version.modelName}` : `${version.modelId} Fail: ${version.failReason ?? "unknown reason"}`);
  return version.status === "Ready" ? 0 : 1;
}

async function findOrCreateSet(client: SailfinClient, name: string): Promise<{ modelSetId: string }> {
  try {
    return await client.models.describeSet({ modelSetName: name });
  } catch (error) {
    if (!(error instanceof SailfinApiError) || error.httpStatus !== 400) throw error;
  }
  const modelSetId = await client.models.createSet({ modelSetName: name, modelType: "Text2Text" });
  return { modelSetId };
}

/** Polls DescribeModel until the version leaves Creating (an import checks headers only: seconds; a publish exports the weights). */
async function waitForVersion(client: SailfinClient, modelId: string): Promise<ModelVersionDetail> {
  let delay = 200;
  for (;;) {
    const version = await client.models.describe({ modelId });
    if (version.status !== "Creating") return version;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 2000);
  }
}
