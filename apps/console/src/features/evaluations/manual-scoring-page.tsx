import { useState, type FormEvent } from "react";
import type { EvalManualDimension, EvalManualSample } from "@sailfin/contract/api";
import { useAction, useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate } from "../../lib/router.js";
import { ErrorNote, Loaded } from "../../ui/feedback.js";
import { Facts, PageHeader, ProgressBar, ReadOnlyNote, Section } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { StatusBadge } from "../../ui/status.js";

/**
 * Scoring a manual evaluation: every answer beside its prompt and reference, one score per
 * dimension in the dimension's range, each saved once (the server refuses a second score). The
 * last score finishes the evaluation; the owner may finish it earlier.
 */
export function ManualScoringPage(props: { id: string }) {
  const { client, can } = useSession();
  const scoring = useAsync((signal) => client.evaluations.manualSamples({ taskId: props.id }, { signal }), [props.id]);
  const finish = useAction(async () => {
    await client.evaluations.finishScoring({ taskId: props.id });
    navigate(`/evaluations/${props.id}`);
  });
  const writable = can("eval:write");
  return (
    <>
      <PageHeader
        title={<>Score answers {scoring.data === undefined ? null : <StatusBadge status={scoring.data.state} />}</>}
        crumbs={[{ to: "/evaluations", label: "Evaluations" }, { to: `/evaluations/${props.id}`, label: props.id }]}
        actions={writable && scoring.data !== undefined && !scoring.data.finished
          ? <button type="button" disabled={finish.busy} onClick={() => { void finish.run(); }}>{finish.busy ? "Finishing…" : "Finish scoring"}</button>
          : null}
      />
      <ErrorNote error={finish.error} />
      {writable ? null : <ReadOnlyNote action="eval:write" />}
      <Loaded state={scoring} what="the answers to score">
        {(s) => (
          <>
            <ProgressBar value={s.total === 0 ? 100 : (100 * s.scored) / s.total} label="Scores given" />
            <p className="muted">{s.scored} of {s.total} scores given. {s.finished
              ? <>Scoring has finished: <Link to={`/evaluations/${props.id}`}>see the report</Link>.</>
              : "Each answer is scored once per dimension; the last score finishes the evaluation."}
            </p>
            {s.samples.map((sample, i) => (
              <SampleCard key={sample.resultId} number={i + 1} taskId={props.id} sample={sample} dimensions={s.dimensions}
                editable={writable && !s.finished} onSaved={scoring.reload} />
            ))}
          </>
        )}
      </Loaded>
    </>
  );
}

function SampleCard(props: {
  number: number; taskId: string; sample: EvalManualSample; dimensions: readonly EvalManualDimension[]; editable: boolean; onSaved: () => void;
}) {
  const { client } = useSession();
  const { sample } = props;
  const [draft, setDraft] = useState<Record<string, string>>({});
  const open = props.dimensions.filter((d) => sample.scores[d.dimension] === undefined);
  const save = useAction(async () => {
    const scores = open.filter((d) => (draft[d.dimension] ?? "") !== "").map((d) => ({ dimension: d.dimension, score: Number(draft[d.dimension]) }));
    await client.evaluations.score({ taskId: props.taskId, resultId: sample.resultId, scores });
    setDraft({});
    props.onSaved();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  return (
    <Section title={`Answer ${props.number}`}>
      <Facts items={[
        ["Prompt", sample.prompt],
        ["Reference", sample.reference],
        ["Answer", sample.prediction === "" ? <span className="muted">(empty)</span> : sample.prediction],
      ]} />
      <form className="filters" onSubmit={submit} aria-label={`Scores of answer ${props.number}`}>
        {props.dimensions.map((d) => {
          const given = sample.scores[d.dimension];
          return (
            <label key={d.dimension}>
              {d.dimension} ({d.minScore}–{d.maxScore}){d.description === "" ? null : <span className="muted"> {d.description}</span>}
              <input type="number" min={d.minScore} max={d.maxScore} step="any" disabled={!props.editable || given !== undefined}
                value={given === undefined ? draft[d.dimension] ?? "" : String(given)}
                onChange={(e) => setDraft({ ...draft, [d.dimension]: e.target.value })} />
            </label>
          );
        })}
        {props.editable && open.length > 0
          ? <button type="submit" disabled={save.busy || open.every((d) => (draft[d.dimension] ?? "") === "")}>{save.busy ? "Saving…" : "Save scores"}</button>
          : null}
      </form>
      <ErrorNote error={save.error} />
    </Section>
  );
}
