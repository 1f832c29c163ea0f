import {
  CreateServiceBody, DescribeServicesBody, ModifyServiceBody, ServiceIdBody, pageRequest, parseWith,
  type CreateServiceResult, type DescribeServicesResult, type ServiceItem,
} from "@sailfin/contract";
import { createService, deleteService, describeService, listServices, modifyService, startService, stopService } from "@sailfin/engine";
import { v2, type RouteDef } from "../route.js";
import { v2Service } from "../service-render.js";

/**
 * Inference services (V2 `/v2/service?Action=…`, reference §14.2). Reads need `service:read`,
 * writes `service:write`. `StopService`, `StartService` and `DeleteService` are Sailfin
 * extensions (no SDK or doc page has them; docs/compatibility.md).
 */

export const serviceV2Routes: RouteDef[] = [
  v2("service", "CreateService", "service:write", async (ctx, body): Promise<CreateServiceResult> => {
    const input = parseWith(CreateServiceBody, body);
    const created = await createService(ctx.res, ctx.caller, {
      modelId: input.modelId, modelSetId: input.modelSetId, name: input.name, urlSuffix: input.urlSuffix,
      description: input.description, serviceType: input.serviceType,
      ...(input.resourceConfig === undefined ? {} : { resourceConfig: input.resourceConfig }),
    });
    return { serviceId: created.serviceId, instanceId: created.instanceId };
  }),

  v2("service", "DescribeService", "service:read", async (ctx, body): Promise<ServiceItem> => {
    const input = parseWith(ServiceIdBody, body);
    return v2Service(await describeService(ctx.res.db, input.serviceId, "serviceId"), ctx.baseUrl);
  }),

  v2("service", "DescribeServices", "service:read", async (ctx, body): Promise<DescribeServicesResult> => {
    const input = parseWith(DescribeServicesBody, body);
    const page = await listServices(ctx.res, pageRequest(input), { name: input.name, runStatus: input.runStatus, serviceType: input.serviceType });
    return { serviceList: page.items.map((s) => v2Service(s, ctx.baseUrl)), pageInfo: page.pageInfo };
  }),

  v2("service", "ModifyService", "service:write", async (ctx, body) => {
    const input = parseWith(ModifyServiceBody, body);
    await modifyService(ctx.res, ctx.caller, { serviceId: input.serviceId, modelId: input.modelId, modelSetId: input.modelSetId });
    return true;
  }),

  v2("service", "StopService", "service:write", async (ctx, body) => {
    await stopService(ctx.res, ctx.caller, parseWith(ServiceIdBody, body).serviceId, "serviceId");
    return true;
  }, true),

  v2("service", "StartService", "service:write", async (ctx, body) => {
    await startService(ctx.res, ctx.caller, parseWith(ServiceIdBody, body).serviceId, "serviceId");
    return true;
  }, true),

  v2("service", "DeleteService", "service:write", async (ctx, body) => {
    await deleteService(ctx.res, ctx.caller, parseWith(ServiceIdBody, body).serviceId, "serviceId");
    return true;
  }, true),
];
