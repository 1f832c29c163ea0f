import { setTimeout as sleep } from "node:timers/promises";
import { SailfinError, nowIso } from "@sailfin/contract";
import type { Actor, EngineResources } from "../resources.js";
import { createService } from "../serving/create-service.js";
import { findServingTarget, type ServingTarget } from "../serving/find-serving.js";
import { servicesOfVersions, startService } from "../serving/manage-services.js";
import type { ServiceRecord } from "../serving/records.js";

/**
 * Serving a model version on demand (OpenAI's `/v1/chat/completions` names a model, not a
 * service; docs/openai.md "Calling fine-tuned models"). A Serving service of the version, anyone's,
 * answers. Otherwise the version's own on-demand service (urlSuffix `od-<versionId>`, an ordinary
 * service with `idle_stop_s` set) is created, or started again when it stopped or failed, and the
 * call waits for its engine up to the deploy wait; past it the caller is told to retry (503). Two
 * first calls racing create one service: the urlSuffix's unique index refuses the second, which
 * then finds the first's. The idle sweeper (idle-services.ts) stops it after `idle_stop_s`
 * seconds without a call.
 */

export interface OnDemandPolicy {
  /** `idle_stop_s` of the services this creates (SAILFIN_OPENAI_IDLE_STOP_SEC; 0: never stopped). */
  readonly idleStopS: number;
  /** How long one call waits for an engine to come up (SAILFIN_OPENAI_DEPLOY_WAIT_SEC). */
  readonly deployWaitMs: number;
}

/** The version to serve, and the name the caller asked for it by (for messages and the service's name). */
interface OnDemandVersion {
  readonly num: number;
  readonly id: string;
  readonly model: string;
}

/** How often a waiting call looks at its service again: a deploy takes seconds, a look one small read. */
const WAIT_POLL_MS = 250;
/** Service names are free text; a long `ft:` name is cut to this. */
const SERVICE_NAME_MAX = 100;

/**
 * The urlSuffix of a version's on-demand service: one per version, whatever name reached it.
 *
 * @example onDemandSuffix("amv-ab12cd34ef56") // "od-amv-ab12cd34ef56"
 */
export function onDemandSuffix(versionId: string): string {
  return `od-${versionId.toLowerCase()}`;
}

/**
 * A serving target for the version, deploying it on demand; throws ModelNotServing ("being
 * loaded", 503 with retry-after) when no engine answered within the policy's wait, or when the
 * caller hung up (`signal`) meanwhile.
 *
 * @example const target = await serveOnDemand(res, caller, { num, id, model: "ft:…" }, policy, signal);
 */
export async function serveOnDemand(
  res: EngineResources, actor: Actor, version: OnDemandVersion, policy: OnDemandPolicy, signal?: AbortSignal,
): Promise<ServingTarget> {
  const deadline = Date.now() + policy.deployWaitMs;
  const suffix = onDemandSuffix(version.id);
  let asked = false;
  for (;;) {
    const services = (await servicesOfVersions(res, [version.num])).get(version.num) ?? [];
    const serving = await servingOne(res, services);
    if (serving !== null) return serving;
    const own = services.find((s) => s.urlSuffix === suffix);
    if (own?.runStatus === "Failed" && asked) {
      throw loading(version, `its service ${own.id} failed to start: ${own.failureReason ?? "no reason recorded"}`);
    }
    // Asked once per call: a start that is under way is waited for, not asked again.
    if (!asked) {
      await askToServe(res, actor, version, suffix, own, policy);
      asked = true;
      continue;
    }
    if (Date.now() + WAIT_POLL_MS > deadline || signal?.aborted === true) {
      // A caller told to retry is a use: the engine it waits for must not idle out before the retry comes.
      await res.db.updateTable("services").set({ last_used_at: nowIso() }).where("url_suffix", "=", suffix).execute();
      throw loading(version, `its service ${own?.id ?? suffix} is starting`);
    }
    await sleep(WAIT_POLL_MS, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
  }
}

/** 503 "being loaded": the SDKs retry it after the retry-after the OpenAI envelope sends. */
function loading(version: OnDemandVersion, why: string): SailfinError {
  return new SailfinError("ModelNotServing", { field: "model", detail: `${version.model} is being loaded (${why}); retry in a few seconds` });
}

/** The serving target of the first Serving service with an engine, or null. */
async function servingOne(res: EngineResources, services: readonly ServiceRecord[]): Promise<ServingTarget | null> {
  for (const service of services.filter((s) => s.runStatus === "Serving")) {
    const target = await findServingTarget(res, service.id);
    if (target?.endpoint != null) return target;
  }
  return null;
}

/**
 * Creates the version's on-demand service, or starts it again (Stopped or Failed); a New or
 * Deploying one is left to come up. Its `last_used_at` starts now, so idleness is measured from
 * this call, not from the last one before it stopped.
 */
async function askToServe(
  res: EngineResources, actor: Actor, version: OnDemandVersion, suffix: string, own: ServiceRecord | undefined, policy: OnDemandPolicy,
): Promise<void> {
  if (own === undefined) {
    try {
      await createService(res, actor, {
        modelId: version.id, name: version.model.slice(0, SERVICE_NAME_MAX), urlSuffix: suffix, idleStopS: policy.idleStopS,
        description: `started on demand by a call to ${version.model}`.slice(0, 500),
      }, { modelId: "model", modelSetId: "model", urlSuffix: "model", name: "model" });
    } catch (error) {
      // A concurrent first call created it: wait for that one.
      const taken = await res.db.selectFrom("services").select(["id", "model_version_num"]).where("url_suffix", "=", suffix).executeTakeFirst();
      if (taken === undefined) throw error;
      if (Number(taken.model_version_num) !== version.num) {
        throw new SailfinError("Conflict", { field: "model", detail: `the on-demand endpoint ${suffix} is taken by service ${taken.id} of another model version` });
      }
    }
  } else if (own.runStatus === "Stopped" || own.runStatus === "Failed") {
    await res.db.updateTable("services").set({ last_used_at: nowIso() }).where("num", "=", own.num).execute();
    await startService(res, actor, own.num, "model");
  } else return;
  res.background.queued("serve");
}
