import { appendEvent } from "@sailfin/store";
import { SYSTEM_ACTOR, type EngineResources } from "../resources.js";
import { CHECKPOINT_PUBLISH_KIND } from "./job-endings.js";
import { publishFromRun } from "../models/publish-from-run.js";
import { toModelSetRecord } from "../models/records.js";
import { jobState } from "./job-state.js";
import { unixSeconds } from "./job-view.js";

/** What answers for an `ft:` model name (interfaces.md, C → D). */
interface FineTunedModel {
  readonly modelVersionNum: number;
  readonly modelVersionId: string;
  readonly status: "Creating" | "Ready" | "Fail";
  readonly jobId: string;
  /** Unix seconds. */
  readonly createdAt: number;
}

const CHECKPOINT = /^(.*):ckpt-step-(\d{1,9})$/;

/**
 * `ft:<base>:<org>:<suffix>:<key>` → the version the job's success published; `…:ckpt-step-N` →
 * a version of that checkpoint, published (Creating until its publish run ends) on first use into
 * the job's model set. Null: no such model, its job has not succeeded, it saved no such step, or
 * the version was deleted (a deleted model is never published again).
 *
 * @example const model = await resolveFineTunedModel(res, job.fine_tuned_model); model?.status // "Ready"
 */
export async function resolveFineTunedModel(res: EngineResources, name: string): Promise<FineTunedModel | null> {
  const checkpoint = CHECKPOINT.exec(name);
  const row = await res.db.selectFrom("openai_jobs").selectAll().where("fine_tuned_model", "=", checkpoint?.[1] ?? name).executeTakeFirst();
  if (row === undefined) return null;
  const state = await jobState(res.db, row);
  if (state.status !== "succeeded" || state.version === null || state.run === null) return null;
  const final = state.version;
  const answer = (v: { num: number; id: string; status: string; created_at: string }): FineTunedModel => ({
    modelVersionNum: v.num, modelVersionId: v.id, status: v.status as FineTunedModel["status"], jobId: row.id, createdAt: unixSeconds(v.created_at),
  });
  if (checkpoint === null) return answer(final);
  const step = Number(checkpoint[2]);
  if (final.source_step === step) return answer(final);
  // Published for this name before: that version, or nothing once it was deleted.
  const marker = `${row.id}:${step}`;
  const earlier = await res.db.selectFrom("events").select("reason").where("object_kind", "=", CHECKPOINT_PUBLISH_KIND)
    .where("object_id", "=", marker).orderBy("num", "asc").limit(1).executeTakeFirst();
  if (earlier !== undefined) {
    const version = await res.db.selectFrom("model_versions").selectAll().where("id", "=", earlier.reason ?? "").executeTakeFirst();
    return version === undefined ? null : answer(version);
  }
  const saved = await res.db.selectFrom("run_checkpoints").select("step").where("run_num", "=", state.run.num).where("step", "=", step).executeTakeFirst();
  if (saved === undefined) return null;
  const set = await res.db.selectFrom("model_sets").selectAll().where("num", "=", final.set_num).executeTakeFirstOrThrow();
  // Two first calls at once may both publish the step: each gets a version, the first recorded answers (the others stay unused, harmless).
  const { version } = await publishFromRun(res, SYSTEM_ACTOR, {
    target: { kind: "existing", set: toModelSetRecord(set) }, run: state.run.num, runField: "model", step, stepField: "model",
    description: `${name}`,
  });
  await res.db.transaction().execute((trx) => appendEvent(trx, {
    objectKind: CHECKPOINT_PUBLISH_KIND, objectId: marker, actor: SYSTEM_ACTOR.accessKey, from: null, to: "Published", reason: version.id,
  }));
  return { modelVersionNum: version.num, modelVersionId: version.id, status: "Creating", jobId: row.id, createdAt: unixSeconds(version.createdAt) };
}

/**
 * Every fine-tuned model of a succeeded job (for `GET /v1/models`), newest first; `ownedBy` is the
 * organization the job was created under.
 *
 * @example (await listFineTunedModels(res))[0]?.id // "ft:tiny:sailfin::7p4lURel"
 */
export async function listFineTunedModels(res: EngineResources): Promise<Array<{ id: string; created: number; ownedBy: string }>> {
  const rows = await res.db.selectFrom("openai_jobs").selectAll().orderBy("num", "desc").execute();
  const out: Array<{ id: string; created: number; ownedBy: string }> = [];
  for (const row of rows) {
    const state = await jobState(res.db, row);
    if (state.status === "succeeded" && state.version !== null) {
      out.push({ id: row.fine_tuned_model, created: unixSeconds(state.version.created_at), ownedBy: row.organization });
    }
  }
  return out;
}
