import { evalExportFiles, evalResults, zipFiles, type EvalExportResult, type EvalExportSpec, type EvalRunSpec, type Lease } from "@sailfin/engine";
import type { HandlerContext, Outcome } from "../outcome.js";

/** Where `storage` exports go inside the user's bucket (Qianfan writes under a similar workspace path). */
const STORAGE_PREFIX = "sailfin/model_eval_result_export";

/**
 * One attempt of an evaluation-result export: the chosen columns of all (or the named) results
 * in one zip (`data.jsonl` in Qianfan's layout beside Sailfin's `results.jsonl` and
 * `results.csv`, see evalExportFiles), written atomically into Sailfin's storage
 * (`exports/<exportId>/…`) or the user's bucket (`buckets/<volumeId>/sailfin/…`).
 */
export async function runEvalExport(ctx: HandlerContext, lease: Lease): Promise<Outcome> {
  const { res } = ctx;
  const spec = JSON.parse(lease.row.spec) as EvalExportSpec;
  const evaluation = await res.db.selectFrom("runs").select(["num", "name", "spec"]).where("num", "=", spec.evalRunNum).executeTakeFirst();
  if (evaluation === undefined) return { kind: "failed", failure: "user", reason: `evaluation ${spec.evalId} no longer exists` };
  const units = (JSON.parse(evaluation.spec) as EvalRunSpec).units;
  let rows = await evalResults(res, spec.evalRunNum);
  if (spec.resultNums !== null) {
    const wanted = new Set(spec.resultNums);
    rows = rows.filter((r) => wanted.has(r.num));
  }
  const zip = zipFiles(evalExportFiles(rows, units, spec.content));
  const safeName = (evaluation.name || spec.evalId).replace(/[^\p{L}\p{N}_-]+/gu, "_").slice(0, 60);
  const fileName = `${safeName}_${evaluation.num}_${Date.now()}.zip`;
  const exportPath = spec.exportType === "storage" ? `${STORAGE_PREFIX}/${fileName}` : `exports/${lease.runId}/${fileName}`;
  const key = spec.exportType === "storage" ? `buckets/${spec.volumeId}/${exportPath}` : exportPath;
  const put = await res.artifacts.put(key, zip);
  const result: EvalExportResult = { key, exportPath, fileName, rows: rows.length, bytes: put.size };
  return { kind: "done", reason: `exported ${rows.length} results to ${spec.exportType === "storage" ? `bos:/${spec.volumeId}/${exportPath}` : key}`, result };
}
