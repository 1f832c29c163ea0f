import { z } from "zod";
import { zipFiles } from "../artifacts/zip.js";
import { evalExportFiles } from "../evaluations/export-files.js";
import { EXPORT_CONTENTS, type EvalExportResult, type EvalExportSpec } from "../evaluations/eval-spec.js";
import type { RunDeps } from "./deps.js";
import { defineRunKind, parseStoredSpec } from "./define.js";
import { evaluateSpecSchema } from "./evaluate.js";
import { failed, type RunOutcome } from "./outcome.js";

/** Where `storage` exports go inside the user's bucket (Qianfan writes under a similar workspace path). */
const STORAGE_PREFIX = "sailfin/model_eval_result_export";

/** The payload of an `eval-export` run (written by createEvalExport). */
const evalExportSpecSchema = z.object({
  specVersion: z.literal(1),
  kind: z.literal("eval-export"),
  evalRunNum: z.int(),
  evalId: z.string(),
  exportType: z.enum(["local", "storage"]),
  volumeId: z.string().nullable(),
  content: z.array(z.enum(EXPORT_CONTENTS)),
  resultNums: z.array(z.int()).nullable(),
}) satisfies z.ZodType<EvalExportSpec>;

/**
 * One attempt of an evaluation-result export: the chosen columns of all (or the named) results
 * in one zip (`data.jsonl` in Qianfan's layout beside Sailfin's `results.jsonl` and
 * `results.csv`, see evalExportFiles), written atomically into Sailfin's storage
 * (`exports/<exportId>/…`) or the user's bucket (`buckets/<volumeId>/sailfin/…`).
 */
export async function runEvalExport(spec: EvalExportSpec, deps: RunDeps): Promise<RunOutcome> {
  const evaluation = await deps.reads.storedRun(spec.evalRunNum);
  if (evaluation === null) return failed("user", `evaluation ${spec.evalId} no longer exists`);
  const parsed = parseStoredSpec(evaluateSpecSchema, evaluation.spec);
  if ("error" in parsed) return failed("user", `evaluation ${spec.evalId} has an unreadable spec: ${parsed.error}`);
  let rows = await deps.reads.evalResults(spec.evalRunNum);
  if (spec.resultNums !== null) {
    const wanted = new Set(spec.resultNums);
    rows = rows.filter((r) => wanted.has(r.num));
  }
  const zip = zipFiles(evalExportFiles(rows, parsed.spec.units, spec.content));
  const safeName = (evaluation.name || spec.evalId).replace(/[^\p{L}\p{N}_-]+/gu, "_").slice(0, 60);
  const fileName = `${safeName}_${evaluation.num}_${Date.now()}.zip`;
  const exportPath = spec.exportType === "storage" ? `${STORAGE_PREFIX}/${fileName}` : `exports/${deps.run.id}/${fileName}`;
  const key = spec.exportType === "storage" ? `buckets/${spec.volumeId}/${exportPath}` : exportPath;
  const put = await deps.putArtifact(key, zip);
  const result: EvalExportResult = { key, exportPath, fileName, rows: rows.length, bytes: put.size };
  return { kind: "done", reason: `exported ${rows.length} results to ${spec.exportType === "storage" ? `bos:/${spec.volumeId}/${exportPath}` : key}`, result };
}

export const evalExportRun = defineRunKind({
  kind: "eval-export", noun: "evaluation-result export", readAction: "eval:read", concurrency: "file-work", needsRuntime: false, spec: evalExportSpecSchema, run: runEvalExport,
});
