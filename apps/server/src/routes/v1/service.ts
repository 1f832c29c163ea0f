import {
  SailfinError, V1ServiceApplyBody, V1ServiceDetailBody, V1ServiceListBody, parseWith,
  type V1ServiceApplyResult, type V1ServiceDetail, type V1ServiceListItem, type V1ServiceListResult,
} from "@sailfin/contract";
import { createService, describeModelVersion, describeService, listServices, type EngineResources, type ServiceRecord } from "@sailfin/engine";
import { v1, type RouteDef } from "../route.js";
import { serviceUrl } from "../service-render.js";

/**
 * V1 services (`/wenxinworkshop/service/{apply,detail,list}`, reference §14.4). `serviceId` is the
 * service's number (`serviceUuid` its `svco-…` id). `appList` is not implemented: Sailfin has no
 * "applications" (its access keys are the apps), and no SDK calls it (§14.4).
 */

/** Most services one V1 list returns (it has no paging): ten V2 pages. */
const V1_LIST_MAX = 1_000;

const epochS = (stored: string) => Math.floor(Date.parse(stored) / 1_000);

function v1Detail(service: ServiceRecord, baseUrl: string, version: { num: number; version: number; setName: string; sourceType: string }): V1ServiceDetail {
  const url = serviceUrl(baseUrl, service);
  return {
    id: service.num,
    serviceUuid: service.id,
    modelId: service.modelSetNum,
    modelName: version.setName,
    iterationId: version.num,
    modelVersion: String(version.version),
    version: version.version,
    name: service.name,
    uri: service.urlSuffix,
    fullUri: url,
    url,
    serviceStatus: service.runStatus === "Serving" ? "Done" : service.runStatus,
    runStatus: service.runStatus,
    sourceType: version.sourceType,
    description: service.description,
    apiType: service.serviceType,
    vmConfig: { resourceId: service.poolId, instanceCount: 1 },
    creator: service.creator,
    createTime: epochS(service.createdAt),
    modifyTime: epochS(service.modifiedAt),
    onlineTime: epochS(service.modifiedAt),
    failureReason: service.failureReason,
  };
}

/** Every service, newest first, at most V1_LIST_MAX. */
async function everyService(res: EngineResources): Promise<ServiceRecord[]> {
  const out: ServiceRecord[] = [];
  let marker: string | undefined;
  do {
    const page = await listServices(res, { marker, limit: 100, reverse: false });
    out.push(...page.items);
    marker = page.pageInfo.isTruncated ? page.pageInfo.nextMarker : undefined;
  } while (marker !== undefined && out.length < V1_LIST_MAX);
  return out.slice(0, V1_LIST_MAX);
}

export const serviceV1Routes: RouteDef[] = [
  v1("/wenxinworkshop/service/apply", "service:write", async (ctx, body): Promise<V1ServiceApplyResult> => {
    const input = parseWith(V1ServiceApplyBody, body);
    const versionRef = input.modelVersionId ?? input.iterationId;
    if (versionRef === undefined) throw new SailfinError("InvalidParameter", { field: "modelVersionId", detail: "is required" });
    const created = await createService(ctx.res, ctx.caller, {
      modelId: String(versionRef), modelSetId: String(input.modelId), name: input.name, urlSuffix: input.uri, description: input.description,
    }, { modelId: "modelVersionId", modelSetId: "modelId", urlSuffix: "uri", name: "name" });
    return { result: true, serviceId: created.serviceNum, serviceUuid: created.serviceId };
  }),

  v1("/wenxinworkshop/service/detail", "service:read", async (ctx, body): Promise<V1ServiceDetail> => {
    const input = parseWith(V1ServiceDetailBody, body);
    const service = await describeService(ctx.res.db, input.serviceId, "serviceId");
    const { version, set } = await describeModelVersion(ctx.res, service.modelVersionNum, "serviceId");
    return v1Detail(service, ctx.baseUrl, { num: version.num, version: version.version, setName: set.name, sourceType: version.sourceType });
  }),

  v1("/wenxinworkshop/service/list", "service:read", async (ctx, body): Promise<V1ServiceListResult> => {
    const input = parseWith(V1ServiceListBody, body);
    const types = input.apiTypefilter ?? input.apiTypeFilter ?? [];
    const services = (await everyService(ctx.res)).filter((s) => types.length === 0 || types.includes(s.serviceType));
    const item = (s: ServiceRecord): V1ServiceListItem => ({
      name: s.name, url: serviceUrl(ctx.baseUrl, s), apiType: s.serviceType, chargeStatus: "FREE",
      versionList: [{ aiModelId: s.modelSetNum, aiModelVersionId: s.modelVersionNum, trainType: "", serviceStatus: s.runStatus === "Serving" ? "Done" : s.runStatus }],
    });
    // §14.4: serviceId only in custom[], as a string of digits (Java reads an Integer, Go a string).
    return { common: services.map(item), custom: services.map((s) => ({ ...item(s), serviceId: String(s.num), serviceUuid: s.id })) };
  }),
];
