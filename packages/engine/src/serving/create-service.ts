import { createHash } from "node:crypto";
import { SailfinError, newId, nowIso } from "@sailfin/contract";
import type { Db } from "@sailfin/store";
import { findSet, findVersion, lockModelVersions } from "../models/model-rows.js";
import { placeTrainingRun, type Placement } from "../pools/index.js";
import type { Actor, EngineResources } from "../resources.js";
import { isUniqueViolation } from "../unique-retry.js";
import { queueServeRun } from "./serve-spec.js";

/** Qianfan's urlSuffix: [a-z0-9_-], alphanumeric at both ends, 2–20 characters (reference §14.1). */
const URL_SUFFIX = /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/;
/**
 * Qianfan's length limit is 20; the Python SDK's own default suffix `svc{setId}_{modelId}`
 * (`svcam-…_amv-…`, 33 characters and upper-case free) is longer, and Model.deploy sends it as
 * given, so Sailfin takes up to 64 (what every SDK's last-URL-segment parsing can carry).
 */
const URL_SUFFIX_MAX = 64;

interface CreateServiceInput {
  readonly modelId: string;
  readonly modelSetId?: string | undefined;
  readonly name: string;
  readonly urlSuffix?: string | undefined;
  readonly description?: string | undefined;
  readonly serviceType?: string | undefined;
  readonly resourceConfig?: Readonly<Record<string, unknown>> & { readonly resourceId?: string | undefined };
  /** A service started on demand (OpenAI's chat, engine openai/on-demand.ts): stopped after this many idle seconds (0: never). */
  readonly idleStopS?: number | undefined;
}

/** Field names of the dialect that asks (V2 by default; V1 apply names them `modelVersionId` and `uri`). */
interface CreateFields {
  readonly modelId: string;
  readonly modelSetId: string;
  readonly urlSuffix: string;
  readonly name: string;
}

const V2_FIELDS: CreateFields = { modelId: "modelId", modelSetId: "modelSetId", urlSuffix: "urlSuffix", name: "name" };

/**
 * Checks a urlSuffix (Qianfan's alphabet; see URL_SUFFIX_MAX for the length), naming `field`.
 *
 * @example checkUrlSuffix("my-svc", "urlSuffix") // ok; checkUrlSuffix("-x", "urlSuffix") throws InvalidParameter
 */
function checkUrlSuffix(suffix: string, field: string): void {
  if (suffix.length < 2 || suffix.length > URL_SUFFIX_MAX || !URL_SUFFIX.test(suffix)) {
    throw new SailfinError("InvalidParameter", {
      field, detail: `${JSON.stringify(suffix.slice(0, 80))} must be 2-${URL_SUFFIX_MAX} characters of [a-z0-9_-], starting and ending with a letter or digit`,
    });
  }
}

/** A valid urlSuffix made from a name: lower-cased, other characters as `-`, trimmed to alphanumeric ends. */
function suffixFromName(name: string): string {
  const made = name.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").slice(0, URL_SUFFIX_MAX).replace(/^[-_]+|[-_]+$/g, "");
  return made.length >= 2 ? made : `svc-${createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
}

/** Qianfan's 32-hex deployment instance id, stable for a service. */
function instanceIdOf(serviceId: string): string {
  return createHash("md5").update(serviceId).digest("hex");
}

/**
 * Validates and creates a service, then queues its `serve` run (New → Deploying at once; Serving
 * once a worker's engine answers /health). The version must be Ready, of any lineage (Train,
 * Import, Acceleration); `modelSetId`, when given, must be its set; the urlSuffix (default: made
 * from the name) must be free. The version is share-locked while the run is queued, so a
 * concurrent delete of the version sees the service.
 *
 * @example const { serviceId } = await createService(res, actor, { modelId: "amv-…", name: "chatbot", urlSuffix: "chatbot" });
 */
export async function createService(
  res: EngineResources, actor: Actor, input: CreateServiceInput, fields: CreateFields = V2_FIELDS,
): Promise<{ readonly serviceId: string; readonly serviceNum: number; readonly instanceId: string }> {
  const name = input.name.trim();
  if (name.length === 0) throw new SailfinError("InvalidParameter", { field: fields.name, detail: "must not be empty" });
  const urlSuffix = input.urlSuffix === undefined || input.urlSuffix === "" ? suffixFromName(name) : input.urlSuffix;
  checkUrlSuffix(urlSuffix, fields.urlSuffix);
  const version = await findVersion(res.db, input.modelId, fields.modelId);
  if (input.modelSetId !== undefined) {
    const set = await findSet(res.db, input.modelSetId, fields.modelSetId);
    if (set.num !== Number(version.set_num)) {
      throw new SailfinError("InvalidParameter", { field: fields.modelSetId, detail: `model version ${version.id} is not a version of ${set.id}` });
    }
  }
  const placement = servePlacement(res, input.resourceConfig?.resourceId);
  const id = newId("service");
  const now = nowIso();
  const num = await res.db.transaction().execute(async (trx) => {
    const [locked] = await lockModelVersions(trx, res.dialect, [version.num], "share");
    if (locked === undefined) throw new SailfinError("NotFound", { field: fields.modelId, detail: `no model version ${input.modelId}` });
    if (locked.status !== "Ready") {
      throw new SailfinError("InvalidParameter", { field: fields.modelId, detail: `model version ${locked.id} is ${locked.status}; only a Ready version can be deployed` });
    }
    await assertSuffixFree(trx, urlSuffix, fields.urlSuffix);
    const row = await trx.insertInto("services").values({
      id, name, description: input.description ?? "", url_suffix: urlSuffix, service_type: input.serviceType ?? "chat",
      model_set_num: Number(locked.set_num), model_version_num: locked.num,
      resource_config: JSON.stringify({ ...(input.resourceConfig ?? {}), resourceId: placement.poolId }), pool_id: placement.poolId,
      run_num: null, desired: "Serving", creator: actor.accessKey, created_at: now, modified_at: now,
      idle_stop_s: input.idleStopS ?? null, last_used_at: input.idleStopS === undefined ? null : now,
    }).returning("num").executeTakeFirstOrThrow();
    const serviceNum = Number(row.num);
    await queueServeRun(trx, actor, { num: serviceNum, id, urlSuffix }, locked, placement, `deploy ${locked.id} as ${urlSuffix}`);
    return serviceNum;
  }).catch((error: unknown) => {
    // Two creates racing for one suffix: the unique index refuses the second.
    if (isUniqueViolation(error)) {
      throw new SailfinError("InvalidParameter", { field: fields.urlSuffix, detail: `${urlSuffix} is taken by another service` });
    }
    throw error;
  });
  return { serviceId: id, serviceNum: num, instanceId: instanceIdOf(id) };
}

/** The pool a service runs in: `resourceConfig.resourceId`, else the default pool; one process on one node. */
export function servePlacement(res: EngineResources, resourceId: string | undefined): Placement {
  const placement = placeTrainingRun(res.pools, { resourceId, nodeNum: 1, processesPerNode: 1 });
  return { ...placement, nodes: 1, processesPerNode: 1 };
}

/** Refuses a urlSuffix another service holds (suffixes are lower-case, so the unique index compares them as calls do). */
async function assertSuffixFree(db: Db, suffix: string, field: string): Promise<void> {
  const taken = await db.selectFrom("services").select("id").where("url_suffix", "=", suffix).executeTakeFirst();
  if (taken !== undefined) throw new SailfinError("InvalidParameter", { field, detail: `${suffix} is taken by service ${taken.id}` });
}
