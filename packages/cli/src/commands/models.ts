import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { writeTinyModel } from "@sailfin/engine";
import { envClient, type Client } from "../client.js";
import { table } from "../output.js";
import type { CommandDef } from "./index.js";

export const MODELS_USAGE = `sailfin models import DIR --name NAME [--json]   upload a Hugging Face folder and register it as a base model
sailfin models list [--json]
sailfin models show am-…|amv-… [--json]
sailfin models create-tiny DIR [--arch llama|qwen2]   write a tiny RANDOM-weight model (for demos and tests only)`;

/** The bucket the CLI uploads model folders into (each import gets its own folder in it). */
const IMPORT_BUCKET = "models-import";

type Flags = Record<string, string | string[] | boolean | undefined>;
type Out = (line: string) => void;

interface ModelSet { modelSetId: string; modelSetName: string; modelType: string; modelCount?: number; modelIds: string[]; createTime: string }
interface ModelVersion { modelId: string; modelSetId: string; modelName: string; status: string; failReason?: string; [key: string]: unknown }

export const modelsCommand: CommandDef = {
  name: "models",
  usage: MODELS_USAGE,
  async run(args, flags, out) {
    const [sub, ...rest] = args;
    switch (sub) {
      case "import": return importModel(rest, flags, out);
      case "list": return listModels(flags, out);
      case "show": return showModel(rest, flags, out);
      case "create-tiny": return createTiny(rest, flags, out);
      default: throw new Error(`usage:\n${MODELS_USAGE}`);
    }
  },
};


async function importModel(args: string[], flags: Flags, out: Out): Promise<number> {
  const dir = args[0];
  const name = typeof flags.name === "string" ? flags.name : undefined;
  if (dir === undefined || name === undefined) throw new Error("usage: sailfin models import DIR --name NAME [--json]");
  const json = flags.json === true;
  const api = envClient();
  const files = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
  if (files.length === 0) throw new Error(`${dir} holds no files`);
  const folder = `${new Date().toISOString().slice(0, 10)}-${randomBytes(6).toString("hex")}`;
  for (const file of files) {
    const path = join(dir, file);
    const { size } = await stat(path);
    if (!json) out(`uploading ${file} (${size} bytes)`);
    // Streamed: a multi-gigabyte shard never sits in memory.
    const body = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
    await api.upload(`/sailfin/v1/objects/${IMPORT_BUCKET}/${folder}/${encodeURIComponent(file)}`, body, size);
  }
  const set = await findOrCreateSet(api, name);
  const created = await api.v2<{ modelId: string }>("model", "CreateCustomModel", {
    modelSetId: set.modelSetId, sourceType: "Import", importMeta: { bucket: IMPORT_BUCKET, objectPath: `${folder}/` },
  });
  if (!json) out(`checking ${created.modelId} …`);
  const version = await waitForVersion(api, created.modelId);
  if (json) out(JSON.stringify(version, null, 2));
  if (version.status === "Ready") {
    if (!json) out(`${version.modelId} Ready: base model "${name}" (set ${set.modelSetId})`);
    return 0;
  }
  if (!json) out(`${version.modelId} Fail: ${version.failReason ?? "unknown reason"}`);
  return 1;
}

async function findOrCreateSet(api: Client, name: string): Promise<{ modelSetId: string }> {
  try {
    return await api.v2<ModelSet>("model", "DescribeModelSet", { modelSetName: name });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status !== 400) throw error;
  }
  const modelSetId = await api.v2<string>("model", "CreateCustomModelSet", { modelSetName: name, modelType: "Text2Text" });
  return { modelSetId };
}

/** Polls DescribeModel until the import finishes (checks read headers only: seconds, not minutes). */
async function waitForVersion(api: Client, modelId: string): Promise<ModelVersion> {
  let delay = 200;
  for (;;) {
    const version = await api.v2<ModelVersion>("model", "DescribeModel", { modelId });
    if (version.status !== "Creating") return version;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 2000);
  }
}

async function listModels(flags: Flags, out: Out): Promise<number> {
  const api = envClient();
  const sets: ModelSet[] = [];
  let marker: string | undefined;
  do {
    const page = await api.v2<{ customModelSetList: ModelSet[]; pageInfo: { isTruncated: boolean; nextMarker?: string } }>(
      "model", "DescribeCustomModelSets", { maxKeys: 100, ...(marker === undefined ? {} : { marker }) },
    );
    sets.push(...page.customModelSetList);
    marker = page.pageInfo.isTruncated ? page.pageInfo.nextMarker : undefined;
  } while (marker !== undefined);
  if (flags.json === true) out(JSON.stringify(sets, null, 2));
  else {
    const rows = sets.map((s) => ({ ...s, latestVersion: s.modelIds[0] ?? "" }));
    out(table(rows, ["modelSetId", "modelSetName", "modelType", "modelCount", "latestVersion", "createTime"]));
  }
  return 0;
}

async function showModel(args: string[], flags: Flags, out: Out): Promise<number> {
  const id = args[0];
  if (id === undefined) throw new Error("usage: sailfin models show am-…|amv-…");
  const api = envClient();
  let result: Record<string, unknown>;
  if (id.startsWith("amv-")) result = await api.v2("model", "DescribeModel", { modelId: id });
  else if (id.startsWith("am-")) result = await api.v2("model", "DescribeModelSet", { modelSetId: id });
  else throw new Error(`${id} is neither a model (am-…) nor a model version (amv-…)`);
  if (flags.json === true) out(JSON.stringify(result, null, 2));
  else for (const [key, value] of Object.entries(result)) out(`${key.padEnd(22)} ${typeof value === "object" ? JSON.stringify(value) : String(value)}`);
  return 0;
}

async function createTiny(args: string[], flags: Flags, out: Out): Promise<number> {
  const dir = args[0];
  if (dir === undefined) throw new Error("usage: sailfin models create-tiny DIR [--arch llama|qwen2]");
  const arch = typeof flags.arch === "string" ? flags.arch : "qwen2";
  if (arch !== "llama" && arch !== "qwen2") throw new Error("--arch must be llama or qwen2");
  const info = await writeTinyModel(resolve(dir), { architecture: arch, seed: 0 });
  out(`wrote a tiny ${arch} model with RANDOM weights (${info.parameterCount} parameters) to ${info.dir}`);
  out("It is for demos and tests only: it generates noise. Import it with: sailfin models import DIR --name NAME");
  return 0;
}
