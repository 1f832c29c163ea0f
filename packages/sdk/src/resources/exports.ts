import type {
  BodyInput, CreateEvalResultExportTaskBody, DescribeEvalResultExportTaskBody, EvalExportTask,
} from "@sailfin/contract/api";
import type { CallOptions, DownloadedFile, Transport } from "../transport.js";

/** Evaluation-result exports (V2 `/v2/eval?Action=…EvalResultExportTask`) and their download. */
export class Exports {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** CreateEvalResultExportTask; resolves to the export id (`amemt-…`). */
  create(body: BodyInput<typeof CreateEvalResultExportTaskBody>, options?: CallOptions): Promise<string> {
    return this.#t.v2("eval", "CreateEvalResultExportTask", body, options);
  }

  /** DescribeEvalResultExportTask by `exportTaskId`, or by `evalId` (its latest export). */
  describe(body: BodyInput<typeof DescribeEvalResultExportTaskBody>, options?: CallOptions): Promise<EvalExportTask> {
    return this.#t.v2("eval", "DescribeEvalResultExportTask", body, options);
  }

  /**
   * Downloads a finished local export (a zip) from its `downloadUrl`, which the server signed
   * itself: no access key is sent.
   *
   * @example
   * const task = await client.exports.describe({ exportTaskId });
   * if (task.state === "Done") { const { bytes, fileName } = await client.exports.download(task); }
   */
  download(from: Pick<EvalExportTask, "downloadUrl"> | string, options?: CallOptions): Promise<DownloadedFile> {
    const url = typeof from === "string" ? from : from.downloadUrl;
    if (url === "") return Promise.reject(new Error("the export has no download link (not finished, or exported into a bucket)"));
    return this.#t.download(url, options);
  }
}
