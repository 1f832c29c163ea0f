import { basename } from "node:path";
import type { EvalExportTask, SailfinClient } from "@sailfin/sdk";
import { str } from "../args.js";
import type { Command } from "../command.js";
import { CliError } from "../errors.js";
import { writeFileStream } from "../file-streams.js";
import { json, record } from "../output.js";
import { bytes } from "../render/format.js";
import { byteProgress } from "../render/progress.js";

/**
 * `sailfin exports …`: evaluation-result exports (DescribeEvalResultExportTask). A local export
 * is a zip behind a signed `downloadUrl`, which `download` streams to a file.
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
];

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
