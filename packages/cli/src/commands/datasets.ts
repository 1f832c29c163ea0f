import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { SailfinApiError, type DatasetVersionItem, type ImportLineError, type ImportTaskDetail, type SailfinClient } from "@sailfin/sdk";
import { bool, required, str } from "../args.js";
import type { Command, Context } from "../command.js";
import { PAGE_SIZE } from "../connection.js";
import { readFileStream } from "../file-streams.js";
import { json, record, table } from "../output.js";
import { byteProgress } from "../render/progress.js";

/**
 * `sailfin datasets …` over V2 `/v2/dataset`: upload (stream the file into the uploads bucket,
 * create the dataset, import and validate every line, release), list, show, release.
 */

/** The bucket the CLI uploads dataset files into (each upload gets its own folder). */
const UPLOAD_BUCKET = "uploads";
/** Errors printed after a failed import (the server keeps the first 100). */
const SHOWN_ERRORS = 20;
const FORMATS = "PromptResponse|PromptSortedresponses|DPO_PromptChosenRejected|KTO_PromptChosenRejected|Text|Messages";

const VERSION_KEYS = [
  "versionId", "datasetId", "datasetName", "version", "dataFormat", "importStatus", "publishStatus", "sampleCount",
  "characterCount", "storageSize", "contentHash", "createTime",
];

export const datasetsCommands: Command[] = [
  {
    name: "datasets upload",
    usage: `FILE --name NAME --format ${FORMATS} [--no-release] [--json]`,
    summary: "upload a JSONL file (byte progress on a terminal), validate every line, release it",
    flags: { name: { type: "string" }, format: { type: "string" }, "no-release": { type: "boolean" } },
    positionals: { names: ["FILE"], min: 1 },
    run: (ctx, [file], flags) => upload(ctx, file!, required(flags, "name", "datasets upload"), required(flags, "format", "datasets upload"), !bool(flags, "no-release")),
  },
  {
    name: "datasets list",
    usage: "[--name TEXT] [--json]",
    summary: "list datasets",
    flags: { name: { type: "string" } },
    async run(ctx, _args, flags) {
      const name = str(flags, "name");
      const rows = await (await ctx.client()).datasets.list({ ...(name === undefined ? {} : { filter: { datasetName: name } }), maxKeys: PAGE_SIZE }).toArray();
      ctx.out(ctx.json ? json(rows) : table(rows, ["datasetId", "datasetName", "dataFormat", "versionCount", "latestVersion", "createTime"]));
      return 0;
    },
  },
  {
    name: "datasets show",
    usage: "ds-… [--json]",
    summary: "a dataset version, or a dataset's versions",
    positionals: { names: ["ID"], min: 1 },
    run: (ctx, [id]) => show(ctx, id!),
  },
  {
    name: "datasets release",
    usage: "ds-… [--json]",
    summary: "release (publish) an imported dataset version so that training can use it",
    positionals: { names: ["VERSION"], min: 1 },
    async run(ctx, [versionId]) {
      const client = await ctx.client();
      await client.datasets.publishVersion({ versionId: versionId! });
      const version = await client.datasets.describeVersion({ versionId: versionId! });
      if (ctx.json) ctx.out(json(version));
      else ctx.out(`released ${version.versionId} (${version.datasetName} v${version.version}, ${version.sampleCount} records): ${version.publishStatus}`);
      return 0;
    },
  },
];

/**
 * Streams FILE into the uploads bucket, creates a dataset of FORMAT, imports the file (the
 * server validates every line), waits for the import, then releases the version. A file with
 * invalid lines exits 1 after printing them (`line 12, [0].response: ...`).
 */
async function upload(ctx: Context, file: string, name: string, format: string, release: boolean): Promise<number> {
  const { size } = await stat(file);
  const client = await ctx.client();
  // A safe object name whatever the local one is (spaces, non-ASCII): the URI is shown to users.
  const objectName = basename(file).replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_") || "data.jsonl";
  const objectPath = `${new Date().toISOString().slice(0, 10)}-${randomBytes(6).toString("hex")}/${objectName}`;
  ctx.say(`uploading ${file} (${size} bytes)`);
  const progress = byteProgress(process.stderr, `uploading ${basename(file)}`, size);
  const { uri } = await client.datasets.upload({ bucket: UPLOAD_BUCKET, path: objectPath, body: readFileStream(file, (n) => progress.add(n)) });
  progress.done();

  const created = await client.datasets.create({ datasetName: name, dataFormat: format, storageType: "sysStorage" });
  ctx.say(`created dataset ${created.datasetId}, version ${created.versionId}; importing ${uri}`);
  const taskId = await client.datasets.createImportTask({ versionId: created.versionId, files: [uri] });
  const task = await waitForImport(client, taskId);
  let version = await client.datasets.describeVersion({ versionId: created.versionId });
  if (task.importStatus !== "Finished") {
    if (ctx.json) ctx.out(json(version));
    else printFailure(version, task, ctx.out);
    return 1;
  }
  if (release) {
    await client.datasets.publishVersion({ versionId: created.versionId });
    version = await client.datasets.describeVersion({ versionId: created.versionId });
  }
  if (ctx.json) ctx.out(json(version));
  else {
    ctx.out(`imported ${version.sampleCount} records (${version.characterCount} characters)${version.contentHash ? `, sha256 ${version.contentHash}` : ""}`);
    ctx.out(release ? `released ${version.versionId}` : `imported ${version.versionId}; release it with: sailfin datasets release ${version.versionId}`);
  }
  return 0;
}

/** Polls the import task until it ends (validation reads the file once: seconds for most files). */
async function waitForImport(client: SailfinClient, taskId: string): Promise<ImportTaskDetail> {
  let delay = 100;
  for (;;) {
    const task = await client.datasets.describeImportTask({ taskId });
    if (task.importStatus !== "Running" && task.importStatus !== "NotStarted") return task;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 2000);
  }
}

function printFailure(version: DatasetVersionItem, task: ImportTaskDetail, out: (line: string) => void): void {
  const info = version.importErrorInfo;
  out(`import failed: ${task.errorMessage || info?.message || "unknown reason"}`);
  for (const e of (info?.errors ?? []).slice(0, SHOWN_ERRORS)) out(lineError(e));
  const more = (info?.errorCount ?? 0) - Math.min(SHOWN_ERRORS, info?.errors.length ?? 0);
  if (more > 0) out(`… and ${more} more invalid line${more === 1 ? "" : "s"}`);
  out(`dataset version ${version.versionId} was not released; fix the file and upload it again`);
}

const lineError = (e: ImportLineError) => `${e.file ? `${e.file}: ` : ""}line ${e.line}, ${e.field}: ${e.reason}`;

/** `ds-` ids name both datasets and versions: a version is tried first, then a dataset. */
async function show(ctx: Context, id: string): Promise<number> {
  const client = await ctx.client();
  try {
    const version = await client.datasets.describeVersion({ versionId: id });
    if (ctx.json) ctx.out(json(version));
    else {
      ctx.out(record(version, VERSION_KEYS));
      for (const e of version.importErrorInfo?.errors ?? []) ctx.out(lineError(e));
    }
    return 0;
  } catch (error) {
    if (!(error instanceof SailfinApiError) || error.httpStatus !== 400) throw error;
  }
  const versions = await client.datasets.listVersions({ datasetId: id, maxKeys: PAGE_SIZE }).toArray();
  ctx.out(ctx.json ? json(versions) : table(versions, ["versionId", "version", "dataFormat", "importStatus", "publishStatus", "sampleCount", "createTime"]));
  return 0;
}
