import { toCsv } from "../artifacts/csv.js";
import type { ZipEntry } from "../artifacts/zip.js";
import type { EvalResultRow } from "./eval-tasks.js";
import type { EvalUnitSpec, ExportContent } from "./eval-spec.js";

/**
 * The files of an evaluation-result export zip:
 * - `data.jsonl`, Qianfan's layout (reference §18), which the official Python SDK's
 *   `EvaluationManager.eval` opens at the archive root: one line per sample, each a JSON array
 *   holding one object with Qianfan's Chinese column names and every metric as a string
 *   (`"58.62%"`, judge score `"5"`);
 * - `results.jsonl` and `results.csv`, Sailfin's own: ids, English names and raw numbers.
 * Only the columns chosen by `exportContent` are written, in both layouts.
 */

/** Qianfan's `data.jsonl` column names (the platform's own export, reference §18). */
const QIANFAN_EXPORT_COLUMNS = {
  modelName: "模型名称",
  modelVersion: "模型版本",
  prompt: "Prompt",
  prediction: "Completion（模型回答）",
  completion: "Response（参考答案）",
  bleu4: "BLEU-4",
  rouge_1: "ROUGE-1",
  rouge_2: "ROUGE-2",
  rouge_l: "ROUGE-L",
  judgeScore: "裁判员模型打分",
  judgeReason: "裁判员模型打分理由",
  /** Not seen in Qianfan's export (its SDK never asks for `system`): Sailfin's name. */
  system: "System",
} as const;

/** Rule metrics in Qianfan's export, in its column order. */
const RULE_METRICS = ["bleu4", "rouge_1", "rouge_2", "rouge_l"] as const;

/** A 0..1 metric as Qianfan writes it: a percentage string with two decimals. */
function percent(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

/** One sample as a `data.jsonl` object. */
function qianfanRecord(row: EvalResultRow, unit: EvalUnitSpec | undefined, content: readonly ExportContent[]): Record<string, string> {
  const c = QIANFAN_EXPORT_COLUMNS;
  const record: Record<string, string> = {
    [c.modelName]: unit?.modelName ?? "",
    [c.modelVersion]: unit === undefined ? "" : `V${unit.version}`,
  };
  if (content.includes("system")) record[c.system] = unit?.params.system ?? "";
  if (content.includes("prompt")) record[c.prompt] = row.prompt;
  if (content.includes("prediction")) record[c.prediction] = row.prediction;
  if (content.includes("completion")) record[c.completion] = row.reference;
  if (content.includes("metrics")) {
    for (const name of RULE_METRICS) {
      const value = row.metrics[name];
      if (typeof value === "number") record[c[name]] = percent(value);
    }
    // A judged sample has a score or the reason it has none; Sailfin does not keep the judge's
    // own explanation, so the reason column is empty for a scored sample.
    if (row.judgeScore !== null || row.judgeError !== null) {
      record[c.judgeScore] = row.judgeScore === null ? "" : String(row.judgeScore);
      record[c.judgeReason] = row.judgeError ?? "";
    }
  }
  return record;
}

/** One sample as a line of Sailfin's own `results.jsonl` / row of `results.csv`. */
function sailfinRecord(row: EvalResultRow, unit: EvalUnitSpec | undefined, content: readonly ExportContent[]): Record<string, unknown> {
  const record: Record<string, unknown> = { resultId: row.num, modelVersionId: unit?.modelVersionId ?? "", modelName: unit?.modelName ?? "", sampleIndex: row.sampleIndex };
  if (content.includes("system")) record.system = unit?.params.system ?? "";
  if (content.includes("prompt")) record.prompt = row.prompt;
  if (content.includes("prediction")) record.prediction = row.prediction;
  if (content.includes("completion")) record.completion = row.reference;
  if (content.includes("metrics")) record.metrics = { ...row.metrics, ...(row.judgeScore === null ? {} : { judgeScore: row.judgeScore }) };
  return record;
}

const jsonLines = (values: readonly unknown[]): string => values.map((v) => JSON.stringify(v)).join("\n") + (values.length > 0 ? "\n" : "");

/**
 * The zip entries of an export of `rows` (results of the evaluation whose units are `units`).
 *
 * @example zipFiles(evalExportFiles(rows, spec.units, ["prompt", "prediction", "completion", "metrics"]))
 */
export function evalExportFiles(rows: readonly EvalResultRow[], units: readonly EvalUnitSpec[], content: readonly ExportContent[]): ZipEntry[] {
  const qianfan = rows.map((r) => [qianfanRecord(r, units[r.unitIndex], content)]);
  const own = rows.map((r) => sailfinRecord(r, units[r.unitIndex], content));
  const header = own.length > 0 ? Object.keys(own[0]!) : ["resultId", "modelVersionId", "modelName", "sampleIndex", ...content];
  return [
    { name: "data.jsonl", data: jsonLines(qianfan) },
    { name: "results.jsonl", data: jsonLines(own) },
    { name: "results.csv", data: toCsv(header, own.map((r) => header.map((h) => r[h]))) },
  ];
}
