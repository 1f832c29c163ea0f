import { SailfinError, type OpenAiJobEventObject } from "@sailfin/contract";
import type { EngineResources } from "../resources.js";
import { RUN_OBJECT } from "../queue/lease.js";
import { jobState } from "./job-state.js";
import { findFineTuningJobRow } from "./read-jobs.js";

/** Metrics events shown per job at most: every N-th logged step, N chosen to stay under this. */
const METRIC_EVENTS = 100;

interface Sourced extends OpenAiJobEventObject {
  /** Milliseconds, for ordering within a second. */
  readonly at: number;
}

function event(id: string, atIso: string, message: string, options: { level?: OpenAiJobEventObject["level"]; data?: Record<string, unknown>; type?: "message" | "metrics" } = {}): Sourced {
  const at = Date.parse(atIso);
  return {
    object: "fine_tuning.job.event", id: `ft-event-${id}`, created_at: Math.floor(at / 1000), level: options.level ?? "info", message,
    data: options.data ?? null, type: options.type ?? "message", at,
  };
}

/** What a run's state change says in OpenAI's words; null for changes OpenAI has no event for. */
function stateMessage(from: string | null, to: string, reason: string | null): { message: string; level: OpenAiJobEventObject["level"] } | null {
  switch (to) {
    case "Running":
      if (from === "Queued") return { message: "Fine-tuning job started", level: "info" };
      if (from !== "Running") return null;
      if (reason === "stop requested") return { message: "Cancellation requested", level: "info" };
      return reason?.startsWith("pause requested") === true ? { message: "Pause requested", level: "info" } : null;
    case "Queued":
      if (from === "Paused") return { message: "Fine-tuning job resumed", level: "info" };
      return from === "Running" ? { message: `Fine-tuning job requeued: ${reason ?? "the worker released it"}`, level: "warn" } : null;
    case "Paused": return { message: `Fine-tuning job paused${reason === null ? "" : `: ${reason}`}`, level: "info" };
    case "Succeeded": return { message: "Training finished, publishing the fine-tuned model", level: "info" };
    case "Failed": return { message: `Fine-tuning job failed: ${reason ?? "unknown reason"}`, level: "error" };
    case "Cancelled": return { message: "Fine-tuning job cancelled", level: "info" };
    default: return null;
  }
}

/**
 * Every event of a job, newest first, built from the rows that already record it (nothing is
 * stored twice): the job's creation (files are validated at upload and at create, so both
 * validation messages carry its time), the run's `events` rows, its logged metrics (every N-th
 * step, `type: "metrics"`), its checkpoints, and the published version's outcome. Ids name the
 * source row (`ft-event-r12` an events row, `m` a metrics row, `c` a checkpoint), so `after` works.
 */
async function allEvents(res: EngineResources, id: string): Promise<Sourced[]> {
  const row = await findFineTuningJobRow(res, id);
  const state = await jobState(res.db, row);
  const training = await res.db.selectFrom("openai_files").select("id").where("num", "=", row.training_file_num).executeTakeFirst();
  const out: Sourced[] = [
    event(`${row.num}-v`, row.created_at, `Validating training file: ${training?.id ?? "(deleted)"}`),
    event(`${row.num}-q`, row.created_at, "Files validated, moving job to queued state"),
  ];
  const run = state.run;
  if (run !== null) {
    const rows = await res.db.selectFrom("events").selectAll().where("object_kind", "=", RUN_OBJECT).where("object_id", "=", run.id).orderBy("num", "asc").execute();
    for (const r of rows) {
      const said = stateMessage(r.from_state, r.to_state, r.reason);
      if (said !== null) out.push(event(`r${r.num}`, r.at, said.message, { level: said.level }));
    }
    const metrics = await res.db.selectFrom("run_metrics").select(["num", "step", "loss", "at"]).where("run_num", "=", run.num)
      .where("loss", "is not", null).orderBy("step", "asc").execute();
    const last = metrics.at(-1)?.step ?? 0;
    const every = Math.max(1, Math.ceil(last / METRIC_EVENTS));
    const totalSteps = run.status === "Succeeded" ? last : null;
    for (const m of metrics) {
      if (m.step % every !== 0 && m.step !== last) continue;
      const loss = Number(m.loss);
      out.push(event(`m${m.num}`, m.at, `Step ${m.step}${totalSteps === null ? "" : `/${totalSteps}`}: training loss=${loss.toFixed(4)}`, {
        type: "metrics", data: { step: m.step, train_loss: loss, total_steps: totalSteps },
      }));
    }
    const checkpoints = await res.db.selectFrom("run_checkpoints").select(["num", "step", "created_at"]).where("run_num", "=", run.num).orderBy("step", "asc").execute();
    for (const c of checkpoints) out.push(event(`c${c.num}`, c.created_at, `Checkpoint created at step ${c.step}`));
  }
  const version = state.version;
  if (version !== null && state.status === "succeeded") {
    out.push(event(`p${version.num}`, version.modified_at, `New fine-tuned model created: ${row.fine_tuned_model}`));
    out.push(event(`s${version.num}`, version.modified_at, "The job has successfully completed"));
  } else if (version !== null && version.status === "Fail") {
    out.push(event(`p${version.num}`, version.modified_at, `Publishing the fine-tuned model failed: ${version.fail_reason ?? "unknown reason"}`, { level: "error" }));
  }
  // Stable: rows of the same millisecond keep the order they were built in.
  return out.map((e, i) => ({ e, i })).sort((a, b) => b.e.at - a.e.at || b.i - a.i).map(({ e }) => e);
}

/**
 * `GET /v1/fine_tuning/jobs/{id}/events`: newest first, `after` the id of the last event seen
 * (an id this job never had is refused naming `after`).
 *
 * @example await listFineTuningJobEvents(res, "ftjob-…", { limit: 20 })
 */
export async function listFineTuningJobEvents(
  res: EngineResources, id: string, page: { readonly after?: string; readonly limit: number },
): Promise<{ data: OpenAiJobEventObject[]; hasMore: boolean }> {
  const events = await allEvents(res, id);
  let start = 0;
  if (page.after !== undefined) {
    const at = events.findIndex((e) => e.id === page.after);
    if (at < 0) throw new SailfinError("InvalidParameter", { field: "after", detail: `no event ${page.after} in job ${id}` });
    start = at + 1;
  }
  const slice = events.slice(start, start + page.limit).map(({ at: _at, ...rest }) => rest);
  return { data: slice, hasMore: start + page.limit < events.length };
}
