import { useState } from "react";
import { useSession } from "../../lib/session.js";
import { Empty } from "../../ui/feedback.js";
import { PageHeader, ReadOnlyNote } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { ListTable } from "../../ui/list-table.js";
import { useMarkerList } from "../../lib/use-marker-list.js";
import { formatTime } from "../../ui/format.js";
import { ImportModelForm } from "./import-model-form.js";

/** Model sets (each a named series of versions) and importing a model. */
export function ModelSetsPage() {
  const { client, can } = useSession();
  const canWrite = can("model:write") && can("storage:write");
  const sets = useMarkerList((signal) => client.models.listSets({ maxKeys: 50 }, { signal }), []);
  const [importing, setImporting] = useState(false);
  return (
    <>
      <PageHeader title="Models" actions={canWrite && !importing ? <button type="button" onClick={() => setImporting(true)}>Import a model</button> : null} />
      {importing ? <ImportModelForm onCancel={() => setImporting(false)} /> : null}
      {!canWrite ? <ReadOnlyNote action="model:write" /> : null}
      <ListTable
        list={sets} noun={["model set", "model sets"]} label="Model sets" rowKey={(s) => s.modelSetId}
        columns={[
          { header: "Name", cell: (s) => <Link to={`/models/${s.modelSetId}`}>{s.modelSetName}</Link> },
          { header: "Versions", cell: (s) => s.modelCount },
          { header: "Latest", cell: (s) => s.modelIds[0] === undefined ? "—" : <Link to={`/versions/${s.modelIds[0]}`}>{s.modelNames[0] ?? s.modelIds[0]}</Link> },
          { header: "Type", cell: (s) => s.modelType },
          { header: "Updated", cell: (s) => formatTime(s.modifyTime) },
        ]}
        empty={
          <Empty title="No models yet.">
            <p>Import a base model (a Hugging Face style folder: config.json, model.safetensors, tokenizer files) to fine-tune it; published fine-tuning results and compressed versions appear here too.</p>
          </Empty>
        }
      />
    </>
  );
}
