import { findDatasetVersion, type DatasetVersionDetail } from "../datasets/records.js";
import { zipStream } from "../artifacts/zip-stream.js";
import type { Lease } from "../queue/lease.js";
import type { EngineResources } from "../resources.js";
import { failed, type RunOutcome } from "../runs/outcome.js";
import type { DatasetExportResult, DatasetExportSpec } from "./dataset-exports.js";
import { ExportLeaseLost, counted, progressMeter } from "./progress.js";

/**
 * One attempt of a `dataset-export` run: the version's imported JSONL, streamed through a zip
 * (one `<name>_V<n>.jsonl` entry: the Python SDK unzips the download and reads every file in it)
 * into Sailfin's storage or the user's bucket, published atomically by the store. Nothing is
 * held in memory but a chunk and zlib's window. A version whose data went away fails for good
 * (the user's); an interrupted attempt is retried.
 *
 * @example const outcome = await executeDatasetExport(res, lease, signal, spec);
 */
export async function executeDatasetExport(res: EngineResources, lease: Lease, signal: AbortSignal, spec: DatasetExportSpec): Promise<RunOutcome> {
  let detail: DatasetVersionDetail;
  try {
    detail = await findDatasetVersion(res.db, spec.versionNum, "versionId");
  } catch {
    return failed("user", `dataset version ${spec.versionId} was deleted`);
  }
  const { group, version } = detail;
  const dataKey = version.data_path;
  if (dataKey === null || (await res.artifacts.stat(dataKey)) === null) return failed("user", `dataset version ${spec.versionId} has no imported records any more`);
  const base = `${group.name.replace(/[^\p{L}\p{N}_-]+/gu, "_").slice(0, 60) || spec.versionId}_V${version.version}`;
  const fileName = `${base}_${Date.now()}.zip`;
  const key = spec.destination === "BOS" ? `buckets/${spec.bucket}/${spec.folder}${fileName}` : `exports/${lease.runId}/${fileName}`;
  const storagePath = spec.destination === "BOS" ? `bos:/${spec.bucket}/${spec.folder}${fileName}` : `/${key}`;
  const meter = progressMeter(res, lease, Number(version.byte_size));
  try {
    const zip = zipStream([{ name: `${base}.jsonl`, open: async () => counted(await res.artifacts.get(dataKey), meter, signal) }]);
    const put = await res.artifacts.put(key, zip);
    const result: DatasetExportResult = { key, fileName, storagePath, bytes: put.size, records: Number(version.record_count) };
    return { kind: "done", reason: `exported ${result.records} records to ${storagePath}`, result };
  } catch (error) {
    if (meter.lost || error instanceof ExportLeaseLost) return { kind: "lost" };
    if (signal.aborted) return failed("system", "the export was interrupted");
    res.log.error({ err: error, exportTask: lease.runId }, "dataset export failed");
    return failed("system", `the export could not be written: ${(error as Error).message}`);
  }
}
