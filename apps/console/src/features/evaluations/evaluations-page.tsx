import { useState, type FormEvent } from "react";
import { useAction, useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate, useLocation } from "../../lib/router.js";
import { allVersions } from "../../lib/all-versions.js";
import { TRAIN_MODE_FORMATS, releasedVersions } from "../../lib/released-versions.js";
import { Empty, ErrorNote, Loaded } from "../../ui/feedback.js";
import { PageHeader, ReadOnlyNote } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { ListTable } from "../../ui/list-table.js";
import { useMarkerList } from "../../lib/use-marker-list.js";
import { StatusBadge } from "../../ui/status.js";
import { formatPercent, formatTime } from "../../ui/format.js";

/** Evaluations, and the form that evaluates model versions on a released dataset. */
export function EvaluationsPage() {
  const { client, can } = useSession();
  const canWrite = can("eval:write");
  const { search } = useLocation();
  const preset = search.get("models")?.split(",").filter(Boolean) ?? [];
  const evals = useMarkerList((signal) => client.evaluations.list({ maxKeys: 50 }, { signal }), []);
  const [creating, setCreating] = useState(preset.length > 0);
  return (
    <>
      <PageHeader title="Evaluations" actions={canWrite && !creating ? <button type="button" onClick={() => setCreating(true)}>New evaluation</button> : null} />
      {creating && canWrite ? <NewEvaluationForm preset={preset} onCancel={() => setCreating(false)} /> : null}
      {!canWrite ? <ReadOnlyNote action="eval:write" /> : null}
      <ListTable
        list={evals} noun={["evaluation", "evaluations"]} label="Evaluations" rowKey={(e) => e.taskId}
        columns={[
          { header: "Name", cell: (e) => <Link to={`/evaluations/${e.taskId}`}>{e.taskName}</Link> },
          { header: "State", cell: (e) => <StatusBadge status={e.state} /> },
          { header: "Progress", cell: (e) => formatPercent(e.progress) },
          { header: "Versions", cell: (e) => e.models.map((m) => m.modelName).join(", ") },
          { header: "Metrics", cell: (e) => e.evalMode },
          { header: "Created", cell: (e) => formatTime(e.createTime) },
        ]}
        empty={
          <Empty title="No evaluation yet.">
            <p>An evaluation runs model versions over a released prompt/response dataset and scores their answers (ROUGE, BLEU, accuracy, and a judge model when one is configured), side by side.</p>
          </Empty>
        }
      />
    </>
  );
}

function NewEvaluationForm(props: { preset: readonly string[]; onCancel: () => void }) {
  const { client } = useSession();
  const sft = TRAIN_MODE_FORMATS.SFT ?? [];
  const options = useAsync(async (signal) => {
    const [versions, datasets] = await Promise.all([allVersions(client, signal), releasedVersions(client, (f) => sft.includes(f), signal)]);
    return { versions: versions.filter((v) => v.status === "Ready"), datasets };
  }, []);
  const [name, setName] = useState("");
  const [datasetVersion, setDatasetVersion] = useState("");
  const [picked, setPicked] = useState<ReadonlySet<string>>(() => new Set(props.preset));
  const [judge, setJudge] = useState(false);
  const [judgeUrl, setJudgeUrl] = useState("");
  const [judgeName, setJudgeName] = useState("");
  const [maxTokens, setMaxTokens] = useState("64");
  const [template, setTemplate] = useState("");
  const tokens = Number(maxTokens);
  const tokensError = !Number.isInteger(tokens) || tokens < 1 || tokens > 4096 ? "a whole number between 1 and 4096" : undefined;
  const templateError = template !== "" && !template.includes("{input}") ? "must contain {input}" : undefined;

  const create = useAction(async () => {
    const dataset = datasetVersion || options.data?.datasets[0]?.versionId || "";
    const id = await client.evaluations.create({
      taskName: name.trim(), evalObjectType: "model",
      evalObjectConfig: {
        evalModelConfig: {
          versionId: dataset,
          evalModelConfigList: [...picked].map((modelId) => ({
            modelId, inferenceParams: { max_output_tokens: tokens }, ...(template === "" ? {} : { promptTemplate: template }),
          })),
        },
      },
      evalConfig: {
        evalMode: judge ? "rule,model" : "rule",
        ...(judge ? { autoModelEvalConfig: { ...(judgeUrl.trim() === "" ? {} : { apiUrl: judgeUrl.trim() }), ...(judgeName.trim() === "" ? {} : { apiName: judgeName.trim() }) } } : {}),
      },
    });
    navigate(`/evaluations/${id}`);
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create.run();
  };
  return (
    <section className="card form" aria-label="New evaluation">
      <h2>New evaluation</h2>
      <Loaded state={options} what="versions and datasets">
        {({ versions, datasets }) => versions.length === 0 || datasets.length === 0 ? (
          <Empty title={versions.length === 0 ? "No Ready model version to evaluate." : "No released prompt/response dataset to evaluate on."}>
            <p>{versions.length === 0 ? <>Import a model or publish a fine-tuning task under <Link to="/models">Models</Link>.</> : <>Upload and release one under <Link to="/datasets">Datasets</Link>: each line's response is the reference answer.</>}</p>
          </Empty>
        ) : (
          <form onSubmit={submit}>
            <div className="form-grid">
              <label className="field">
                <span>Name</span>
                <input name="taskName" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
              </label>
              <label className="field">
                <span>Dataset (released)</span>
                <select name="dataset" value={datasetVersion || datasets[0]!.versionId} onChange={(e) => setDatasetVersion(e.target.value)}>
                  {datasets.map((d) => <option key={d.versionId} value={d.versionId}>{d.datasetName} V{d.version} ({d.sampleCount} samples)</option>)}
                </select>
              </label>
              <div className="field">
                <label htmlFor="eval-max-tokens">Max output tokens</label>
                <input id="eval-max-tokens" type="number" min={1} max={4096} step={1} value={maxTokens} aria-invalid={tokensError !== undefined} aria-describedby="eval-max-tokens-help" onChange={(e) => setMaxTokens(e.target.value)} />
                <small id="eval-max-tokens-help" className={tokensError === undefined ? "help" : "field-error"}>{tokensError ?? "1 – 4096"}</small>
              </div>
              <div className="field">
                <label htmlFor="eval-template">Prompt template (optional)</label>
                <input id="eval-template" value={template} placeholder="{input}" aria-invalid={templateError !== undefined} aria-describedby="eval-template-help" onChange={(e) => setTemplate(e.target.value)} />
                <small id="eval-template-help" className={templateError === undefined ? "help" : "field-error"}>{templateError ?? "Wraps each prompt; {input} is replaced by it."}</small>
              </div>
            </div>
            <fieldset className="datasets">
              <legend>Model versions to compare</legend>
              {versions.map((v) => (
                <label key={v.modelId} className="check">
                  <input type="checkbox" checked={picked.has(v.modelId)} onChange={(e) => setPicked((p) => {
                    const next = new Set(p);
                    if (e.target.checked) next.add(v.modelId);
                    else next.delete(v.modelId);
                    return next;
                  })} />
                  {v.modelName} <span className="muted">{v.modelId} · {v.sourceInfo.sourceType}</span>
                </label>
              ))}
              {picked.size === 0 ? <small className="field-error">Pick at least one version.</small> : null}
            </fieldset>
            <fieldset className="datasets">
              <legend>Scoring</legend>
              <p className="muted small">Rule metrics (accuracy, F1, ROUGE, BLEU-4) are always computed.</p>
              <label className="check"><input type="checkbox" checked={judge} onChange={(e) => setJudge(e.target.checked)} /> Also score with a judge model</label>
              {judge ? (
                <div className="form-grid">
                  <label className="field"><span>Judge URL (empty: the server's default)</span><input type="url" value={judgeUrl} onChange={(e) => setJudgeUrl(e.target.value)} /></label>
                  <label className="field"><span>Judge model name</span><input value={judgeName} onChange={(e) => setJudgeName(e.target.value)} /></label>
                </div>
              ) : null}
            </fieldset>
            <ErrorNote error={create.error} />
            <div className="form-actions">
              <button type="submit" disabled={create.busy || name.trim() === "" || picked.size === 0 || tokensError !== undefined || templateError !== undefined}>{create.busy ? "Starting…" : "Start evaluation"}</button>
              <button type="button" className="secondary" onClick={props.onCancel}>Cancel</button>
            </div>
          </form>
        )}
      </Loaded>
    </section>
  );
}
