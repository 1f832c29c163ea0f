import { SailfinError } from "@sailfin/contract";
import type { Db } from "@sailfin/store";

/** What a job needs of an `openai_files` row (the files slice owns the rows; this reads them). */
export interface JobFile {
  readonly num: number;
  readonly id: string;
  readonly lineCount: number;
  readonly datasetVersionNum: number;
}

/**
 * A file a job trains or validates on: a `processed` `fine-tune` file of the kind the method
 * trains on (`chat` for supervised, `preference` for dpo), with its Released dataset version.
 * Anything else is an InvalidParameter naming `field` (`training_file`, `validation_file`), as
 * OpenAI answers 400 with `param` set.
 *
 * @example await fileForTraining(res.db, "file-abc", "training_file", "chat")
 */
export async function fileForTraining(db: Db, id: string, field: string, kind: "chat" | "preference"): Promise<JobFile> {
  const row = await db.selectFrom("openai_files").selectAll().where("id", "=", id).executeTakeFirst();
  if (row === undefined) throw new SailfinError("InvalidParameter", { field, detail: `no such file: ${id}` });
  if (row.purpose !== "fine-tune") {
    throw new SailfinError("InvalidParameter", { field, detail: `file ${id} has purpose ${row.purpose}; fine-tuning takes files uploaded with purpose fine-tune` });
  }
  if (row.status !== "processed" || row.dataset_version_num === null) {
    throw new SailfinError("InvalidParameter", {
      field, detail: `file ${id} is ${row.status}${row.status_details === null ? "" : ` (${row.status_details})`}; only processed files can be trained on`,
    });
  }
  if (row.data_kind !== kind) {
    const method = kind === "chat" ? "supervised" : "dpo";
    throw new SailfinError("InvalidParameter", {
      field, detail: `file ${id} holds ${row.data_kind ?? "unknown"} examples; the ${method} method trains on ${kind} examples`,
    });
  }
  return { num: row.num, id: row.id, lineCount: Number(row.line_count), datasetVersionNum: Number(row.dataset_version_num) };
}
