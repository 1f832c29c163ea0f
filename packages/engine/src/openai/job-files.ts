import { SailfinError } from "@sailfin/contract";
import type { EngineResources } from "../resources.js";
import { findOpenAiFile } from "./files.js";

/** What a job needs of a file. */
interface JobFile {
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
 * An unknown (or expired) id is a 400 too here, not the 404 of the files routes: OpenAI refuses
 * the job's parameter.
 *
 * @example await fileForTraining(res, "file-abc", "training_file", "chat")
 */
export async function fileForTraining(res: EngineResources, id: string, field: string, kind: "chat" | "preference"): Promise<JobFile> {
  let file;
  try {
    file = await findOpenAiFile(res, id, field);
  } catch (error) {
    if (error instanceof SailfinError && error.id === "NotFound") throw new SailfinError("InvalidParameter", { field, detail: `No such File object: ${id}` });
    throw error;
  }
  const row = { purpose: file.purpose, status: file.status, status_details: file.statusDetails, data_kind: file.dataKind, dataset_version_num: file.datasetVersionNum };
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
  return { num: file.num, id: file.id, lineCount: file.lineCount, datasetVersionNum: row.dataset_version_num };
}
