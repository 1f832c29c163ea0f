import { Readable } from "node:stream";
import { SailfinError, clip, newId, nowIso } from "@sailfin/contract";
import { appendEvent } from "@sailfin/store";
import { DEFAULT_MAX_LINE_BYTES, LineProblem, formatInfo, readLines } from "@sailfin/data";
import type { Actor, EngineResources } from "../resources.js";
import { datasetDataKey, type StoredImportReport } from "../datasets/records.js";
import { removeExpiredOpenAiFiles, toOpenAiFileRecord, openAiFileKey, type OpenAiFileRecord } from "./files.js";
import { DATA_KIND_FORMAT, convertOpenAiLine, describeLineProblem, type OpenAiDataKind } from "./training-lines.js";

/** An upload whose bytes are stored (at `openAiFileKey(id)`), waiting for its row. */
interface StoredOpenAiUpload {
  readonly id: string;
  readonly bytes: number;
  readonly filename: string;
  readonly purpose: string;
  /** `expires_after[seconds]`, anchored at creation; null: never expires. */
  readonly expiresAfterS: number | null;
}

/** A new file id and where its bytes go; the route streams the upload there, then calls completeOpenAiUpload. */
export function newOpenAiUpload(): { id: string; objectKey: string } {
  const id = newId("openAiFile");
  return { id, objectKey: openAiFileKey(id) };
}

/**
 * Records an upload whose bytes are stored. A `fine-tune` file is read back line by line (memory
 * stays flat) and every line checked as OpenAI's chat or preference format (training-lines.ts);
 * the first bad line refuses the whole upload (InvalidParameter naming `file`, the message
 * `line 3: messages[1].weight must be 0 or 1; got 2`) and nothing is left behind. OpenAI reports
 * bad lines on the job instead; refusing here gives the error at once, where the caller can fix
 * it. A good file becomes a Released sysStorage dataset version (Messages or PromptChosenRejected)
 * holding the converted records, written with the file's row in one transaction. Other purposes
 * are stored as they are. Either way the file is `processed` when this returns.
 *
 * @example const file = await completeOpenAiUpload(res, actor, { id, bytes, filename: "train.jsonl", purpose: "fine-tune", expiresAfterS: null });
 */
export async function completeOpenAiUpload(res: EngineResources, actor: Actor, upload: StoredOpenAiUpload): Promise<OpenAiFileRecord> {
  const objectKey = openAiFileKey(upload.id);
  const versionId = newId("datasetVersion");
  const dataKey = datasetDataKey(versionId);
  try {
    await removeExpiredOpenAiFiles(res);
    const data = upload.purpose === "fine-tune" ? await convertTrainingFile(res, objectKey, dataKey) : null;
    const now = nowIso();
    const expiresAt = upload.expiresAfterS === null ? null : new Date(Date.parse(now) + upload.expiresAfterS * 1000).toISOString();
    return await res.db.transaction().execute(async (trx) => {
      let versionNum: number | null = null;
      if (data !== null) {
        const info = formatInfo(DATA_KIND_FORMAT[data.kind]);
        const groupId = newId("dataset");
        const group = await trx.insertInto("dataset_groups").values({
          id: groupId, name: clip(upload.filename, 100), data_format: info.name, project_type: info.projectType,
          template_type: info.templateType, data_type: info.dataType, storage_type: "sysStorage",
          storage_path: "", created_at: now, modified_at: now,
        }).returning(["num"]).executeTakeFirstOrThrow();
        const report: StoredImportReport = {
          records: data.records, characters: data.characters, bytes: upload.bytes, blankLines: data.blankLines, errorCount: 0, errors: [],
          truncated: 0, sha256: data.sha256, importTaskId: upload.id, files: [], error: null,
        };
        const version = await trx.insertInto("dataset_versions").values({
          id: versionId, group_num: group.num, version: 1, description: clip(`OpenAI file ${upload.id} (${upload.filename})`, 500),
          state: "Released", import_progress: 100, record_count: data.records, char_count: data.characters, byte_size: data.size,
          error_count: 0, validation_report: JSON.stringify(report), content_hash: data.sha256, data_path: dataKey,
          released_at: now, created_at: now, modified_at: now,
        }).returning(["num"]).executeTakeFirstOrThrow();
        versionNum = Number(version.num);
        const reason = `uploaded as ${upload.id}`;
        await appendEvent(trx, { objectKind: "dataset", objectId: groupId, actor: actor.accessKey, from: null, to: "Created", reason });
        await appendEvent(trx, { objectKind: "datasetVersion", objectId: versionId, actor: actor.accessKey, from: null, to: "Released", reason });
      }
      const row = await trx.insertInto("openai_files").values({
        id: upload.id, purpose: upload.purpose, filename: upload.filename, bytes: upload.bytes, status: "processed", status_details: null,
        object_key: objectKey, data_kind: data?.kind ?? null, line_count: data?.records ?? 0, dataset_version_num: versionNum,
        creator: actor.accessKey, created_at: now, expires_at: expiresAt,
      }).returningAll().executeTakeFirstOrThrow();
      return toOpenAiFileRecord(row);
    });
  } catch (error) {
    await discardOpenAiUpload(res, upload.id);
    await res.artifacts.delete(`datasets/${versionId}/`).catch(() => undefined);
    throw error;
  }
}

/** Removes the stored bytes of an upload that is refused. */
export async function discardOpenAiUpload(res: EngineResources, id: string): Promise<void> {
  await res.artifacts.delete(openAiFileKey(id)).catch((error: unknown) => res.log.warn({ err: error, id }, "could not remove a refused upload's bytes"));
}

interface ConvertedFile {
  readonly kind: OpenAiDataKind;
  readonly records: number;
  readonly characters: number;
  readonly blankLines: number;
  readonly size: number;
  readonly sha256: string;
}

/** Checks every line of the stored file and writes the converted records to `dataKey`; throws at the first bad line. */
async function convertTrainingFile(res: EngineResources, objectKey: string, dataKey: string): Promise<ConvertedFile> {
  let kind: OpenAiDataKind | null = null;
  let records = 0;
  let characters = 0;
  let blankLines = 0;
  let failure: SailfinError | null = null;
  const source = await res.artifacts.get(objectKey);
  async function* converted(): AsyncGenerator<Buffer> {
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for await (const raw of readLines(source, { maxLineBytes: DEFAULT_MAX_LINE_BYTES })) {
      const refuse = (reason: string): never => {
        failure = new SailfinError("InvalidParameter", { field: "file", detail: `line ${raw.number}: ${reason}` });
        throw failure;
      };
      if (raw.tooLong) refuse(`is longer than ${DEFAULT_MAX_LINE_BYTES} bytes`);
      let bytes = raw.bytes;
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
      if (raw.number === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      let text = "";
      try {
        text = decoder.decode(bytes);
      } catch {
        refuse("is not valid UTF-8");
      }
      if (text.trim() === "") {
        blankLines++;
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        refuse(`is not valid JSON: ${(error as Error).message}`);
      }
      try {
        const line = convertOpenAiLine(value, kind);
        kind = line.kind;
        records++;
        characters += line.characters;
        const out = Buffer.from(`${JSON.stringify(line.record)}\n`);
        batch.push(out);
        batchBytes += out.length;
      } catch (error) {
        if (!(error instanceof LineProblem)) throw error;
        refuse(describeLineProblem(error));
      }
      if (batchBytes >= 64 * 1024) {
        yield Buffer.concat(batch);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0) yield Buffer.concat(batch);
  }
  let put;
  try {
    put = await res.artifacts.put(dataKey, Readable.from(converted()));
  } catch (error) {
    source.destroy();
    // The store may wrap the generator's error; the line's refusal is what the caller needs.
    throw failure ?? error;
  }
  if (kind === null) {
    await res.artifacts.delete(dataKey).catch(() => undefined);
    throw new SailfinError("InvalidParameter", { field: "file", detail: "the file holds no training examples (every line is blank)" });
  }
  return { kind, records, characters, blankLines, size: put.size, sha256: put.sha256 };
}
