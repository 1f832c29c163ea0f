import { newId, nowIso, SailfinError, type TrainMode } from "@sailfin/contract";
import { appendEvent } from "@sailfin/store";
import type { Actor, EngineResources } from "../resources.js";
import { resolveBaseModel } from "../models/index.js";
import { findJob } from "./find.js";
import { resolveParameterScale } from "./parameter-scale.js";
import type { FinetuneJobRecord } from "./records.js";

interface CreateJobInput {
  readonly name: string;
  readonly description?: string;
  /** A registered base model name. */
  readonly model: string;
  readonly trainMode: TrainMode;
  /** Default parameter scale of the job's runs. */
  readonly parameterScale?: string;
  /** V1's model family (`baseTrainType`); the model name when not given. */
  readonly baseTrainType?: string;
  /** Request field names for errors (V1 names the model `trainType`, the scale `peftType`). */
  readonly fields?: { readonly model?: string; readonly parameterScale?: string };
}

/**
 * Creates a fine-tuning job (V2 job, V1 task) on a registered base model.
 *
 * @example const job = await createJob(res, actor, { name: "demo", model: "tiny-llama", trainMode: "SFT" });
 */
export async function createJob(res: EngineResources, actor: Actor, input: CreateJobInput): Promise<FinetuneJobRecord> {
  const modelField = input.fields?.model ?? "model";
  const base = await resolveBaseModel(res, input.model);
  if (base === null) {
    throw new SailfinError("InvalidParameter", {
      field: modelField,
      detail: `no base model named ${input.model} is registered (import it into the model repository first)`,
    });
  }
  const parameterScale = input.parameterScale === undefined
    ? null
    : resolveParameterScale(input.parameterScale, input.fields?.parameterScale ?? "parameterScale");
  const id = newId("job");
  const now = nowIso();
  await res.db.transaction().execute(async (trx) => {
    await trx.insertInto("finetune_jobs").values({
      id, name: input.name, description: input.description ?? "", model: base.setName, train_mode: input.trainMode,
      parameter_scale: parameterScale, base_train_type: input.baseTrainType ?? base.setName, created_at: now, modified_at: now,
    }).execute();
    await appendEvent(trx, { objectKind: "finetune_job", objectId: id, actor: actor.accessKey, from: null, to: "Created" });
  });
  return findJob(res.db, { id }, "jobId");
}
