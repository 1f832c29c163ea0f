import { useState, type FormEvent } from "react";
import type { V1EvalResultList } from "@sailfin/contract/api";
import type { EvalTaskDetail } from "@sailfin/sdk";
import { useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { Empty, Loaded } from "../../ui/feedback.js";
import { Section, TableWrap } from "../../ui/layout.js";
import { formatNumber } from "../../ui/format.js";

const METRICS = [
  { value: "rouge_l", label: "ROUGE-L" },
  { value: "bleu4", label: "BLEU-4" },
  { value: "rouge_1", label: "ROUGE-1" },
  { value: "rouge_2", label: "ROUGE-2" },
  { value: "judgeScore", label: "Judge score" },
] as const;

const PAGE_SIZE = 20;

interface Filters {
  readonly version: string;
  readonly metric: string;
  readonly min: string;
  readonly max: string;
  readonly order: "asc" | "desc" | "";
}

const NO_FILTERS: Filters = { version: "", metric: "rouge_l", min: "", max: "", order: "" };

/**
 * Every sample's answer with its scores (`/wenxinworkshop/modelrepo/eval/result/list`, the only
 * per-sample listing), filtered by version and by a metric's range, sorted by that metric.
 */
export function SampleResults(props: { evaluation: EvalTaskDetail }) {
  const { client } = useSession();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [page, setPage] = useState(1);
  const results = useAsync((signal) => {
    const range: Record<string, number> = {};
    if (filters.min !== "") range.start = Number(filters.min);
    if (filters.max !== "") range.end = Number(filters.max);
    return client.callV1<V1EvalResultList>("/wenxinworkshop/modelrepo/eval/result/list", {
      id: props.evaluation.taskId, pageNo: page, pageSize: PAGE_SIZE,
      ...(filters.version === "" ? {} : { modelVersionIds: [filters.version] }),
      ...(Object.keys(range).length === 0 ? {} : { [filters.metric]: range }),
      ...(filters.order === "" ? {} : { orderBy: filters.metric, order: filters.order }),
    }, { idempotent: true, signal });
  }, [props.evaluation.taskId, page, filters]);
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setPage(1);
    setFilters(draft);
  };
  const models = props.evaluation.models;
  const metricLabel = METRICS.find((m) => m.value === draft.metric)?.label ?? draft.metric;

  return (
    <Section title="Per-sample results">
      <form className="filters" onSubmit={apply} aria-label="Filter results">
        <label className="field">
          <span>Version</span>
          <select value={draft.version} onChange={(e) => setDraft({ ...draft, version: e.target.value })}>
            <option value="">All versions</option>
            {models.map((m) => <option key={m.modelId} value={m.modelId}>{m.modelName}</option>)}
          </select>
        </label>
        <label className="field">
          <span>Metric</span>
          <select value={draft.metric} onChange={(e) => setDraft({ ...draft, metric: e.target.value })}>
            {METRICS.map((m) => <option key={m.value} value={m.value}>{m.label}</option>)}
          </select>
        </label>
        <label className="field narrow"><span>{metricLabel} ≥</span><input type="number" step="any" value={draft.min} onChange={(e) => setDraft({ ...draft, min: e.target.value })} /></label>
        <label className="field narrow"><span>{metricLabel} ≤</span><input type="number" step="any" value={draft.max} onChange={(e) => setDraft({ ...draft, max: e.target.value })} /></label>
        <label className="field">
          <span>Sort</span>
          <select value={draft.order} onChange={(e) => setDraft({ ...draft, order: e.target.value as Filters["order"] })}>
            <option value="">Sample order</option>
            <option value="desc">{metricLabel}, best first</option>
            <option value="asc">{metricLabel}, worst first</option>
          </select>
        </label>
        <div className="form-actions">
          <button type="submit">Apply</button>
          <button type="button" className="secondary" onClick={() => { setDraft(NO_FILTERS); setFilters(NO_FILTERS); setPage(1); }}>Reset</button>
        </div>
      </form>
      <Loaded state={results} what="results">
        {(data) => data.results.length === 0 ? (
          <Empty title="No result matches these filters."><p>Widen the range or pick all versions.</p></Empty>
        ) : (
          <>
            <TableWrap label="Per-sample results">
              <thead><tr><th scope="col">#</th><th scope="col">Version</th><th scope="col">Prompt</th><th scope="col">Answer</th><th scope="col">Reference</th><th scope="col">ROUGE-L</th><th scope="col">BLEU-4</th><th scope="col">Judge</th></tr></thead>
              <tbody data-testid="sample-results">
                {data.results.map((r) => (
                  <tr key={r.id}>
                    <td>{r.sampleIndex + 1}</td>
                    <td>{models[r.evalUnitIndex]?.modelName ?? r.evalUnitIndex}</td>
                    <td className="text-cell">{r.prompt}</td>
                    <td className="text-cell">{r.prediction}</td>
                    <td className="text-cell">{r.completion}</td>
                    <td>{formatNumber(r.metrics.rouge_l)}</td>
                    <td>{formatNumber(r.metrics.bleu4)}</td>
                    <td>{r.judgeError ? <span title={r.judgeError}>error</span> : formatNumber(r.judgeScore)}</td>
                  </tr>
                ))}
              </tbody>
            </TableWrap>
            <nav className="pager" aria-label="Result pages">
              <button type="button" className="secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
              <span>Page {data.pageNo} of {Math.max(1, Math.ceil(data.total / PAGE_SIZE))} · {data.total} results</span>
              <button type="button" className="secondary" disabled={page * PAGE_SIZE >= data.total} onClick={() => setPage(page + 1)}>Next</button>
            </nav>
          </>
        )}
      </Loaded>
    </Section>
  );
}
