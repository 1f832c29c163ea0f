import { Readable } from "node:stream";
import { IMPORT_STATUS, nowIso } from "@sailfin/contract";
import type { Transaction } from "kysely";
import { appendEvent, type Database } from "@sailfin/store";
import { ValidationCollector } from "@sailfin/data";
import { SYSTEM_ACTOR, type EngineResources } from "../resources.js";
import { resolveImportSources, type ImportSource } from "./import-sources.js";
import { datasetDataKey, findDatasetVersion, groupFormat, type DatasetVersionDetail, type StoredImportReport } from "./records.js";

/** Progress is written at most this often: a row update per chunk would dominate the import. */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * The background half of an import: validates every line of every source file and copies the
 * valid records, normalised, to `datasets/<versionId>/data.jsonl` in one streaming pass (the
 * store computes the sha256 on the way). Any invalid line, or no record at all, fails the
 * import (V1 `importStatus` 3) and the copy is removed; otherwise the version is imported
 * (status 2) with its counts. The validation report is kept on the version either way.
 */
export async function runDatasetImport(res: EngineResources, importNum: number): Promise<void> {
  const task = await res.db.selectFrom("dataset_imports").selectAll().where("num", "=", importNum).executeTakeFirst();
  if (task === undefined || task.status !== "Running") return;
  const files = JSON.parse(task.files) as string[];
  let detail: DatasetVersionDetail;
  try {
    detail = await findDatasetVersion(res.db, task.version_num, "versionId");
  } catch {
    await res.db.transaction().execute((trx) => finishTask(trx, task.num, task.id, "Failed", "the dataset version was deleted"));
    return;
  }
  const { version, group } = detail;
  const key = datasetDataKey(version.id);
  try {
    const sources = await resolveImportSources(res, files, (i) => `files[${i}]`);
    const collector = new ValidationCollector(groupFormat(group));
    const progress = progressWriter(res, version.num, sources);
    const stored = await res.artifacts.put(key, Readable.from(validatedRecords(res, collector, sources, progress)));
    const result = collector.report();
    const error = result.errorCount > 0
      ? `${result.errorCount} invalid line${result.errorCount === 1 ? "" : "s"}`
      : result.records === 0 ? "the files hold no records" : null;
    const report: StoredImportReport = { ...result, sha256: error === null ? stored.sha256 : null, importTaskId: task.id, files, error };
    if (error !== null) await res.artifacts.delete(key);
    await finish(res, task, version.id, report, error === null ? stored.size : 0, error === null ? key : null);
  } catch (error) {
    // Not the data's fault (a vanished file, a full disk): fail the import, keep the reason.
    res.log.error({ err: error, importTask: task.id }, "dataset import failed");
    const message = (error as Error).message;
    await res.artifacts.delete(key).catch(() => {});
    const report: StoredImportReport = { records: 0, characters: 0, bytes: 0, blankLines: 0, errorCount: 0, errors: [], truncated: 0, sha256: null, importTaskId: task.id, files, error: message };
    await finish(res, task, version.id, report, 0, null);
  }
}

async function* validatedRecords(
  res: EngineResources,
  collector: ValidationCollector,
  sources: readonly ImportSource[],
  progress: (bytes: number) => Promise<void>,
): AsyncGenerator<Buffer> {
  for (const source of sources) {
    const stream = await res.artifacts.get(source.key);
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        await progress(chunk.length);
        yield chunk;
      }
    }
    yield* collector.validate(counted(), sources.length > 1 ? source.uri : undefined);
  }
}

function progressWriter(res: EngineResources, versionNum: number, sources: readonly ImportSource[]) {
  const total = sources.reduce((sum, s) => sum + s.size, 0);
  let read = 0;
  let last = Date.now();
  return async (bytes: number): Promise<void> => {
    read += bytes;
    if (Date.now() - last < PROGRESS_INTERVAL_MS || total === 0) return;
    last = Date.now();
    // 99 at most: 100 is written with the final status.
    const percent = Math.min(99, Math.floor((read / total) * 100));
    await res.db.updateTable("dataset_versions").set({ import_progress: percent })
      .where("num", "=", versionNum).where("import_status", "=", IMPORT_STATUS.running).execute();
  };
}

/** Records the outcome on the version and the task in one transaction (a crash leaves both running, and the import is redone). */
async function finish(
  res: EngineResources, task: { num: number; id: string; version_num: number }, versionId: string,
  report: StoredImportReport, size: number, dataPath: string | null,
): Promise<void> {
  const ok = report.error === null;
  await res.db.transaction().execute(async (trx) => {
    await trx.updateTable("dataset_versions").set({
      import_status: ok ? IMPORT_STATUS.finished : IMPORT_STATUS.failed,
      import_progress: 100,
      record_count: report.records,
      char_count: report.characters,
      byte_size: size,
      error_count: report.errorCount,
      validation_report: JSON.stringify(report),
      data_path: dataPath,
      modified_at: nowIso(),
    }).where("num", "=", task.version_num).execute();
    await appendEvent(trx, {
      objectKind: "datasetVersion", objectId: versionId, actor: SYSTEM_ACTOR.accessKey, from: "Importing",
      to: ok ? "Imported" : "ImportFailed", reason: ok ? `${report.records} records` : report.error ?? undefined,
    });
    await finishTask(trx, task.num, task.id, ok ? "Finished" : "Failed", report.error);
  });
}

async function finishTask(trx: Transaction<Database>, num: number, id: string, status: "Finished" | "Failed", error: string | null): Promise<void> {
  await trx.updateTable("dataset_imports").set({ status, error, finished_at: nowIso() }).where("num", "=", num).execute();
  await appendEvent(trx, { objectKind: "datasetImport", objectId: id, actor: SYSTEM_ACTOR.accessKey, from: "Running", to: status, reason: error ?? undefined });
}
