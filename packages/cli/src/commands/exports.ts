import { basename } from "node:path";
import type { DatasetExportTaskDetail, EvalExportTask, ModelExportTaskDetail, SailfinClient } from "@sailfin/sdk";
import { num, str, type FlagValues } from "../args.js";
import type { Command, Context } from "../command.js";
import { CliError, UsageError } from "../errors.js";
import { writeFileStream } from "../file-streams.js";
import { json, record } from "../output.js";
import { bytes } from "../render/format.js";
import { byteProgress } from "../render/progress.js";
import { waitUntilFinal } from "../render/wait.js";

/**
 * `sailfin exports …`: evaluation-result exports (DescribeEvalResultExportTask), and exporting a
 * dataset version (a zip of its records) or a model version (a tar of its files), waiting and
 * downloading with `--output`. A finished export into Sailfin's storage has a `downloadUrl` that
 * carries its own credential (signed by the server, or presigned by S3), streamed to a file.
 */

export const exportsCommands: Command[] = [
  {
    name: "exports show",
    usage: "amemt-… [--json]",
    summary: "an evaluation-result export: state, where it went, its download link",
    positionals: { names: ["EXPORT"], min: 1 },
    async run(ctx, [id]) {
      const task = await (await ctx.client()).exports.describe({ exportTaskId: id! });
      ctx.out(ctx.json ? json(task) : record(task));
      return 0;
    },
  },
  {
    name: "exports download",
    usage: "amemt-… [--output FILE]",
    summary: "download a finished local export (a zip; default file: amemt-….zip)",
    flags: { output: { type: "string" } },
    positionals: { names: ["EXPORT"], min: 1 },
    async run(ctx, [id], flags) {
      const client = await ctx.client();
      const task = await client.exports.describe({ exportTaskId: id! });
      const file = str(flags, "output") ?? `${id}.zip`;
      const size = await downloadExport(client, task, file);
      ctx.out(ctx.json ? json({ exportTaskId: id, file, bytes: size }) : `saved ${file} (${bytes(size)})`);
      return 0;
    },
  },
  {
    name: "exports dataset",
    usage: "ds-… [--storage bos:/bucket/dir/] [--output FILE] [--json]",
    summary: "export a dataset version's records as a zip (into a bucket folder with --storage); --output waits and downloads it",
    flags: { storage: { type: "string" }, output: { type: "string" }, interval: { type: "string", hidden: true } },
    positionals: { names: ["VERSION"], min: 1 },
    async run(ctx, [versionId], flags) {
      const client = await ctx.client();
      const storage = str(flags, "storage");
      refuseOutputToBucket(flags);
      const id = await client.datasets.createExport({ versionId: versionId!, storageType: storage === undefined ? "sysStorage" : "BOS", ...(storage === undefined ? {} : { storagePath: storage }) });
      const task = await waitUntilFinal({
        label: id, quiet: ctx.json, intervalMs: intervalOf(flags),
        read: () => client.datasets.describeExport({ taskId: id }),
        status: (t) => t.exportStatus, progress: (t) => Number.parseInt(t.progress, 10) || 0, isFinal: (s) => s !== "Exporting",
      });
      if (task.exportStatus !== "ExportFinished") throw new CliError(`export ${id} failed: ${task.errorMessage || "no reason recorded"}`);
      return finish(ctx, client, { id, storagePath: task.storagePath, downloadUrl: task.downloadUrl, task }, flags);
    },
  },
  {
    name: "exports model",
    usage: "amv-… [--storage bos:/bucket/dir/] [--output FILE] [--json]",
    summary: "export a model version's files as a tar (into a bucket folder with --storage); --output waits and downloads it",
    flags: { storage: { type: "string" }, output: { type: "string" }, interval: { type: "string", hidden: true } },
    positionals: { names: ["MODEL"], min: 1 },
    async run(ctx, [modelId], flags) {
      const client = await ctx.client();
      const storage = str(flags, "storage");
      refuseOutputToBucket(flags);
      const { exportId } = await client.models.createExport({ modelId: modelId!, ...(storage === undefined ? {} : { storagePath: storage }) });
      const task = await waitUntilFinal<ModelExportTaskDetail>({
        label: exportId, quiet: ctx.json, intervalMs: intervalOf(flags),
        read: () => client.models.describeExport({ modelId: modelId! }),
        // A failed export drops out of DescribeModelExportTask (no record, or an older one).
        status: (t) => (t.hasRecord && t.exportId === exportId ? t.status : "Fail"), progress: () => null, isFinal: (s) => s !== "Doing",
      });
      if (!task.hasRecord || task.exportId !== exportId || task.status !== "Done") throw new CliError(`export ${exportId} failed or was stopped`);
      return finish(ctx, client, { id: exportId, storagePath: task.storagePath ?? "", downloadUrl: task.downloadUrl ?? "", task }, flags);
    },
  },
];

/** A bucket export stays in the bucket: refused before anything starts. */
function refuseOutputToBucket(flags: FlagValues): void {
  if (str(flags, "storage") !== undefined && str(flags, "output") !== undefined) {
    throw new UsageError("--output downloads an export into Sailfin's storage: leave out --storage (a bucket export stays in the bucket)");
  }
}

const intervalOf = (flags: FlagValues) => (num(flags, "interval", { min: 0.05 }) ?? 1) * 1000;

/** Prints where a finished dataset or model export is, or downloads it to `--output`. */
async function finish(
  ctx: Context, client: SailfinClient, done: { id: string; storagePath: string; downloadUrl: string; task: DatasetExportTaskDetail | ModelExportTaskDetail }, flags: FlagValues,
): Promise<number> {
  const output = str(flags, "output");
  if (output === undefined) {
    ctx.out(ctx.json ? json(done.task) : `${done.id} done: ${done.downloadUrl || done.storagePath}`);
    return 0;
  }
  if (done.downloadUrl === "") throw new CliError(`export ${done.id} went to ${done.storagePath}: --output downloads exports into Sailfin's storage only`);
  const progress = byteProgress(process.stderr, `downloading ${basename(output)}`);
  const download = await client.exports.stream(done.downloadUrl);
  progress.start(download.size);
  const size = await writeFileStream(download.body, output, (n) => progress.add(n));
  progress.done();
  ctx.out(ctx.json ? json({ ...done.task, file: output, bytes: size }) : `${done.id} done: saved ${output} (${bytes(size)})`);
  return 0;
}

/** Streams a finished local export into `file` (byte progress on a terminal); refuses, saying why, when there is nothing to download. */
export async function downloadExport(client: SailfinClient, task: EvalExportTask, file: string): Promise<number> {
  if (task.state === "Fail") throw new CliError(`export ${task.exportTaskId} failed: ${task.failReason || "no reason recorded"}`);
  if (task.state !== "Done") throw new CliError(`export ${task.exportTaskId} is ${task.state}, not Done yet: try again shortly (\`sailfin exports show ${task.exportTaskId}\`)`);
  if (task.downloadUrl === "") {
    throw new CliError(`export ${task.exportTaskId} went to bucket ${task.bucket} (${task.exportPath}): only local exports are downloaded`);
  }
  const progress = byteProgress(process.stderr, `downloading ${basename(file)}`);
  const download = await client.exports.stream(task);
  progress.start(download.size);
  const size = await writeFileStream(download.body, file, (n) => progress.add(n));
  progress.done();
  return size;
}
