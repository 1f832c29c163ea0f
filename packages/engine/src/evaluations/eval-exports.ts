import { STATE_WORD, SailfinError, newId, type V1Id } from "@sailfin/contract";
import { assertSafeBucket } from "../artifacts/keys.js";
import { enqueueRun } from "../queue/enqueue.js";
import { defaultPlacement } from "../pools/index.js";
import { findWorkRun } from "../queue/find-work.js";
import { runStateOf } from "../queue/run-state.js";
import type { Actor, EngineResources } from "../resources.js";
import { toWorkRunView, type WorkRunView } from "../work-run-record.js";
import { EXPORT_CONTENTS, type EvalExportResult, type EvalExportSpec, type ExportContent } from "./eval-spec.js";

/**
 * Evaluation-result exports (V1 `eval/result/export` + `/info`, V2 `CreateEvalResultExportTask`):
 * a `runs` row of kind `eval-export` (id `amemt-…`) whose worker writes a zip of the chosen
 * columns (Qianfan's `data.jsonl` and Sailfin's JSONL and CSV, export-files.ts) into Sailfin's
 * storage (`local`: downloaded through a signed, expiring link, exports/download-link.ts) or into the user's bucket
 * (`storage`: `exportPath` inside `volumeId`).
 */

const MAX_PART_RESULTS = 100;

interface CreateEvalExportInput {
  readonly eval: V1Id;
  readonly evalField: string;
  readonly exportType: "local" | "storage";
  readonly volumeId?: string;
  readonly volumeField: string;
  readonly content: readonly string[];
  readonly contentField: string;
  /** `part` exports name results (≤ 100); undefined exports all. */
  readonly resultIds?: readonly V1Id[];
  readonly resultIdsField: string;
}

/**
 * Checks and queues an export; only a finished evaluation (Done or PartlyDone) can be exported,
 * and `resultIds` must be results of this evaluation.
 *
 * @example await createEvalExport(res, actor, { eval: "ame-…", evalField: "id", exportType: "local", content: ["prompt", "prediction"], ... })
 */
export async function createEvalExport(res: EngineResources, actor: Actor, input: CreateEvalExportInput): Promise<{ id: string; num: number }> {
  const evaluation = await findWorkRun(res.db, "evaluate", input.eval, input.evalField, "evaluation");
  if (evaluation.status !== "Succeeded") {
    throw new SailfinError("InvalidParameter", { field: input.evalField, detail: `evaluation ${evaluation.id} has not finished (${STATE_WORD}); only a finished evaluation can be exported`, state: runStateOf(evaluation) });
  }
  const content = [...new Set(input.content)];
  if (content.length === 0) throw new SailfinError("InvalidParameter", { field: input.contentField, detail: `name at least one of ${EXPORT_CONTENTS.join(", ")}` });
  const unknown = content.find((c) => !(EXPORT_CONTENTS as readonly string[]).includes(c));
  if (unknown !== undefined) throw new SailfinError("InvalidParameter", { field: input.contentField, detail: `unknown column ${JSON.stringify(unknown)}; use ${EXPORT_CONTENTS.join(", ")}` });
  let volumeId: string | null = null;
  if (input.exportType === "storage") {
    if (input.volumeId === undefined || input.volumeId === "") throw new SailfinError("InvalidParameter", { field: input.volumeField, detail: "a storage export needs the bucket to write into" });
    assertSafeBucket(input.volumeId, input.volumeField);
    volumeId = input.volumeId;
  }
  let resultNums: number[] | null = null;
  if (input.resultIds !== undefined) {
    if (input.resultIds.length === 0 || input.resultIds.length > MAX_PART_RESULTS) {
      throw new SailfinError("InvalidParameter", { field: input.resultIdsField, detail: `a part export names 1 to ${MAX_PART_RESULTS} results` });
    }
    resultNums = [];
    for (const [i, ref] of input.resultIds.entries()) {
      const n = typeof ref === "number" ? ref : /^\d{1,15}$/.test(ref) ? Number(ref) : NaN;
      if (!Number.isSafeInteger(n)) throw new SailfinError("InvalidParameter", { field: `${input.resultIdsField}[${i}]`, detail: `${JSON.stringify(ref)} is not a result id` });
      resultNums.push(n);
    }
    const found = await res.db.selectFrom("eval_results").select("num").where("eval_run_num", "=", evaluation.num).where("num", "in", resultNums).execute();
    const known = new Set(found.map((r) => Number(r.num)));
    const stray = resultNums.findIndex((n) => !known.has(n));
    if (stray >= 0) throw new SailfinError("InvalidParameter", { field: `${input.resultIdsField}[${stray}]`, detail: `result ${resultNums[stray]} does not belong to evaluation ${evaluation.id}` });
  }
  const id = newId("evalExport");
  const spec: EvalExportSpec = {
    specVersion: 1, kind: "eval-export", evalRunNum: evaluation.num, evalId: evaluation.id, exportType: input.exportType,
    volumeId, content: content as ExportContent[], resultNums,
  };
  const num = await res.db.transaction().execute((trx) => enqueueRun(trx, actor, {
    id, kind: "eval-export", name: `export of ${evaluation.id}`, description: "", modelVersionNum: evaluation.base_model_version_num,
    spec, readsRunNum: evaluation.num, placement: defaultPlacement(res.pools),
  }));
  return { id, num };
}

/** An export task as routes render it: its run's record, spec and outcome. */
export type EvalExportView = WorkRunView<EvalExportSpec, EvalExportResult>;

/** One export by `amemt-…` id or number, or NotFound naming `field`. */
export async function describeEvalExport(res: EngineResources, ref: V1Id, field: string): Promise<EvalExportView> {
  const row = await findWorkRun(res.db, "eval-export", ref, field, "export task");
  return toWorkRunView(row);
}

/** The latest export of an evaluation (V2 describes exports by the evaluation's id), or null. */
export async function latestEvalExport(res: EngineResources, evalRunNum: number): Promise<EvalExportView | null> {
  const row = await res.db.selectFrom("runs").selectAll().where("kind", "=", "eval-export").where("reads_run_num", "=", evalRunNum)
    .orderBy("num", "desc").limit(1).executeTakeFirst();
  return row === undefined ? null : describeEvalExport(res, row.id, "evalId");
}
