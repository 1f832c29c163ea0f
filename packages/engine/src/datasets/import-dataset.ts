import { SailfinError, newId, nowIso, type V1Id } from "@sailfin/contract";
import { appendEvent } from "@sailfin/store";
import type { Actor, EngineResources } from "../resources.js";
import { enqueueRun } from "../queue/enqueue.js";
import { defaultPlacement } from "../pools/index.js";
import { resolveImportSources } from "./import-sources.js";
import type { DatasetImportSpec } from "./execute-dataset-import.js";
import { findDatasetVersion, type DatasetImportRow, type DatasetVersionDetail } from "./records.js";

interface StartImportInput {
  /** The version: V1 number, digits, or `ds-` id. */
  readonly versionRef: V1Id;
  readonly versionField: string;
  /** `bos:/bucket/path` URIs: files, or folders of `*.jsonl`/`*.json`. */
  readonly files: readonly string[];
  readonly filesField: string;
}

/**
 * Starts importing files into a dataset version: checks the URIs (path traversal, existence)
 * now, marks the version Importing, records an import task and queues its
 * `dataset-import` run (the run's id is the task's id) in one transaction; a worker then
 * validates and copies the data (`executeDatasetImport`). A released version is immutable
 * (Conflict), and so is one with an import still running. Importing again replaces the previous
 * import's data.
 *
 * @example
 * const task = await startDatasetImport(res, actor, { versionRef: "ds-…", versionField: "versionId", files: ["bos:/uploads/a.jsonl"], filesField: "files" });
 * task.id // "dsit-…": poll describeImportTask, or the version's import status
 */
export async function startDatasetImport(res: EngineResources, actor: Actor, input: StartImportInput): Promise<{ task: DatasetImportRow; detail: DatasetVersionDetail }> {
  const detail = await findDatasetVersion(res.db, input.versionRef, input.versionField);
  assertImportable(detail, input.versionField);
  if (input.files.length === 0) throw new SailfinError("InvalidParameter", { field: input.filesField, detail: "at least one file is required" });
  // Resolved now so a typo or a missing upload is refused with the field named; the run
  // resolves again (the files may change in between, and a retried run has only the URIs).
  await resolveImportSources(res, input.files, (i) => `${input.filesField}[${i}]`);
  const now = nowIso();
  const task = await res.db.transaction().execute(async (trx) => {
    const claimed = await trx.updateTable("dataset_versions")
      .set({ state: "Importing", import_progress: 0, modified_at: now })
      .where("num", "=", detail.version.num)
      .where("state", "not in", ["Importing", "Released"])
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) {
      // Lost a race with another import, a release or a delete: report the state that won.
      assertImportable(await findDatasetVersion(trx, detail.version.num, input.versionField), input.versionField);
      throw new SailfinError("Conflict", { field: input.versionField, detail: "the dataset version changed; try again" });
    }
    const row = await trx.insertInto("dataset_imports").values({
      id: newId("importTask"), version_num: detail.version.num, files: JSON.stringify(input.files), status: "Running",
      error: null, created_at: now, finished_at: null,
    }).returningAll().executeTakeFirstOrThrow();
    await appendEvent(trx, { objectKind: "datasetImport", objectId: row.id, actor: actor.accessKey, from: null, to: "Running", reason: `into ${detail.version.id}` });
    await appendEvent(trx, {
      objectKind: "datasetVersion", objectId: detail.version.id, actor: actor.accessKey,
      from: detail.version.state, to: "Importing", reason: `import task ${row.id}`,
    });
    const spec: DatasetImportSpec = { importNum: Number(row.num) };
    await enqueueRun(trx, actor, {
      id: row.id, kind: "dataset-import", name: `import into ${detail.version.id}`, description: "", spec,
      placement: defaultPlacement(res.pools),
    });
    return row;
  });
  res.background.queued("dataset-import");
  return { task, detail };
}

function assertImportable({ version }: DatasetVersionDetail, field: string): void {
  if (version.state === "Released") {
    throw new SailfinError("Conflict", { field, detail: `dataset version ${version.id} is released and cannot change; create a new version` });
  }
  if (version.state === "Importing") {
    throw new SailfinError("Conflict", { field, detail: `an import into dataset version ${version.id} is still running` });
  }
}
