import { isIdOf } from "@sailfin/contract";
import { versionFilesKey } from "../models/model-rows.js";
import type { EngineResources } from "../resources.js";
import type { EngineEndpoint } from "./engine-client.js";
import { serviceRecords, type ServiceRecord } from "./records.js";

export interface ServingTarget {
  readonly service: ServiceRecord;
  readonly modelVersion: { readonly num: number; readonly id: string; readonly artifactPath: string };
  /** Null: not serving right now (Deploying, Stopped…). */
  readonly endpoint: EngineEndpoint | null;
}

/**
 * What serves a model name: a V2 chat `model` or a V1 endpoint → the service whose urlSuffix it
 * is (case-insensitive), else whose `svco-` id it is; null: no such service. The endpoint is the
 * one its current run's current attempt recorded (an older attempt's row is stale: that worker
 * is gone), with the engine's key unsealed.
 *
 * @example const target = await findServingTarget(res, "my-chat"); if (target?.endpoint) streamCompletion(target.endpoint, …)
 */
export async function findServingTarget(res: EngineResources, model: string): Promise<ServingTarget | null> {
  let row = await res.db.selectFrom("services").selectAll()
    .where((eb) => eb(eb.fn("lower", ["url_suffix"]), "=", model.toLowerCase())).executeTakeFirst();
  if (row === undefined && isIdOf("service", model)) row = await res.db.selectFrom("services").selectAll().where("id", "=", model).executeTakeFirst();
  if (row === undefined) return null;
  const [service] = await serviceRecords(res.db, [row]);
  const version = await res.db.selectFrom("model_versions").select(["num", "id", "artifact_path"]).where("num", "=", service!.modelVersionNum).executeTakeFirst();
  if (version === undefined) return null;
  const modelVersion = { num: Number(version.num), id: version.id, artifactPath: versionFilesKey({ id: version.id, artifactPath: version.artifact_path }) };
  if (service!.runStatus !== "Serving" || service!.runNum === null) return { service: service!, modelVersion, endpoint: null };
  const endpoint = await res.db.selectFrom("service_endpoints").innerJoin("runs", "runs.num", "service_endpoints.run_num")
    .select(["service_endpoints.url", "service_endpoints.api_key_enc", "service_endpoints.served_model_name"])
    .where("service_endpoints.run_num", "=", service!.runNum).where("runs.status", "=", "Running")
    .whereRef("service_endpoints.attempt", "=", "runs.attempt").executeTakeFirst();
  if (endpoint === undefined) return { service: service!, modelVersion, endpoint: null };
  return {
    service: service!, modelVersion,
    endpoint: { url: endpoint.url, apiKey: endpoint.api_key_enc === null ? null : res.secrets.open(endpoint.api_key_enc), servedModelName: endpoint.served_model_name },
  };
}
