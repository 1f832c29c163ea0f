import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { ApiError, envClient, type Client } from "../client.js";
import { table } from "../output.js";
import type { CommandDef } from "./index.js";

export const DATASETS_USAGE = `sailfin datasets upload FILE --name NAME --format FORMAT [--json]   upload, validate and release a JSONL dataset
    FORMAT: PromptResponse, PromptSortedresponses, DPO_PromptChosenRejected, KTO_PromptChosenRejected, Text, Messages
sailfin datasets list [--json]
sailfin datasets show ds-… [--json]   a dataset version, or a dataset's versions`;

/** The bucket the CLI uploads dataset files into (each upload gets its own folder). */
const UPLOAD_BUCKET = "uploads";
/** Errors printed after a failed import (the server keeps the first 100). */
const SHOWN_ERRORS = 20;

type Flags = Record<string, string | string[] | boolean | undefined>;
type Out = (line: string) => void;

interface LineError { file?: string; line: number; field: string; reason: string }
interface ErrorInfo { errorCount: number; errors: LineError[]; truncated: number; message: string }
interface DatasetRow { datasetId: string; datasetName: string; dataFormat: string; versionCount?: number; latestVersion?: number; createTime: string }
interface VersionRow {
  datasetId: string; datasetName: string; versionId: string; version: number; dataFormat: string; importStatus: string;
  publishStatus: string; sampleCount: number; characterCount: number; storageSize: number; contentHash: string;
  importErrorInfo: ErrorInfo | null; createTime: string;
}
interface ImportTask { taskId: string; importStatus: string; errorMessage: string; importErrorInfo: ErrorInfo | null }

export const datasetsCommand: CommandDef = {
  name: "datasets",
  usage: DATASETS_USAGE,
  async run(args, flags, out) {
    const [sub, ...rest] = args;
    switch (sub) {
      case "upload": return upload(rest, flags, out);
      case "list": return list(flags, out);
      case "show": return show(rest, flags, out);
      default: throw new Error(`usage:\n${DATASETS_USAGE}`);
    }
  },
};


/**
 * Streams FILE into the uploads bucket, creates a dataset of FORMAT, imports the file (the
 * server validates every line), waits for the import, then releases the version. A file with
 * invalid lines exits 1 after printing them (`line 12, [0].response: ...`).
 */
async function upload(args: string[], flags: Flags, out: Out): Promise<number> {
  const file = args[0];
  const name = typeof flags.name === "string" ? flags.name : undefined;
  const format = typeof flags.format === "string" ? flags.format : undefined;
  if (file === undefined || name === undefined || format === undefined) {
    throw new Error("usage: sailfin datasets upload FILE --name NAME --format FORMAT [--json]");
  }
  const json = flags.json === true;
  const say = (line: string) => { if (!json) out(line); };
  const api = envClient();
  const { size } = await stat(file);
  // A safe object name whatever the local one is (spaces, non-ASCII): the URI is shown to users.
  const objectName = basename(file).replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_") || "data.jsonl";
  const objectPath = `${new Date().toISOString().slice(0, 10)}-${randomBytes(6).toString("hex")}/${objectName}`;
  say(`uploading ${file} (${size} bytes)`);
  const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
  await api.upload(`/sailfin/v1/objects/${UPLOAD_BUCKET}/${objectPath}`, body, size);
  const uri = `bos:/${UPLOAD_BUCKET}/${objectPath}`;

  const created = await api.v2<{ datasetId: string; versionId: string }>("dataset", "CreateDataset", {
    datasetName: name, dataFormat: format, storageType: "sysStorage",
  });
  say(`created dataset ${created.datasetId}, version ${created.versionId}; importing ${uri}`);
  const taskId = await api.v2<string>("dataset", "CreateImportTask", { versionId: created.versionId, files: [uri] });
  const task = await waitForImport(api, taskId);
  let version = await api.v2<VersionRow>("dataset", "DescribeDatasetVersion", { versionId: created.versionId });
  if (task.importStatus !== "Finished") {
    if (json) out(JSON.stringify(version, null, 2));
    else printFailure(version, task, out);
    return 1;
  }
  await api.v2("dataset", "PublishDatasetVersion", { versionId: created.versionId });
  version = await api.v2<VersionRow>("dataset", "DescribeDatasetVersion", { versionId: created.versionId });
  if (json) out(JSON.stringify(version, null, 2));
  else {
    out(`imported ${version.sampleCount} records (${version.characterCount} characters), sha256 ${version.contentHash}`);
    out(`released ${version.versionId}`);
  }
  return 0;
}

/** Polls the import task until it ends (validation reads the file once: seconds for most files). */
async function waitForImport(api: Client, taskId: string): Promise<ImportTask> {
  let delay = 100;
  for (;;) {
    const task = await api.v2<ImportTask>("dataset", "DescribeImportTask", { taskId });
    if (task.importStatus !== "Running") return task;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 2000);
  }
}

function printFailure(version: VersionRow, task: ImportTask, out: Out): void {
  const info = version.importErrorInfo;
  out(`import failed: ${task.errorMessage || info?.message || "unknown reason"}`);
  for (const e of (info?.errors ?? []).slice(0, SHOWN_ERRORS)) {
    out(`${e.file ? `${e.file}: ` : ""}line ${e.line}, ${e.field}: ${e.reason}`);
  }
  const more = (info?.errorCount ?? 0) - Math.min(SHOWN_ERRORS, info?.errors.length ?? 0);
  if (more > 0) out(`… and ${more} more invalid line${more === 1 ? "" : "s"}`);
  out(`dataset version ${version.versionId} was not released; fix the file and upload it again`);
}

async function list(flags: Flags, out: Out): Promise<number> {
  const api = envClient();
  const rows: DatasetRow[] = [];
  let marker: string | undefined;
  do {
    const page = await api.v2<{ datasets: DatasetRow[]; pageInfo: { isTruncated: boolean; nextMarker?: string } }>(
      "dataset", "DescribeDatasets", { maxKeys: 100, ...(marker === undefined ? {} : { marker }) },
    );
    rows.push(...page.datasets);
    marker = page.pageInfo.isTruncated ? page.pageInfo.nextMarker : undefined;
  } while (marker !== undefined);
  out(flags.json === true ? JSON.stringify(rows, null, 2) : table(rows as never, ["datasetId", "datasetName", "dataFormat", "versionCount", "latestVersion", "createTime"]));
  return 0;
}

/** `ds-` ids name both datasets and versions: a version is tried first, then a dataset. */
async function show(args: string[], flags: Flags, out: Out): Promise<number> {
  const id = args[0];
  if (id === undefined) throw new Error("usage: sailfin datasets show ds-…");
  const api = envClient();
  try {
    const version = await api.v2<VersionRow>("dataset", "DescribeDatasetVersion", { versionId: id });
    if (flags.json === true) out(JSON.stringify(version, null, 2));
    else {
      for (const key of ["versionId", "datasetId", "datasetName", "version", "dataFormat", "importStatus", "publishStatus", "sampleCount", "characterCount", "storageSize", "contentHash", "createTime"] as const) {
        out(`${key}: ${String(version[key])}`);
      }
      for (const e of version.importErrorInfo?.errors ?? []) out(`${e.file ? `${e.file}: ` : ""}line ${e.line}, ${e.field}: ${e.reason}`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 400) throw error;
  }
  const { versions } = await api.v2<{ versions: VersionRow[] }>("dataset", "DescribeDatasetVersions", { datasetId: id, maxKeys: 100 });
  out(flags.json === true ? JSON.stringify(versions, null, 2) : table(versions as never, ["versionId", "version", "dataFormat", "importStatus", "publishStatus", "sampleCount", "createTime"]));
  return 0;
}
