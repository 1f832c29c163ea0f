import { useState, type FormEvent } from "react";
import { useAction, useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate, useLocation } from "../../lib/router.js";
import { allVersions } from "../../lib/all-versions.js";
import { useModelSetChoice } from "../../lib/model-set-choice.js";
import { ModelSetFields } from "../../ui/model-set-fields.js";
import { Empty, ErrorNote, Loaded } from "../../ui/feedback.js";
import { PageHeader, ReadOnlyNote } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { ListTable } from "../../ui/list-table.js";
import { useMarkerList } from "../../lib/use-marker-list.js";
import { StatusBadge } from "../../ui/status.js";
import { formatBytes, formatNumber, formatTime } from "../../ui/format.js";

/** The quantization presets the runtime implements (weight-only int8 / int4). */
const WEIGHTS = [
  { value: "W8A16C16", label: "int8 weights (W8A16C16): about half the size, near-lossless" },
  { value: "W4A16C16", label: "int4 weights (W4A16C16): about a quarter of the size, some loss" },
];

/** Compression tasks, compared side by side (sizes and perplexity before and after), and the form that starts one. */
export function CompressionsPage() {
  const { client, can } = useSession();
  const canWrite = can("comp:write");
  const { search } = useLocation();
  const source = search.get("source") ?? undefined;
  const comps = useMarkerList((signal) => client.compression.list({ maxKeys: 50 }, { signal }), []);
  const [creating, setCreating] = useState(source !== undefined);
  return (
    <>
      <PageHeader title="Compression" actions={canWrite && !creating ? <button type="button" onClick={() => setCreating(true)}>New compression</button> : null} />
      {creating && canWrite ? <NewCompressionForm source={source} onCancel={() => setCreating(false)} /> : null}
      {!canWrite ? <ReadOnlyNote action="comp:write" /> : null}
      <ListTable
        list={comps} noun={["compression task", "compression tasks"]} label="Compression tasks" rowKey={(c) => c.id}
        columns={[
          { header: "Name", cell: (c) => <Link to={`/compression/${c.id}`}>{c.name}</Link> },
          { header: "Status", cell: (c) => <StatusBadge status={c.status} /> },
          { header: "Source → result", cell: (c) => <><Link to={`/versions/${c.sourceModelId}`}>{c.sourceModelId}</Link>{c.modelId === "" ? null : <> → <Link to={`/versions/${c.modelId}`}>{c.modelId}</Link></>}</> },
          { header: "Weights", cell: (c) => String(c.config.weight ?? c.config.strategy ?? "") },
          { header: "Size before", cell: (c) => formatBytes(c.sizeBeforeBytes) },
          { header: "Size after", cell: (c) => formatBytes(c.sizeAfterBytes) },
          { header: "Perplexity before", cell: (c) => formatNumber(c.perplexityBefore) },
          { header: "Perplexity after", cell: (c) => formatNumber(c.perplexityAfter) },
          { header: "Δ perplexity", cell: (c) => c.perplexityDeltaPercent === null || c.perplexityDeltaPercent === undefined ? "—" : `${formatNumber(c.perplexityDeltaPercent, 3)}%` },
          { header: "Created", cell: (c) => formatTime(c.createTime) },
        ]}
        empty={
          <Empty title="No compression task yet.">
            <p>Quantizing a Ready model version to int8 or int4 makes a smaller version in a model set, with its size and perplexity measured before and after.</p>
          </Empty>
        }
      />
    </>
  );
}

function NewCompressionForm(props: { source: string | undefined; onCancel: () => void }) {
  const { client } = useSession();
  const options = useAsync(async (signal) => {
    const [versions, sets] = await Promise.all([allVersions(client, signal), client.models.listSets({ maxKeys: 100 }, { signal }).toArray(500)]);
    return { versions: versions.filter((v) => v.status === "Ready" && v.isSupportModelComp), sets };
  }, []);
  const [name, setName] = useState("int8");
  const [sourceId, setSourceId] = useState(props.source ?? "");
  const [weight, setWeight] = useState(WEIGHTS[0]!.value);
  const chosen = sourceId || options.data?.versions[0]?.modelId || "";
  const set = useModelSetChoice({ suggestedName: `${options.data?.versions.find((v) => v.modelId === chosen)?.modelName ?? "model"}-${weight === "W8A16C16" ? "int8" : "int4"}` });
  const create = useAction(async () => {
    const modelSetId = await set.resolve();
    const id = await client.compression.create({ name: name.trim(), sourceModelId: chosen, modelSetId, config: { strategy: "Quantization", weight } });
    navigate(`/compression/${id}`);
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create.run();
  };
  return (
    <section className="card form" aria-label="New compression">
      <h2>New compression</h2>
      <Loaded state={options} what="the compressible versions">
        {({ versions, sets }) => versions.length === 0 ? (
          <Empty title="No version can be compressed.">
            <p>Only Ready versions that are not compressed already can be: publish a fine-tuning task or import a model first.</p>
          </Empty>
        ) : (
          <form onSubmit={submit}>
            <div className="form-grid">
              <label className="field">
                <span>Name</span>
                <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
              </label>
              <label className="field">
                <span>Version to compress</span>
                <select value={chosen} onChange={(e) => setSourceId(e.target.value)}>
                  {versions.map((v) => <option key={v.modelId} value={v.modelId}>{v.modelName} ({v.modelId})</option>)}
                </select>
              </label>
              <label className="field wide">
                <span>Quantization</span>
                <select value={weight} onChange={(e) => setWeight(e.target.value)}>
                  {WEIGHTS.map((w) => <option key={w.value} value={w.value}>{w.label}</option>)}
                </select>
              </label>
              <ModelSetFields choice={set} sets={sets} label="Into model set" idPrefix="compress" />
            </div>
            <ErrorNote error={create.error} />
            <div className="form-actions">
              <button type="submit" disabled={create.busy || name.trim() === "" || chosen === "" || !set.ready}>{create.busy ? "Starting…" : "Start compression"}</button>
              <button type="button" className="secondary" onClick={props.onCancel}>Cancel</button>
            </div>
          </form>
        )}
      </Loaded>
    </section>
  );
}
