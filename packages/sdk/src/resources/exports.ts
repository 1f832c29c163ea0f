import type {
  BodyInput, CreateEvalResultExportTaskBody, DescribeEvalResultExportTaskBody, EvalExportTask,
} from "@sailfin/contract/api";
import type { CallOptions, DownloadStream, DownloadedFile, Transport } from "../transport.js";

/**
 * Evaluation-result exports (V2 `/v2/eval?Action=…EvalResultExportTask`), and the download (whole
 * or streamed) of any export's `downloadUrl`: evaluation results, datasets
 * (`client.datasets.describeExport`) and models (`client.models.describeExport`).
 */
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
   * Downloads a finished export from its `downloadUrl`, which carries its own credential (signed
   * by the server, or presigned by S3): no access key is sent.
   *
   * @example
   * const task = await client.exports.describe({ exportTaskId });
   * if (task.state === "Done") { const { bytes, fileName } = await client.exports.download(task); }
   */
  download(from: DownloadSource, options?: CallOptions): Promise<DownloadedFile> {
    const url = downloadUrlOf(from);
    return url === undefined ? Promise.reject(noLink()) : this.#t.download(url, options);
  }

  /**
   * As `download`, but streamed: resolves once the server answers, the zip's bytes still to be
   * read from `body` (with its `size`, when sent). For exports too large to hold in memory.
   *
   * @example
   * const { body, size } = await client.exports.stream(task);
   * await pipeline(Readable.fromWeb(body), createWriteStream("results.zip")); // Node
   */
  stream(from: DownloadSource, options?: CallOptions): Promise<DownloadStream> {
    const url = downloadUrlOf(from);
    return url === undefined ? Promise.reject(noLink()) : this.#t.downloadStream(url, options);
  }
}

/** Anything with a `downloadUrl` (an export task of any kind), or the link itself. */
type DownloadSource = { readonly downloadUrl?: string } | string;

/** The link of a task or the link itself; undefined when the task has none. */
function downloadUrlOf(from: DownloadSource): string | undefined {
  const url = typeof from === "string" ? from : from.downloadUrl;
  return url === "" ? undefined : url;
}

function noLink(): Error {
  return new Error("the export has no download link (not finished, or exported into a bucket)");
}
