import { useMemo, useState, type FormEvent } from "react";
import type { CreateFineTuningTaskBody, FineTuningJobItem, FineTuningTaskQuote, HyperParameterDef, SupportModel } from "@sailfin/sdk";
import { useAction, useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate } from "../../lib/router.js";
import { TRAIN_MODE_FORMATS, releasedVersions, type ReleasedVersion } from "../../lib/released-versions.js";
import { Empty, ErrorNote, Loaded } from "../../ui/feedback.js";
import { Link } from "../../ui/link.js";
import { Facts } from "../../ui/layout.js";
import { formatCount, formatDuration, formatNumber } from "../../ui/format.js";
import { HyperParameterFields } from "./hyper-parameter-fields.js";
import { checkAll, initialValue, type RawValue } from "./hyper-parameters.js";

type TaskBody = CreateFineTuningTaskBody;

/**
 * A new task of `job`: parameter scale and hyper-parameters from DescribeFineTuningSupportModels
 * (ranges and choices enforced before sending), released datasets of a format the train mode
 * reads, and the quote (DescribeFineTuningTaskQuote) before anything starts: Start is enabled
 * only once the quote shown is the quote of exactly what would be sent.
 */
export function NewTaskForm(props: { job: FineTuningJobItem; onCancel: () => void }) {
  const { client } = useSession();
  const formats = TRAIN_MODE_FORMATS[props.job.trainMode] ?? [];
  const loaded = useAsync(async (signal) => {
    const [models, versions] = await Promise.all([
      client.jobs.supportModels({ signal }),
      releasedVersions(client, (f) => formats.includes(f), signal),
    ]);
    return { models, versions };
  }, [props.job.jobId]);
  return (
    <section className="card form" aria-label="New fine-tuning task">
      <h2>New task</h2>
      <Loaded state={loaded} what="the hyper-parameter table and datasets">
        {({ models, versions }) => {
          const support = findSupport(models, props.job);
          if (support === null) {
            return <Empty title={`The base model ${props.job.model} cannot be trained in ${props.job.trainMode} any more.`}><p>It may have been deleted: create a job on a model listed under <Link to="/models">Models</Link>.</p></Empty>;
          }
          if (versions.length === 0) {
            return (
              <Empty title="No released dataset to train on.">
                <p>{props.job.trainMode} trains on {formats.join(" or ")} data. <Link to="/datasets">Upload and release a dataset</Link> first.</p>
              </Empty>
            );
          }
          return <TaskFields job={props.job} scales={support} versions={versions} onCancel={props.onCancel} />;
        }}
      </Loaded>
    </section>
  );
}

type Scales = ReadonlyArray<{ parameterScale: string; supportHyperParameterConfig: readonly HyperParameterDef[] }>;

function findSupport(models: readonly SupportModel[], job: FineTuningJobItem): Scales | null {
  const model = models.find((m) => m.model === job.model);
  return model?.supportTrainMode.find((m) => m.trainMode === job.trainMode)?.supportParameterScale ?? null;
}

function TaskFields(props: { job: FineTuningJobItem; scales: Scales; versions: readonly ReleasedVersion[]; onCancel: () => void }) {
  const { client } = useSession();
  const [scale, setScale] = useState(props.scales[0]!.parameterScale);
  const defs = props.scales.find((s) => s.parameterScale === scale)?.supportHyperParameterConfig ?? [];
  const [raw, setRaw] = useState<Record<string, RawValue>>({});
  const [picked, setPicked] = useState<Record<string, string>>(() => ({ [props.versions[0]!.versionId]: "1" }));
  const [splitRatio, setSplitRatio] = useState("0");
  const [description, setDescription] = useState("");
  const [quoted, setQuoted] = useState<{ key: string; quote: FineTuningTaskQuote } | null>(null);

  const { values, errors } = useMemo(() => checkAll(defs, raw), [defs, raw]);
  const datasetErrors: string[] = [];
  const entries = Object.entries(picked).map(([versionId, rate]) => {
    const n = Number(rate);
    if (!Number.isFinite(n) || n < 0.01 || n > 10) datasetErrors.push(`the sampling rate of ${versionId} must be between 0.01 and 10`);
    return { versionId, samplingRate: n };
  });
  if (entries.length === 0) datasetErrors.push("pick at least one dataset version");
  const split = Number(splitRatio);
  const splitError = splitRatio.trim() === "" || !Number.isInteger(split) || split < 0 || split > 20 ? "a whole number between 0 and 20" : undefined;
  const valid = Object.keys(errors).length === 0 && datasetErrors.length === 0 && splitError === undefined;

  const body: TaskBody = {
    jobId: props.job.jobId, parameterScale: scale, hyperParameterConfig: values,
    datasetConfig: { sourceType: "Platform", versions: entries, splitRatio: split },
    ...(description.trim() === "" ? {} : { description: description.trim() }),
  };
  const key = JSON.stringify(body);
  const quoteIsCurrent = quoted !== null && quoted.key === key;

  const quote = useAction(async () => {
    const result = await client.tasks.quote(body);
    setQuoted({ key, quote: result });
  });
  const start = useAction(async () => {
    const created = await client.tasks.create(body);
    navigate(`/tasks/${created.taskId}`);
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!valid) return;
    void (quoteIsCurrent ? start.run() : quote.run());
  };

  return (
    <form onSubmit={submit} noValidate>
      <div className="form-grid">
        <label className="field">
          <span>Parameter scale</span>
          <select name="parameterScale" value={scale} onChange={(e) => { setScale(e.target.value); setRaw({}); }}>
            {props.scales.map((s) => <option key={s.parameterScale} value={s.parameterScale}>{s.parameterScale}</option>)}
          </select>
        </label>
        <div className="field">
          <label htmlFor="split-ratio">Validation split (% held out, 0 – 20)</label>
          <input id="split-ratio" type="number" min={0} max={20} step={1} value={splitRatio} aria-invalid={splitError !== undefined}
            aria-describedby="split-ratio-help" onChange={(e) => setSplitRatio(e.target.value)} />
          <small id="split-ratio-help" className={splitError === undefined ? "help" : "field-error"}>{splitError ?? "Held-out rows give the eval loss on the chart."}</small>
        </div>
        <label className="field wide">
          <span>Description (optional)</span>
          <input maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
      </div>

      <fieldset className="datasets">
        <legend>Training data (released {props.job.trainMode} datasets)</legend>
        {props.versions.map((v) => {
          const on = picked[v.versionId] !== undefined;
          return (
            <div key={v.versionId} className="dataset-pick">
              <label className="check">
                <input type="checkbox" checked={on} onChange={(e) => setPicked((p) => {
                  const next = { ...p };
                  if (e.target.checked) next[v.versionId] = "1";
                  else delete next[v.versionId];
                  return next;
                })} />
                {v.datasetName} <span className="muted">V{v.version} · {formatCount(v.sampleCount)} samples · {v.dataFormat}</span>
              </label>
              {on ? (
                <label className="inline-field">
                  <span>sampling rate</span>
                  <input type="number" min={0.01} max={10} step="any" value={picked[v.versionId]} onChange={(e) => setPicked((p) => ({ ...p, [v.versionId]: e.target.value }))} />
                </label>
              ) : null}
            </div>
          );
        })}
        {datasetErrors.map((e) => <small key={e} className="field-error" role="alert">{e}</small>)}
      </fieldset>

      <details className="hp" open>
        <summary>Hyper-parameters ({scale})</summary>
        <HyperParameterFields defs={defs} values={{ ...Object.fromEntries(defs.map((d) => [d.key, initialValue(d)])), ...raw }} errors={errors}
          onChange={(k, v) => setRaw((r) => ({ ...r, [k]: v }))} />
      </details>

      {quoted === null ? null : <QuoteCard quote={quoted.quote} stale={!quoteIsCurrent} />}
      <ErrorNote error={quote.error ?? start.error} />
      <div className="form-actions">
        <button type="button" className={quoteIsCurrent ? "secondary" : undefined} disabled={!valid || quote.busy} onClick={() => { void quote.run(); }}>
          {quote.busy ? "Quoting…" : quoteIsCurrent ? "Quote again" : "Get quote"}
        </button>
        <button type="button" disabled={!valid || !quoteIsCurrent || start.busy} onClick={() => { void start.run(); }}
          title={quoteIsCurrent ? undefined : "Get the quote of these settings first"}>
          {start.busy ? "Starting…" : "Start training"}
        </button>
        <button type="button" className="secondary" onClick={props.onCancel}>Cancel</button>
        {!valid ? <span className="field-error">Correct the highlighted fields first.</span> : null}
      </div>
    </form>
  );
}

function QuoteCard(props: { quote: FineTuningTaskQuote; stale: boolean }) {
  const q = props.quote;
  return (
    <div className={`quote${props.stale ? " stale" : ""}`} data-testid="quote" aria-live="polite">
      <h3>Quote{props.stale ? " (for earlier settings: get it again)" : ""}</h3>
      <Facts items={[
        ["Training rows", formatCount(q.trainRows)],
        ["Validation rows", formatCount(q.validationRows)],
        ["Examples", formatCount(q.examples)],
        ["Tokens per epoch", formatCount(q.trainedTokensPerEpoch)],
        ["Epochs", formatCount(q.epochs)],
        ["Trained tokens", formatCount(q.trainedTokens)],
        ["Steps", `${formatCount(q.totalSteps)} (${formatCount(q.stepsPerEpoch)} per epoch)`],
        ["Estimated time", q.etaSeconds === null ? "unknown until a task on this model has finished" : formatDuration(q.etaSeconds)],
        ["Throughput basis", q.tokensPerSecond === null ? "no finished run yet" : `${formatNumber(q.tokensPerSecond, 3)} tokens/s over ${q.throughputRuns} run${q.throughputRuns === 1 ? "" : "s"}`],
      ]} />
    </div>
  );
}
