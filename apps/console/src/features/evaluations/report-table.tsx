import type { EvalEffectMetric, EvalModelReport, EvalTaskReport } from "@sailfin/sdk";
import { TableWrap } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { formatBytes, formatCount, formatNumber } from "../../ui/format.js";

type Row = { label: string; value: (r: EvalModelReport) => number | undefined; format: (n: number | undefined) => string; better: "high" | "low" | null };

const metric = (key: keyof Omit<EvalEffectMetric, "scoreDistribution" | "manualScoreDistribution">) => (r: EvalModelReport) => r.effectMetric[key];

/** A manual evaluation's mean per dimension, one row each (the dimensions are the evaluation's own). */
function manualRows(reports: readonly EvalModelReport[]): Row[] {
  const dimensions = [...new Set(reports.flatMap((r) => (r.effectMetric.manualScoreDistribution ?? []).map((d) => d.dimension)))];
  return dimensions.map((dimension) => ({
    label: `${dimension} (people, mean)`,
    value: (r) => r.effectMetric.manualScoreDistribution?.find((d) => d.dimension === dimension)?.avgScore ?? undefined,
    format: (n) => formatNumber(n), better: "high",
  }));
}

const ROWS: readonly Row[] = [
  { label: "Accuracy", value: metric("accuracy"), format: (n) => formatNumber(n), better: "high" },
  { label: "F1", value: metric("f1Score"), format: (n) => formatNumber(n), better: "high" },
  { label: "ROUGE-1", value: metric("rouge_1"), format: (n) => formatNumber(n), better: "high" },
  { label: "ROUGE-2", value: metric("rouge_2"), format: (n) => formatNumber(n), better: "high" },
  { label: "ROUGE-L", value: metric("rouge_l"), format: (n) => formatNumber(n), better: "high" },
  { label: "BLEU-4", value: metric("bleu4"), format: (n) => formatNumber(n), better: "high" },
  { label: "Judge score (mean)", value: metric("avgJudgeScore"), format: (n) => formatNumber(n), better: "high" },
  { label: "Judge score (median)", value: metric("medianJudgeScore"), format: (n) => formatNumber(n), better: "high" },
  { label: "Judge score (std)", value: metric("stdJudgeScore"), format: (n) => formatNumber(n), better: null },
  { label: "Size", value: (r) => r.sizeBytes, format: (n) => formatBytes(n), better: "low" },
  { label: "Tokens/s", value: (r) => r.tokensPerSecond, format: (n) => formatNumber(n, 3), better: "high" },
  { label: "Samples", value: (r) => r.samples, format: (n) => formatCount(n), better: null },
  { label: "Failed samples", value: (r) => r.failedSamples, format: (n) => formatCount(n), better: "low" },
];

/** The evaluated versions side by side: one column per version, the best value of each row marked. */
export function ReportTable(props: { report: EvalTaskReport }) {
  const reports = props.report.reports;
  const rows = [...ROWS, ...manualRows(reports)].filter((row) => reports.some((r) => row.value(r) !== undefined));
  return (
    <TableWrap label="Report: versions side by side">
      <thead>
        <tr><th scope="col">Metric</th>{reports.map((r) => <th scope="col" key={r.modelId}><Link to={r.modelId.startsWith("ds-") ? `/dataset-versions/${r.modelId}` : `/versions/${r.modelId}`}>{r.modelName}</Link></th>)}</tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const values = reports.map((r) => row.value(r));
          const known = values.filter((v): v is number => v !== undefined);
          // The best of differing values; a tie across every version marks nothing.
          const best = row.better === null || known.length < 2 || known.every((v) => v === known[0]) ? undefined
            : row.better === "high" ? Math.max(...known) : Math.min(...known);
          return (
            <tr key={row.label}>
              <th scope="row">{row.label}</th>
              {values.map((v, i) => <td key={reports[i]!.modelId} className={v !== undefined && v === best ? "best" : undefined}>{row.format(v)}{v !== undefined && v === best ? <span className="sr-only"> (best)</span> : null}</td>)}
            </tr>
          );
        })}
      </tbody>
    </TableWrap>
  );
}
