import { useAsync } from "../lib/use-async.js";
import { useSession } from "../lib/session.js";
import { Loaded } from "../ui/feedback.js";
import { PageHeader } from "../ui/layout.js";
import { Link } from "../ui/link.js";

/** Where things stand, and the order to do them in on a fresh installation. */
export function HomePage() {
  const { client, session } = useSession();
  // One page of each list: a count past a page shows as "100+" (an overview, not an audit).
  const counts = useAsync(async (signal) => {
    const count = async (list: { itemPages(): AsyncGenerator<{ readonly items: readonly unknown[]; readonly more: boolean }> }) => {
      const first = await list.itemPages().next();
      return first.done === true ? { n: 0, more: false } : { n: first.value.items.length, more: first.value.more };
    };
    const [datasets, jobs, models, evaluations] = await Promise.all([
      count(client.datasets.list({ maxKeys: 100 }, { signal })),
      count(client.jobs.list({ maxKeys: 100 }, { signal })),
      count(client.models.listSets({ maxKeys: 100 }, { signal })),
      count(client.evaluations.list({ maxKeys: 100 }, { signal })),
    ]);
    return { datasets, jobs, models, evaluations };
  }, []);
  const shown = (c: { n: number; more: boolean }) => `${c.n}${c.more ? "+" : ""}`;
  return (
    <>
      <PageHeader title="Overview" sub={<span className="muted">Signed in as <code>{session.accessKey}</code> ({session.policies.join(", ")})</span>} />
      <Loaded state={counts} what="the overview">
        {(c) => (
          <>
            <div className="cards">
              <Link to="/models" className="card stat-card"><span className="stat-value">{shown(c.models)}</span><span>model sets</span></Link>
              <Link to="/datasets" className="card stat-card"><span className="stat-value">{shown(c.datasets)}</span><span>datasets</span></Link>
              <Link to="/jobs" className="card stat-card"><span className="stat-value">{shown(c.jobs)}</span><span>fine-tuning jobs</span></Link>
              <Link to="/evaluations" className="card stat-card"><span className="stat-value">{shown(c.evaluations)}</span><span>evaluations</span></Link>
            </div>
            <ol className="steps">
              <li className={c.models.n > 0 ? "done" : undefined}><Link to="/models">Import a base model</Link> (a folder with config.json, model.safetensors and tokenizer files).</li>
              <li className={c.datasets.n > 0 ? "done" : undefined}><Link to="/datasets">Upload a dataset</Link>, read its validation report, and release it.</li>
              <li className={c.jobs.n > 0 ? "done" : undefined}><Link to="/jobs">Create a fine-tuning job</Link>, get the quote of a task, start it and watch the loss.</li>
              <li>Publish the result as a model version, <Link to="/compression">compress</Link> it, and <Link to="/evaluations">evaluate</Link> the versions side by side.</li>
            </ol>
          </>
        )}
      </Loaded>
    </>
  );
}
