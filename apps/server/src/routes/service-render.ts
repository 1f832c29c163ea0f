import type { ServiceItem, VersionServiceRef } from "@sailfin/contract";
import type { ServiceRecord } from "@sailfin/engine";

/**
 * The service object of both dialects' describe calls (reference §14.2.2). Its `url` is this
 * server's V1 chat URL for the service, whose last segment every SDK takes as the endpoint
 * (§14.1); the base is SAILFIN_PUBLIC_URL, else the request's own origin.
 */

/** `<base>/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/<urlSuffix>`. */
export function serviceUrl(baseUrl: string, service: ServiceRecord): string {
  return `${baseUrl}/rpc/2.0/ai_custom/v1/wenxinworkshop/${service.serviceType === "completions" ? "completions" : "chat"}/${service.urlSuffix}`;
}

/** Stored time as §14.2.2 shows it (`2024-05-16T15:23:30Z`). */
function isoZ(stored: string): string {
  return `${stored.slice(0, 19)}Z`;
}

/** The V2 service object, with Sailfin's `failureReason` and `taskId`. */
export function v2Service(service: ServiceRecord, baseUrl: string): ServiceItem {
  return {
    serviceId: service.id,
    name: service.name,
    description: service.description,
    url: serviceUrl(baseUrl, service),
    endpoint: service.urlSuffix,
    serviceType: service.serviceType,
    runStatus: service.runStatus,
    updateStatus: "None",
    chargeType: "ComputingUnit",
    payType: "Postpay",
    chargeStatus: "Free",
    modelSetId: service.modelSetId,
    modelId: service.modelVersionId,
    modelVersionId: service.modelVersionId,
    baseModel: service.modelVersionId,
    resourceConfig: service.resourceConfig,
    creator: service.creator,
    createTime: isoZ(service.createdAt),
    modifyTime: isoZ(service.modifiedAt),
    failureReason: service.failureReason,
    taskId: service.runId,
  };
}

/** The extension list on modelVersionDetail / DescribeModel. */
export function versionServiceRefs(services: readonly ServiceRecord[] | undefined): VersionServiceRef[] {
  return (services ?? []).map((s) => ({ serviceId: s.id, name: s.name, endpoint: s.urlSuffix, runStatus: s.runStatus }));
}
