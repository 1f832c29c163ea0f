import { setTimeout as sleep } from "node:timers/promises";
import { SailfinError } from "@sailfin/contract";
import { listBaseModels, resolveBaseModel } from "../models/base-models.js";
import { deleteModelVersions } from "../models/delete.js";
import { findModelVersion } from "../models/describe.js";
import type { Actor, EngineResources } from "../resources.js";
import type { ChatTarget, FindChatTarget } from "../serving/chat.js";
import { deleteService, servicesOfVersions, stopService } from "../serving/manage-services.js";
import { serveOnDemand, type OnDemandPolicy } from "./on-demand-serving.js";

/**
 * The models of OpenAI's dialect (`/v1/models`, the `model` of `/v1/chat/completions`): the
 * fine-tuned models of OpenAI jobs (`ft:<base>:<org>:<suffix>:<key>`, and their checkpoints'
 * `…:ckpt-step-N`), and the registered base models (a model set's name, base-models.ts). A chat
 * `model` may also name a service (urlSuffix or `svco-` id), as on `/v2/chat/completions`.
 */

/** What the fine-tuning jobs say of an `ft:` name (the jobs slice's resolveFineTunedModel). */
export interface FineTunedModel {
  readonly modelVersionNum: number;
  readonly modelVersionId: string;
  /** Creating: a checkpoint being published on its first use. */
  readonly status: "Creating" | "Ready" | "Fail";
  readonly jobId: string;
  /** Unix seconds. */
  readonly createdAt: number;
}

/** The wire Model object's fields (OpenAI's `Model`: id, object "model", created, owned_by). */
export interface OpenAiModel {
  readonly id: string;
  readonly created: number;
  readonly ownedBy: string;
}

/** Where `ft:` names come from: the jobs slice's functions, or a test's own. */
export interface FineTunedModels {
  resolve(res: EngineResources, name: string): Promise<FineTunedModel | null>;
  /** Every fine-tuned model of a succeeded job, newest first. */
  list(res: EngineResources): Promise<OpenAiModel[]>;
}

/** How long a delete waits for the on-demand services of the version to stop (their workers kill the engines). */
const STOP_WAIT_MS = 30_000;

const isFineTunedName = (name: string) => name.startsWith("ft:");
const unixOf = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * What answers a chat `model`: an `ft:` name's version, served on demand (a version still being
 * published counts as loading: ModelNotServing); else the service `findService` names; else a base
 * model's latest version, served on demand. Null: nothing by that name.
 *
 * @example const target = await openAiChatTarget(res, caller, "ft:tiny:sailfin::k3y", { fineTuned, findService, policy }, signal);
 */
export async function openAiChatTarget(
  res: EngineResources, actor: Actor, model: string,
  deps: { readonly fineTuned: FineTunedModels; readonly findService: FindChatTarget; readonly policy: OnDemandPolicy },
  signal?: AbortSignal,
): Promise<ChatTarget> {
  if (isFineTunedName(model)) {
    const deadline = Date.now() + deps.policy.deployWaitMs;
    for (;;) {
      const tuned = await deps.fineTuned.resolve(res, model);
      if (tuned === null) throw notFound(model);
      if (tuned.status === "Fail") throw new SailfinError("ModelNotFound", { field: "model", detail: `${model} could not be published` });
      if (tuned.status === "Ready") {
        const left = Math.max(0, deadline - Date.now());
        return serveOnDemand(res, actor, { num: tuned.modelVersionNum, id: tuned.modelVersionId, model }, { ...deps.policy, deployWaitMs: left }, signal);
      }
      if (Date.now() + 500 > deadline || signal?.aborted === true) {
        throw new SailfinError("ModelNotServing", { field: "model", detail: `${model} is being loaded (its checkpoint is being published); retry in a few seconds` });
      }
      await sleep(500, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
    }
  }
  const service = await deps.findService(res, model);
  if (service !== null) return service;
  const base = await resolveBaseModel(res, model);
  if (base === null) throw notFound(model);
  return serveOnDemand(res, actor, { num: base.versionNum, id: base.versionId, model }, deps.policy, signal);
}

/**
 * `GET /v1/models`: the fine-tuned models (newest first), then the base models (by name), owned
 * by `organization` (SAILFIN_OPENAI_ORGANIZATION).
 *
 * @example const models = await listOpenAiModels(res, fineTuned, "sailfin"); // [{ id: "ft:…", created, ownedBy: "sailfin" }, …]
 */
export async function listOpenAiModels(res: EngineResources, fineTuned: FineTunedModels, organization: string): Promise<OpenAiModel[]> {
  const bases = await listBaseModels(res);
  const created = await createdOf(res, bases.map((b) => b.versionNum));
  return [
    ...await fineTuned.list(res),
    ...bases.map((b) => ({ id: b.setName, created: created.get(b.versionNum) ?? 0, ownedBy: organization })),
  ];
}

/**
 * `GET /v1/models/{model}`: one model, or ModelNotFound (404 `model_not_found`) naming `model`. An
 * `ft:` model is owned by its job's organization, a base model by `organization`.
 *
 * @example await describeOpenAiModel(res, "ft:tiny:sailfin::k3y", fineTuned, "sailfin") // { id, created, ownedBy: "sailfin" }
 */
export async function describeOpenAiModel(res: EngineResources, name: string, fineTuned: FineTunedModels, organization: string): Promise<OpenAiModel> {
  if (isFineTunedName(name)) {
    const tuned = await fineTuned.resolve(res, name);
    if (tuned === null) throw notFound(name);
    const job = await res.db.selectFrom("openai_jobs").select("organization").where("id", "=", tuned.jobId).executeTakeFirst();
    return { id: name, created: tuned.createdAt, ownedBy: job?.organization ?? organization };
  }
  const base = await resolveBaseModel(res, name);
  if (base === null) throw notFound(name);
  return { id: name, created: (await createdOf(res, [base.versionNum])).get(base.versionNum) ?? 0, ownedBy: organization };
}

/**
 * `DELETE /v1/models/{model}` of an `ft:` model: its on-demand services are stopped and deleted,
 * then its model version (the model-repository delete, with its guards). A service an operator
 * created on the version is theirs to delete first (Conflict); a base model is not deleted here
 * (InvalidParameter: the model routes of V1/V2 do that).
 *
 * @example await deleteOpenAiModel(res, caller, "ft:tiny:sailfin::k3y", fineTuned);
 */
export async function deleteOpenAiModel(res: EngineResources, actor: Actor, name: string, fineTuned: FineTunedModels): Promise<void> {
  const tuned = isFineTunedName(name) ? await fineTuned.resolve(res, name) : null;
  if (tuned === null) {
    if (!isFineTunedName(name) && (await resolveBaseModel(res, name)) !== null) {
      throw new SailfinError("InvalidParameter", { field: "model", detail: `${name} is a base model; only fine-tuned models (ft:…) are deleted here (delete base models with DeleteCustomModel)` });
    }
    throw notFound(name);
  }
  const services = (await servicesOfVersions(res, [tuned.modelVersionNum])).get(tuned.modelVersionNum) ?? [];
  const operators = services.find((s) => s.idleStopS === null);
  if (operators !== undefined) {
    throw new SailfinError("Conflict", { field: "model", detail: `${name} is deployed as service ${operators.id} (${operators.urlSuffix}), which was not started on demand; delete that service first` });
  }
  for (const service of services) await stopService(res, actor, service.num, "model");
  await waitStopped(res, services.map((s) => s.num), name);
  for (const service of services) await deleteService(res, actor, service.num, "model");
  await deleteModelVersions(res, actor, [await findModelVersion(res, tuned.modelVersionId, "model", "ModelNotFound")], "model");
}

/** Waits until no `serve` run of these services is queued or running; Conflict (retried by the SDKs) past STOP_WAIT_MS. */
async function waitStopped(res: EngineResources, serviceNums: readonly number[], name: string): Promise<void> {
  if (serviceNums.length === 0) return;
  const deadline = Date.now() + STOP_WAIT_MS;
  for (;;) {
    const active = await res.db.selectFrom("runs").select("id").where("service_num", "in", [...serviceNums])
      .where("kind", "=", "serve").where("status", "in", ["Queued", "Running"]).executeTakeFirst();
    if (active === undefined) return;
    if (Date.now() > deadline) throw new SailfinError("Conflict", { field: "model", detail: `${name}'s on-demand service is still stopping (task ${active.id}); retry` });
    await sleep(200);
  }
}

async function createdOf(res: EngineResources, versionNums: readonly number[]): Promise<Map<number, number>> {
  if (versionNums.length === 0) return new Map();
  const rows = await res.db.selectFrom("model_versions").select(["num", "created_at"]).where("num", "in", [...versionNums]).execute();
  return new Map(rows.map((r) => [Number(r.num), unixOf(r.created_at)]));
}

function notFound(name: string): SailfinError {
  return new SailfinError("ModelNotFound", { field: "model", detail: `The model ${name} does not exist or you do not have access to it.` });
}
