import { Readable } from "node:stream";
import { nowIso } from "@sailfin/contract";
import type { Transaction } from "kysely";
import { appendEvent, type Database } from "@sailfin/store";
import { ValidationCollector } from "@sailfin/data";
import { leaseHeld, type ImportOutcome, type SettleImport } from "../import-outcome.js";
import type { Lease } from "../queue/lease.js";
import { SYSTEM_ACTOR, type EngineResources } from "../resources.js";
import { resolveImportSources, type ImportSource } from "./import-sources.js";
import { datasetDataKey, findDatasetVersion, groupFormat, type DatasetVersionDetail, type StoredImportReport } from "./records.js";

/** Progress is written at most this often: a row update per chunk would dominate the import. */
const PROGRESS_INTERVAL_MS = 1000;

/** `runs.spec` of a `dataset-import` run: the import task it carries out (the run's id is the task's). */
export interface DatasetImportSpec {
  readonly importNum: number;
}

/** `runs.result` of a finished import run. */
interface DatasetImportResult {
  readonly records: number;
  readonly errorCount: number;
  readonly sha256: string | null;
}

/**
 * One attempt of a `dataset-import` run: validates every line of every source file and copies
 * the valid records, normalised, to `datasets/<versionId>/data.jsonl` in one streaming pass (the
 * store computes the sha256 on the way, and publishes the file atomically: an attempt cut short
 * leaves nothing visible). Any invalid line, or no record at all, rejects the import
 * (ImportFailed; invalid lines, no record, a vanished file) and the copy is removed; otherwise
 * the version is Imported with its counts; `settle` writes the version's and the task's
 * verdict. The validation report is kept on the version either way. Progress is written
 * fenced by the lease; the copy itself is not (an attempt that lost its lease writes the same
 * bytes from the same files), its verdict is (`settle`).
 *
 * @example const outcome = await executeDatasetImport(res, lease, signal, { importNum }); // then completeRun(…, { extra: outcome.settle })
 */
export async function executeDatasetImport(res: EngineResources, lease: Lease, signal: AbortSignal, spec: DatasetImportSpec): Promise<ImportOutcome> {
  const { importNum } = spec;
  const task = await res.db.selectFrom("dataset_imports").selectAll().where("num", "=", importNum).executeTakeFirst();
  // Settled by an earlier attempt whose run then failed to finish, or removed with its version.
  if (task === undefined || task.status !== "Running") {
    return { kind: "rejected", reason: "the import task is no longer running", settle: async () => {} };
  }
  const files = JSON.parse(task.files) as string[];
  let detail: DatasetVersionDetail;
  try {
    detail = await findDatasetVersion(res.db, task.version_num, "versionId");
  } catch {
    const reason = "the dataset version was deleted";
    return { kind: "rejected", reason, settle: (trx) => finishTask(trx, task.num, task.id, "Failed", reason) };
  }
  const { version, group } = detail;
  const key = datasetDataKey(version.id);
  const fence = fencedProgress(res, lease, version.num);
  let report: StoredImportReport;
  let size = 0;
  try {
    const sources = await resolveImportSources(res, files, (i) => `files[${i}]`);
    const collector = new ValidationCollector(groupFormat(group));
    const progress = progressWriter(fence, sources);
    const stored = await res.artifacts.put(key, Readable.from(validatedRecords(res, collector, sources, progress, signal)));
    const result = collector.report();
    const error = result.errorCount > 0
      ? `${result.errorCount} invalid line${result.errorCount === 1 ? "" : "s"}`
      : result.records === 0 ? "the files hold no records" : null;
    report = { ...result, sha256: error === null ? stored.sha256 : null, importTaskId: task.id, files, error };
    size = error === null ? stored.size : 0;
    // Removed only while this attempt still holds the run: a new holder's copy is not ours to delete.
    if (error !== null && (await leaseHeld(res.db, lease))) await res.artifacts.delete(key);
  } catch (error) {
    if (signal.aborted || error instanceof LeaseLostError) return { kind: "interrupted" };
    // Not the data's fault (a vanished file, a full disk): reject the import, keep the reason.
    res.log.error({ err: error, importTask: task.id }, "dataset import failed");
    if (await leaseHeld(res.db, lease)) await res.artifacts.delete(key).catch(() => {});
    report = failedReport(task.id, files, (error as Error).message);
  }
  const settle: SettleImport = (trx) => finish(trx, task, version.id, report, size, report.error === null ? key : null);
  if (report.error !== null) return { kind: "rejected", reason: report.error, settle };
  return {
    kind: "imported", reason: `imported ${report.records} records into ${version.id}`,
    result: { records: report.records, errorCount: report.errorCount, sha256: report.sha256 } satisfies DatasetImportResult, settle,
  };
}

/** Thrown into the copy when a fenced progress write finds the lease gone. */
class LeaseLostError extends Error {
  constructor() {
    super("the import's lease was lost");
  }
}

/**
 * A fenced progress write: the run's progress (what the event stream shows) and the version's
 * import progress, in one transaction that changes nothing when the lease was lost (false).
 */
function fencedProgress(res: EngineResources, lease: Lease, versionNum: number): (percent: number) => Promise<boolean> {
  return (percent) => res.db.transaction().execute(async (trx) => {
    const held = await trx.updateTable("runs").set({ progress: percent })
      .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running").executeTakeFirst();
    if (Number(held.numUpdatedRows) !== 1) return false;
    await trx.updateTable("dataset_versions").set({ import_progress: percent })
      .where("num", "=", versionNum).where("state", "=", "Importing").execute();
    return true;
  });
}

async function* validatedRecords(
  res: EngineResources,
  collector: ValidationCollector,
  sources: readonly ImportSource[],
  progress: (bytes: number) => Promise<void>,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  for (const source of sources) {
    const stream = await res.artifacts.get(source.key);
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        signal.throwIfAborted();
        await progress(chunk.length);
        yield chunk;
      }
    }
    yield* collector.validate(counted(), sources.length > 1 ? source.uri : undefined);
  }
}

function progressWriter(fence: (percent: number) => Promise<boolean>, sources: readonly ImportSource[]) {
  const total = sources.reduce((sum, s) => sum + s.size, 0);
  let read = 0;
  let last = Date.now();
  return async (bytes: number): Promise<void> => {
    read += bytes;
    if (Date.now() - last < PROGRESS_INTERVAL_MS || total === 0) return;
    last = Date.now();
    // 99 at most: 100 is written with the final status.
    if (!(await fence(Math.min(99, Math.floor((read / total) * 100))))) throw new LeaseLostError();
  };
}

/**
 * Settles an import whose run ended without a verdict of its own (its lease expired with no
 * attempt left, a worker error, a stop): the task Failed with `reason` and the version's import
 * failed (ImportFailed, no data), as a rejected import leaves them, so the version can be
 * imported again or deleted. Nothing when the verdict was already written (the task is no longer
 * Running). Runs inside the transaction that ends the run (the kind's `onEnded`).
 *
 * @example await failDatasetImport(trx, spec.importNum, "the worker holding the task stopped heartbeating …")
 */
export async function failDatasetImport(trx: Transaction<Database>, importNum: number, reason: string): Promise<void> {
  const task = await trx.selectFrom("dataset_imports").select(["num", "id", "version_num", "files", "status"]).where("num", "=", importNum).executeTakeFirst();
  if (task === undefined || task.status !== "Running") return;
  const version = await trx.selectFrom("dataset_versions").select("id").where("num", "=", task.version_num).executeTakeFirst();
  const error = reason.slice(0, 2_000);
  if (version === undefined) await finishTask(trx, task.num, task.id, "Failed", error);
  else await finish(trx, task, version.id, failedReport(task.id, JSON.parse(task.files) as string[], error), 0, null);
}

/** The report of an import that failed before any line was judged (a vanished file, a full disk, a run that ended). */
function failedReport(importTaskId: string, files: readonly string[], error: string): StoredImportReport {
  return { records: 0, characters: 0, bytes: 0, blankLines: 0, errorCount: 0, errors: [], truncated: 0, sha256: null, importTaskId, files, error };
}

/** Records the outcome on the version and the task (inside the run's fenced completion). */
async function finish(
  trx: Transaction<Database>, task: { num: number; id: string; version_num: number }, versionId: string,
  report: StoredImportReport, size: number, dataPath: string | null,
): Promise<void> {
  const ok = report.error === null;
  await trx.updateTable("dataset_versions").set({
    state: ok ? "Imported" : "ImportFailed",
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
}

async function finishTask(trx: Transaction<Database>, num: number, id: string, status: "Finished" | "Failed", error: string | null): Promise<void> {
  await trx.updateTable("dataset_imports").set({ status, error, finished_at: nowIso() }).where("num", "=", num).execute();
  await appendEvent(trx, { objectKind: "datasetImport", objectId: id, actor: SYSTEM_ACTOR.accessKey, from: "Running", to: status, reason: error ?? undefined });
}
