import { randomBytes, randomInt } from "node:crypto";
import { SailfinError, newId, nowIso, type CreateOpenAiJobBody, type OpenAiJobObject, type SupportedParameterScale } from "@sailfin/contract";
import { createJob } from "../finetune/create-job.js";
import { createRun } from "../finetune/create-run.js";
import { deleteJob } from "../finetune/delete-job.js";
import { resolveParameterScale } from "../finetune/parameter-scale.js";
import { resolveBaseModel, type ResolvedBaseModel } from "../models/index.js";
import { defaultPlacement } from "../pools/index.js";
import type { Actor, EngineResources } from "../resources.js";
import { fileForTraining } from "./job-files.js";
import { jobState } from "./job-state.js";
import { openAiJobView } from "./job-view.js";
import { methodType, resolveOpenAiMethod } from "./resolve-method.js";

/** Metadata key choosing the parameter scale (Sailfin's extension; OpenAI's API has no such field). */
const PARAMETER_SCALE_KEY = "sailfin_parameter_scale";
/** Without the metadata key: LoRA (OpenAI's jobs produce adapters-sized models quickly; our choice). */
const DEFAULT_SCALE: SupportedParameterScale = "LoRA";

interface CreateFineTuningJobInput {
  readonly body: CreateOpenAiJobBody;
  /** `SAILFIN_OPENAI_ORGANIZATION`: the `org-` id and the third part of `fine_tuned_model`. */
  readonly organization: string;
}

/** `ft:` model a job continues from: the parent's run and step (its final checkpoint unless named). */
interface Parent {
  readonly base: ResolvedBaseModel;
  readonly runNum: number;
  readonly step?: number;
  readonly parameterScale: string;
}

/**
 * `POST /v1/fine_tuning/jobs`: an OpenAI job is a V2 job with one task. Everything is checked first
 * (method, model, files, hyper-parameters, suffix and metadata by the schema); then the V2 job is
 * made, and the task is queued together with the `openai_jobs` row in one transaction
 * (createRun's `alsoWrite`). If queuing fails, the job just made is deleted again: it is empty
 * (no run, nothing published from it) and no one has been told its id, so the delete is safe.
 *
 * @example await createFineTuningJob(res, actor, { body: { model: "tiny", training_file: "file-…" }, organization: "sailfin" })
 */
export async function createFineTuningJob(res: EngineResources, actor: Actor, input: CreateFineTuningJobInput): Promise<OpenAiJobObject> {
  const { body } = input;
  const type = methodType(body);
  const kind = type === "dpo" ? "preference" : "chat";
  const parent = body.model.startsWith("ft:") ? await parentOf(res, body.model) : null;
  const base = parent?.base ?? await resolveBaseModel(res, body.model);
  if (base === null) {
    throw new SailfinError("InvalidParameter", {
      field: "model", detail: `the model ${body.model} does not exist: name a registered base model or the fine_tuned_model of a succeeded job`,
    });
  }
  const training = await fileForTraining(res, body.training_file, "training_file", kind);
  const validation = body.validation_file == null ? null : await fileForTraining(res, body.validation_file, "validation_file", kind);
  const scaleWord = body.metadata?.[PARAMETER_SCALE_KEY] ?? parent?.parameterScale ?? DEFAULT_SCALE;
  const parameterScale = resolveParameterScale(scaleWord, `metadata.${PARAMETER_SCALE_KEY}`);
  const seed = body.seed ?? randomInt(0, 2_147_483_647);
  const resolved = resolveOpenAiMethod(body, { examples: training.lineCount, seed, parameterScale, config: base.config });

  const id = newId("fineTuningJob");
  const modelKey = modelKeyOf();
  const fineTunedModel = `ft:${base.setName}:${input.organization}:${body.suffix ?? ""}:${modelKey}`;
  const job = await createJob(res, actor, { name: body.suffix ?? id, model: base.setName, trainMode: resolved.trainMode, parameterScale });
  try {
    await createRun(res, actor, {
      job: { id: job.id },
      description: `OpenAI fine-tuning job ${id}`,
      parameterScale,
      hyperParameters: resolved.hyperParameters,
      datasets: [
        { sourceType: "Platform", sourceField: "training_file", ref: { num: training.datasetVersionNum }, field: "training_file" },
        ...(validation === null ? [] : [{
          sourceType: "Platform", sourceField: "validation_file", ref: { num: validation.datasetVersionNum }, field: "validation_file", role: "validation" as const,
        }]),
      ],
      // The validation file is the evaluation set: nothing of the training file is held out.
      splitRatio: 0,
      ...(parent === null ? {} : { increment: { ref: { num: parent.runNum }, whenSeveral: "latest" as const, ...(parent.step === undefined ? {} : { step: parent.step }) } }),
      fields: { job: "model", parameterScale: `metadata.${PARAMETER_SCALE_KEY}`, hyperParameters: `method.${type}.hyperparameters`, increment: "model", incrementStep: "model" },
      autoPublish: { setName: setNameOf(body.suffix ?? null, modelKey), poolId: defaultPlacement(res.pools).poolId },
      alsoWrite: async (trx, runNum) => {
        await trx.insertInto("openai_jobs").values({
          id, job_num: job.num, run_num: runNum, model: body.model, training_file_num: training.num, validation_file_num: validation?.num ?? null,
          method: JSON.stringify(resolved.method), suffix: body.suffix ?? null, seed, metadata: body.metadata == null ? null : JSON.stringify(body.metadata),
          integrations: JSON.stringify(body.integrations ?? []), organization: input.organization, model_key: modelKey, fine_tuned_model: fineTunedModel,
          model_version_num: null, result_file_num: null, creator: actor.accessKey, created_at: nowIso(),
        }).execute();
      },
    });
  } catch (error) {
    await deleteJob(res, actor, { id: job.id }, "model").catch(() => undefined);
    throw error;
  }
  const row = await res.db.selectFrom("openai_jobs").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  return openAiJobView(res, row);
}

/** The last part of `fine_tuned_model`: 8 letters and digits, as OpenAI's (`7p4lURel`). */
function modelKeyOf(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(8)].map((b) => alphabet[b % alphabet.length]).join("");
}

/** The model set the job's versions go into (model set names: 2–50 of letters, digits, `_ - .`). */
function setNameOf(suffix: string | null, modelKey: string): string {
  return suffix === null ? `ft-${modelKey}` : `ft-${suffix.slice(0, 37)}-${modelKey}`;
}

/** The job an `ft:` model names (its own name, or `…:ckpt-step-N`), which must have succeeded. */
async function parentOf(res: EngineResources, model: string): Promise<Parent> {
  const checkpoint = /^(.*):ckpt-step-(\d{1,9})$/.exec(model);
  const name = checkpoint?.[1] ?? model;
  const row = await res.db.selectFrom("openai_jobs").selectAll().where("fine_tuned_model", "=", name).executeTakeFirst();
  if (row === undefined) throw new SailfinError("InvalidParameter", { field: "model", detail: `the model ${model} does not exist` });
  const state = await jobState(res.db, row);
  if (state.status !== "succeeded" || state.run === null) {
    throw new SailfinError("InvalidParameter", { field: "model", detail: `the model ${model} is not ready: its job ${row.id} is ${state.status}` });
  }
  const job = await res.db.selectFrom("finetune_jobs").select(["model"]).where("num", "=", row.job_num).executeTakeFirstOrThrow();
  const base = await resolveBaseModel(res, job.model);
  if (base === null) throw new SailfinError("InvalidParameter", { field: "model", detail: `the base model ${job.model} of ${model} is no longer registered` });
  return {
    base, runNum: state.run.num, parameterScale: state.run.parameter_scale,
    ...(checkpoint === null ? {} : { step: Number(checkpoint[2]) }),
  };
}
