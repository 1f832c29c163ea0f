import type { Selectable } from "kysely";
import { SailfinError, newId, nowIso, type OpenAiFileDeleted, type OpenAiFileList, type OpenAiFileObject } from "@sailfin/contract";
import type { Database } from "@sailfin/store";
import { SYSTEM_ACTOR, type Actor, type EngineResources } from "../resources.js";
import { deleteDatasetVersion } from "../datasets/delete-dataset.js";

/**
 * OpenAI's files (`/v1/files`, `openai_files`, migration 0012): look-ups, the wire view, listing,
 * deleting, and the result files jobs write. Uploading (with a fine-tune file's validation and
 * dataset) is upload-file.ts.
 *
 * An expired file (`expires_at` passed) is treated as deleted: look-ups and lists skip it, and
 * `removeExpiredOpenAiFiles` (called by uploads and lists) deletes it for good.
 */
type OpenAiFileRow = Selectable<Database["openai_files"]>;

export interface OpenAiFileRecord {
  num: number;
  id: string;
  purpose: string;
  filename: string;
  bytes: number;
  status: "uploaded" | "processed" | "error";
  statusDetails: string | null;
  objectKey: string;
  dataKind: "chat" | "preference" | null;
  lineCount: number;
  datasetVersionNum: number | null;
  /** ISO time. */
  createdAt: string;
  expiresAt: string | null;
}

/** Artifact key of a file's raw bytes (what `/content` returns). */
export function openAiFileKey(fileId: string): string {
  return `openai-files/${fileId}`;
}

export function toOpenAiFileRecord(row: OpenAiFileRow): OpenAiFileRecord {
  return {
    num: Number(row.num), id: row.id, purpose: row.purpose, filename: row.filename, bytes: Number(row.bytes),
    status: row.status as OpenAiFileRecord["status"], statusDetails: row.status_details, objectKey: row.object_key,
    dataKind: row.data_kind as OpenAiFileRecord["dataKind"], lineCount: Number(row.line_count),
    datasetVersionNum: row.dataset_version_num === null ? null : Number(row.dataset_version_num),
    createdAt: row.created_at, expiresAt: row.expires_at,
  };
}

const unixSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** The wire File object ([OAS] `OpenAIFile`). */
export function openAiFileView(file: OpenAiFileRecord): OpenAiFileObject {
  return {
    id: file.id, object: "file", bytes: file.bytes, created_at: unixSeconds(file.createdAt),
    expires_at: file.expiresAt === null ? null : unixSeconds(file.expiresAt), filename: file.filename,
    purpose: file.purpose, status: file.status, status_details: file.statusDetails,
  };
}

function noSuchFile(id: string, field: string): SailfinError {
  return new SailfinError("NotFound", { field, detail: `No such File object: ${id}` });
}

/**
 * The file `id` names, unless it expired. NotFound (404 in the OpenAI envelope) naming `field`.
 *
 * @example const file = await findOpenAiFile(res, "file-…", "training_file");
 */
export async function findOpenAiFile(res: EngineResources, id: string, field: string): Promise<OpenAiFileRecord> {
  const row = await res.db.selectFrom("openai_files").selectAll().where("id", "=", id).executeTakeFirst();
  if (row === undefined || isExpired(row.expires_at)) throw noSuchFile(id, field);
  return toOpenAiFileRecord(row);
}

function isExpired(expiresAt: string | null): boolean {
  return expiresAt !== null && expiresAt <= nowIso();
}

/**
 * A page of files, keyset on `num` (`after`: the id of the last file already seen; unknown →
 * InvalidParameter naming `after`). Newest first unless `order` is `asc`.
 */
export async function listOpenAiFiles(
  res: EngineResources,
  query: { readonly purpose?: string | undefined; readonly limit: number; readonly order: "asc" | "desc"; readonly after?: string | undefined },
): Promise<OpenAiFileList> {
  await removeExpiredOpenAiFiles(res);
  const now = nowIso();
  let select = res.db.selectFrom("openai_files").selectAll()
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]));
  if (query.purpose !== undefined) select = select.where("purpose", "=", query.purpose);
  if (query.after !== undefined) {
    const mark = await res.db.selectFrom("openai_files").select("num").where("id", "=", query.after).executeTakeFirst();
    if (mark === undefined) throw new SailfinError("InvalidParameter", { field: "after", detail: `No such File object: ${query.after}` });
    select = select.where("num", query.order === "asc" ? ">" : "<", mark.num);
  }
  const rows = await select.orderBy("num", query.order).limit(query.limit + 1).execute();
  const page = rows.slice(0, query.limit).map((row) => openAiFileView(toOpenAiFileRecord(row)));
  return {
    object: "list", data: page, first_id: page[0]?.id ?? null, last_id: page[page.length - 1]?.id ?? null, has_more: rows.length > query.limit,
  };
}

/**
 * Deletes a file: its dataset version (refused, Conflict, while a queued or running run trains
 * on it; deleteDatasetVersion), its row, then its bytes.
 *
 * @example await deleteOpenAiFile(res, actor, "file-…", "file_id") // { id, object: "file", deleted: true }
 */
export async function deleteOpenAiFile(res: EngineResources, actor: Actor, id: string, field: string): Promise<OpenAiFileDeleted> {
  const file = await findOpenAiFile(res, id, field);
  await removeOpenAiFile(res, actor, file, field);
  return { id: file.id, object: "file", deleted: true };
}

async function removeOpenAiFile(res: EngineResources, actor: Actor, file: OpenAiFileRecord, field: string): Promise<void> {
  if (file.datasetVersionNum !== null) {
    // The version first: its check refuses while a run trains on it, and then nothing is gone.
    // One already deleted through V1/V2 is simply not there any more.
    const exists = await res.db.selectFrom("dataset_versions").select("num").where("num", "=", file.datasetVersionNum).executeTakeFirst();
    if (exists !== undefined) {
      try {
        await deleteDatasetVersion(res, actor, file.datasetVersionNum, field, { dropEmptyGroup: true });
      } catch (error) {
        if (!(error instanceof SailfinError) || error.id !== "NotFound") throw error;
      }
    }
  }
  await res.db.deleteFrom("openai_files").where("num", "=", file.num).execute();
  // Bytes after the row (a crash in between leaves only unreferenced bytes).
  await res.artifacts.delete(file.objectKey).catch((error: unknown) => res.log.warn({ err: error, key: file.objectKey }, "could not remove a deleted file's bytes"));
}

/**
 * Deletes expired files, a hundred at a time (a file a queued or running run still trains on
 * waits for a later sweep). Called lazily by uploads and lists; a failure is logged, never the
 * caller's: the files are already invisible.
 */
export async function removeExpiredOpenAiFiles(res: EngineResources): Promise<void> {
  const rows = await res.db.selectFrom("openai_files").selectAll().where("expires_at", "<=", nowIso()).orderBy("num").limit(100).execute();
  for (const row of rows) {
    try {
      await removeOpenAiFile(res, SYSTEM_ACTOR, toOpenAiFileRecord(row), "file_id");
    } catch (error) {
      if (!(error instanceof SailfinError) || error.id !== "Conflict") res.log.warn({ err: error, id: row.id }, "could not remove an expired file");
    }
  }
}

/**
 * Stores bytes as a new processed file (a job's metrics CSV, purpose `fine-tune-results`).
 *
 * @example const csv = await createOpenAiResultFile(res, actor, { filename: "step_metrics.csv", purpose: "fine-tune-results", content });
 */
export async function createOpenAiResultFile(
  res: EngineResources,
  actor: Actor,
  input: { readonly filename: string; readonly purpose: string; readonly content: Buffer },
): Promise<OpenAiFileRecord> {
  const id = newId("openAiFile");
  const key = openAiFileKey(id);
  const put = await res.artifacts.put(key, input.content);
  try {
    const row = await res.db.insertInto("openai_files").values({
      id, purpose: input.purpose, filename: input.filename, bytes: put.size, status: "processed", status_details: null,
      object_key: key, data_kind: null, line_count: 0, dataset_version_num: null, creator: actor.accessKey, created_at: nowIso(), expires_at: null,
    }).returningAll().executeTakeFirstOrThrow();
    return toOpenAiFileRecord(row);
  } catch (error) {
    await res.artifacts.delete(key).catch(() => undefined);
    throw error;
  }
}
