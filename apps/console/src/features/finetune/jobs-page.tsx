import { useState, type FormEvent } from "react";
import type { SupportModel, SupportModelSpec, TrainMode } from "@sailfin/sdk";
import { useAction, useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate } from "../../lib/router.js";
import { Empty, ErrorNote, Loaded } from "../../ui/feedback.js";
import { PageHeader, ReadOnlyNote } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { ListTable } from "../../ui/list-table.js";
import { useMarkerList } from "../../lib/use-marker-list.js";
import { formatCount, formatTime } from "../../ui/format.js";

/** Fine-tuning jobs (the containers tasks run under) and the form that creates one. */
export function JobsPage() {
  const { client, can } = useSession();
  const canWrite = can("tuning:write");
  const jobs = useMarkerList((signal) => client.jobs.list({ maxKeys: 50 }, { signal }), []);
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageHeader title="Fine-tuning" actions={canWrite && !creating ? <button type="button" onClick={() => setCreating(true)}>New job</button> : null} />
      {creating ? <NewJobForm onCancel={() => setCreating(false)} /> : null}
      {!canWrite ? <ReadOnlyNote action="tuning:write" /> : null}
      <ListTable
        list={jobs} noun={["job", "jobs"]} label="Fine-tuning jobs" rowKey={(job) => job.jobId}
        columns={[
          { header: "Name", cell: (job) => <><Link to={`/jobs/${job.jobId}`}>{job.name}</Link>{job.description === "" ? null : <div className="muted small">{job.description}</div>}</> },
          { header: "Base model", cell: (job) => job.model },
          { header: "Train mode", cell: (job) => job.trainMode },
          { header: "Created", cell: (job) => formatTime(job.createTime) },
        ]}
        empty={
          <Empty title="No fine-tuning jobs yet.">
            <p>A job names a base model and a train mode; its tasks are the training runs. {canWrite ? <>Start with <strong>New job</strong>.</> : null}</p>
            <p className="muted small">Base models come from <Link to="/models">Models</Link> (import one there first); training data from <Link to="/datasets">Datasets</Link>.</p>
          </Empty>
        }
      />
    </>
  );
}

function NewJobForm(props: { onCancel: () => void }) {
  const { client } = useSession();
  const support = useAsync((signal) => client.jobs.supportModels({ signal }), []);
  return (
    <section className="card form" aria-label="New fine-tuning job">
      <h2>New fine-tuning job</h2>
      <Loaded state={support} what="the base models">
        {(models) => models.length === 0 ? (
          <Empty title="No base model to fine-tune.">
            <p><Link to="/models">Import a model</Link> first (a folder with config.json, model.safetensors and tokenizer files); once it is Ready it can be trained.</p>
          </Empty>
        ) : <JobFields models={models} onCancel={props.onCancel} />}
      </Loaded>
    </section>
  );
}

function JobFields(props: { models: readonly SupportModel[]; onCancel: () => void }) {
  const { client } = useSession();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [model, setModel] = useState(props.models[0]!.model);
  const selected = props.models.find((m) => m.model === model);
  const modes = selected?.supportTrainMode.map((m) => m.trainMode) ?? [];
  const [trainMode, setTrainMode] = useState<TrainMode>(modes[0] ?? "SFT");
  const nameError = name.length > 0 && (name.trim().length < 2 || name.trim().length > 20) ? "2 to 20 characters" : undefined;
  const create = useAction(async () => {
    const created = await client.jobs.create({
      name: name.trim(), model, trainMode,
      ...(description.trim() === "" ? {} : { description: description.trim() }),
    });
    navigate(`/jobs/${created.jobId}`);
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create.run();
  };
  return (
    <form onSubmit={submit}>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="job-name">Name</label>
          <input id="job-name" name="name" required minLength={2} maxLength={20} value={name} aria-invalid={nameError !== undefined}
            aria-describedby="job-name-help" onChange={(e) => setName(e.target.value)} />
          <small id="job-name-help" className={nameError === undefined ? "help" : "field-error"}>{nameError ?? "2 to 20 characters."}</small>
        </div>
        <div className="field">
          <label htmlFor="job-model">Base model</label>
          <select id="job-model" name="model" value={model} aria-describedby="job-model-facts" onChange={(e) => {
            setModel(e.target.value);
            const next = props.models.find((m) => m.model === e.target.value)?.supportTrainMode.map((m) => m.trainMode) ?? [];
            if (!next.includes(trainMode)) setTrainMode(next[0] ?? "SFT");
          }}>
            {props.models.map((m) => <option key={m.model} value={m.model}>{m.model} ({m.modelSpec.family})</option>)}
          </select>
          <small id="job-model-facts" className="help">{selected === undefined ? "" : modelFacts(selected.modelSpec)}</small>
        </div>
        <label className="field">
          <span>Train mode</span>
          <select name="trainMode" value={trainMode} onChange={(e) => setTrainMode(e.target.value as TrainMode)}>
            {modes.map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </label>
        <label className="field wide">
          <span>Description (optional)</span>
          <input name="description" maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
      </div>
      <ErrorNote error={create.error} />
      <div className="form-actions">
        <button type="submit" disabled={create.busy || name.trim().length < 2 || nameError !== undefined}>{create.busy ? "Creating…" : "Create job"}</button>
        <button type="button" className="secondary" onClick={props.onCancel}>Cancel</button>
      </div>
    </form>
  );
}

/** What the chosen base model is, from DescribeFineTuningSupportModels' `modelSpec` (checked at import). */
function modelFacts(spec: SupportModelSpec): string {
  const facts = [spec.architecture, `${formatCount(spec.parameterCount)} parameters`, `context ${formatCount(spec.maxPositionEmbeddings)} tokens`];
  if (spec.slidingWindow !== null) facts.push(`sliding window ${formatCount(spec.slidingWindow)} tokens`);
  if (spec.ropeScaling !== null) facts.push(`RoPE scaling ${spec.ropeScaling}`);
  if (spec.tieWordEmbeddings) facts.push("tied embeddings");
  facts.push(spec.hasChatTemplate ? "chat template" : "no chat template");
  return facts.join(" · ");
}
