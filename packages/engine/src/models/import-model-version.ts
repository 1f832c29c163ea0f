import { SailfinError, newId } from "@sailfin/contract";
import type { Db } from "@sailfin/store";
import { withVersionNumberRetry } from "../unique-retry.js";
import { assertSafeBucket, assertSafeObjectPath, bucketKey } from "../artifacts/keys.js";
import { leaseHeld, type ImportOutcome } from "../import-outcome.js";
import { enqueueRun } from "../queue/enqueue.js";
import { defaultPlacement } from "../pools/index.js";
import type { Lease } from "../queue/lease.js";
import { SYSTEM_ACTOR, type Actor, type EngineResources } from "../resources.js";
import { ModelCheckError, checkModelFiles } from "./check-model-files.js";
import { copyFolder } from "./copy-folder.js";
import {
  finishVersion, insertCreatingVersion, versionFolder, type VersionOutcome,
} from "./model-rows.js";
import { toModelVersionRecord, type ModelSetRecord, type ModelVersionRecord } from "./records.js";

/**
 * Importing a Hugging Face model folder from the artifact store's buckets (V2 `CreateCustomModel`
 * with `sourceType: "Import"`). The request only validates and records a `Creating` version and
 * its `model-import` run (id `import-<versionId>`); a worker copies and checks the folder
 * (`executeModelImport`), and one that dies half-way leaves the run to the next worker after its
 * lease expires.
 */
interface ImportModelVersionInput {
  readonly set: ModelSetRecord;
  readonly bucket: string;
  readonly objectPath: string;
  readonly description?: string;
}

/** `runs.spec` of a `model-import` run: the version it fills. */
export interface ModelImportSpec {
  readonly versionNum: number;
}

/** Field names as the V2 request spells them. */
const BUCKET_FIELD = "importMeta.bucket";
const PATH_FIELD = "importMeta.objectPath";

/**
 * Validates the source folder and inserts the `Creating` version with its queued `model-import`
 * run, in one transaction. Path traversal and an empty folder are refused here, naming the field.
 */
export async function importModelVersion(res: EngineResources, actor: Actor, input: ImportModelVersionInput): Promise<ModelVersionRecord> {
  assertSafeBucket(input.bucket, BUCKET_FIELD);
  assertSafeObjectPath(input.objectPath, PATH_FIELD, { allowDirectory: true });
  const objectPath = input.objectPath.replace(/\/$/, "");
  const prefix = sourcePrefix(input.bucket, objectPath);
  const listed = await res.artifacts.list(prefix);
  if (!listed.some((o) => o.key.startsWith(prefix))) {
    throw new SailfinError("InvalidParameter", { field: PATH_FIELD, detail: `no objects under bos:/${input.bucket}/${objectPath}/` });
  }
  const row = await withVersionNumberRetry(() =>
    res.db.transaction().execute(async (trx) => {
      const version = await insertCreatingVersion(trx, actor, {
        id: newId("modelVersion"),
        setNum: input.set.num,
        description: input.description ?? "",
        sourceType: "Import",
        importBucket: input.bucket,
        importObject: objectPath,
      });
      const spec: ModelImportSpec = { versionNum: version.num };
      // The version being filled is not a model the run reads: 0, which no version has.
      await enqueueRun(trx, actor, {
        id: `import-${version.id}`, kind: "model-import", name: `import into ${version.id}`, description: `bos:/${input.bucket}/${objectPath}/`,
        spec, placement: defaultPlacement(res.pools),
      });
      return version;
    }),
  );
  res.background.queued("model-import");
  return toModelVersionRecord(row);
}

function sourcePrefix(bucket: string, objectPath: string): string {
  return `${bucketKey({ bucket, objectPath })}/`;
}

/**
 * One attempt of a `model-import` run: copy the folder's files into `models/<versionId>/`, then
 * check the copy (not the source, so what is checked is exactly what is kept even if the bucket
 * changes meanwhile); the version turns Ready with its size and summary, or Fail naming the file
 * and the problem, in the run's fenced completion (`settle`). The copy is redone from the start
 * by a later attempt (each file is replaced atomically).
 *
 * @example const outcome = await executeModelImport(res, lease, signal); // then completeRun(…, { extra: outcome.settle })
 */
export async function executeModelImport(res: EngineResources, lease: Lease, signal: AbortSignal, spec: ModelImportSpec): Promise<ImportOutcome> {
  const { versionNum } = spec;
  const row = await res.db.selectFrom("model_versions").selectAll().where("num", "=", versionNum).executeTakeFirst();
  if (row === undefined || row.status !== "Creating" || row.source_type !== "Import") {
    return { kind: "rejected", reason: "the model version is no longer being created", settle: async () => {} };
  }
  const dest = versionFolder(row.id);
  let outcome: VersionOutcome;
  try {
    // A previous attempt may have left files: start clean (right after the claim, so this attempt holds the run).
    await res.artifacts.delete(dest);
    const copied = await copyFolder(res.artifacts, sourcePrefix(row.import_bucket ?? "", row.import_object ?? ""), dest, { recursive: false });
    signal.throwIfAborted();
    if (copied.files.length === 0) throw new ModelCheckError("(folder)", `no files found at bos:/${row.import_bucket}/${row.import_object}/`);
    const checked = await checkModelFiles(res.artifacts, dest);
    outcome = {
      status: "Ready",
      artifactPath: dest,
      sizeBytes: checked.totalBytes,
      architecture: checked.summary.architecture,
      configSummary: JSON.stringify(checked.summary),
    };
  } catch (error) {
    if (signal.aborted) return { kind: "interrupted" };
    if (!(error instanceof ModelCheckError)) res.log.error({ err: error, versionId: row.id }, "model import failed unexpectedly");
    const reason = error instanceof ModelCheckError ? error.message : `internal error while importing: ${(error as Error).message}`;
    outcome = { status: "Fail", failReason: reason };
  }
  const settle = async (trx: Parameters<typeof finishVersion>[0]) => { await finishVersion(trx, SYSTEM_ACTOR, versionNum, outcome); };
  if (outcome.status === "Fail") {
    // Only while this attempt holds the run: after that the folder is the new holder's.
    if (await leaseHeld(res.db, lease)) await res.artifacts.delete(dest);
    return { kind: "rejected", reason: outcome.failReason ?? "the model check failed", settle };
  }
  return {
    kind: "imported", reason: `imported ${row.id} (${outcome.architecture ?? "unknown architecture"})`,
    result: { sizeBytes: outcome.sizeBytes, architecture: outcome.architecture }, settle,
  };
}

/**
 * Settles an import whose run ended without a verdict of its own (its lease expired with no
 * attempt left, a worker error, a stop): the version Fail with `reason`, so it can be deleted and
 * the folder imported again. Nothing when the version is no longer Creating (the verdict was
 * written). Runs inside the transaction that ends the run (the kind's `onEnded`); the files a
 * cut-short copy left in `models/<versionId>/` go with the version when it is deleted.
 *
 * @example await failModelImport(trx, spec.versionNum, "the worker holding the task stopped heartbeating …")
 */
export async function failModelImport(trx: Db, versionNum: number, reason: string): Promise<void> {
  await finishVersion(trx, SYSTEM_ACTOR, versionNum, { status: "Fail", failReason: reason.slice(0, 2_000) });
}
