import { SailfinError, newId } from "@sailfin/contract";
import { withVersionNumberRetry } from "../unique-retry.js";
import { assertSafeBucket, assertSafeObjectPath, bucketKey } from "../artifacts/keys.js";
import { SYSTEM_ACTOR, type Actor, type EngineResources } from "../resources.js";
import { ModelCheckError, checkModelFiles } from "./check-model-files.js";
import { copyFolder } from "./copy-folder.js";
import {
  finishVersion, insertCreatingVersion, versionFolder, type ModelSetRow, type ModelVersionRow,
} from "./model-rows.js";
import { toModelVersionRecord, type ModelSetRecord, type ModelVersionRecord } from "./records.js";

/**
 * Importing a Hugging Face model folder from the artifact store's buckets (V2 `CreateCustomModel`
 * with `sourceType: "Import"`). The request only validates and records a `Creating` version;
 * the copy and the checks run after the answer (`res.background`), and a process that dies
 * half-way leaves the row `Creating`, which `resumePendingModelImports` picks up at the next start.
 */
export interface ImportModelVersionInput {
  readonly set: ModelSetRecord;
  readonly bucket: string;
  readonly objectPath: string;
  readonly description?: string;
}

/** Field names as the V2 request spells them. */
const BUCKET_FIELD = "importMeta.bucket";
const PATH_FIELD = "importMeta.objectPath";

/**
 * Validates the source folder and inserts the `Creating` version, then starts the check in the
 * background. Path traversal and an empty folder are refused here, naming the field.
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
    res.db.transaction().execute((trx) =>
      insertCreatingVersion(trx, actor, {
        id: newId("modelVersion"),
        setNum: input.set.num,
        description: input.description ?? "",
        sourceType: "Import",
        importBucket: input.bucket,
        importObject: objectPath,
      }),
    ),
  );
  startImport(res, row.num);
  return toModelVersionRecord(row);
}

function sourcePrefix(bucket: string, objectPath: string): string {
  return `${bucketKey({ bucket, objectPath })}/`;
}

function startImport(res: EngineResources, versionNum: number): void {
  res.background.run(`model-import:${versionNum}`, () => runModelImport(res, versionNum));
}

/**
 * The background half: copy the folder's files into `models/<versionId>/`, then check the copy
 * (not the source, so what is checked is exactly what is kept even if the bucket changes
 * meanwhile), then Ready with its size and summary, or Fail naming the file and the problem.
 */
export async function runModelImport(res: EngineResources, versionNum: number): Promise<void> {
  const row = await res.db.selectFrom("model_versions").selectAll().where("num", "=", versionNum).executeTakeFirst();
  if (row === undefined || row.status !== "Creating" || row.source_type !== "Import") return;
  const dest = versionFolder(row.id);
  let outcome: Parameters<typeof finishVersion>[3];
  try {
    // A previous attempt (a process that stopped half-way) may have left files: start clean.
    await res.artifacts.delete(dest);
    const copied = await copyFolder(res.artifacts, sourcePrefix(row.import_bucket ?? "", row.import_object ?? ""), dest, { recursive: false });
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
    if (!(error instanceof ModelCheckError)) res.log.error({ err: error, versionId: row.id }, "model import failed unexpectedly");
    const reason = error instanceof ModelCheckError ? error.message : `internal error while importing: ${(error as Error).message}`;
    outcome = { status: "Fail", failReason: reason };
  }
  if (outcome.status === "Fail") await res.artifacts.delete(dest);
  const applied = await finishVersion(res, SYSTEM_ACTOR, versionNum, outcome);
  // Deleted while we worked: its rows are gone, so are the files we just wrote.
  if (!applied) await res.artifacts.delete(dest);
}

/**
 * Startup task: versions left `Creating` by a process that stopped are checked again from the
 * start (the copy is idempotent: each file is replaced atomically). Training-output versions
 * are `publish` runs in the queue, which a worker resumes (see publish-from-run.ts).
 */
export async function resumePendingModelImports(res: EngineResources): Promise<void> {
  const rows = await res.db
    .selectFrom("model_versions")
    .select(["num", "source_type"])
    .where("status", "=", "Creating")
    .orderBy("num", "asc")
    .execute();
  for (const row of rows) {
    if (row.source_type === "Import") startImport(res, row.num);
    // Train versions need nothing here: their `publish` run is a durable queue entry.
  }
}
