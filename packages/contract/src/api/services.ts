import { z } from "zod";
import type { PageInfo } from "../pagination.js";
import type { ServiceRunStatus } from "../states.js";
import { PageFields, V1Id, intField } from "../validate.js";

/**
 * Inference services (V2 `POST /v2/service?Action=…` and V1 `/wenxinworkshop/service/*`,
 * reference §14): request bodies and the service objects. `StopService`, `StartService` and
 * `DeleteService` are Sailfin extensions (no SDK knows them; docs/compatibility.md).
 */

/**
 * `resourceConfig` as the SDK sends it (`{type, replicasCount, qps}`) plus Sailfin's `resourceId`
 * (the pool, as on fine-tuning). Echoed back; only `resourceId` and `replicasCount` (1) act.
 */
const ResourceConfig = z.object({
  type: z.string().max(64).optional(),
  replicasCount: intField(1, 1_000).optional(),
  qps: z.number().min(0).max(1_000_000).optional(),
  region: z.string().max(32).optional(),
  resourceId: z.string().min(1).max(64).optional(),
});

export const CreateServiceBody = z.object({
  modelSetId: z.string().min(1).max(64).optional(),
  /** The version (`amv-…`) to deploy. */
  modelId: z.string().min(1).max(64),
  /** Qianfan documents [2,20]; the Python SDK's default `svc{setId}_{modelId}` is longer, so up to 100 is taken. */
  name: z.string().min(1).max(100),
  urlSuffix: z.string().max(100).optional(),
  description: z.string().max(500).optional(),
  resourceConfig: ResourceConfig.optional(),
  /** Billing and prepaid units mean nothing on a self-hosted server: accepted and ignored. */
  billing: z.record(z.string(), z.unknown()).optional(),
  deploymentConfig: z.record(z.string(), z.unknown()).optional(),
  serviceType: z.enum(["chat", "completions"]).optional(),
});
export type CreateServiceBody = z.infer<typeof CreateServiceBody>;

export const ServiceIdBody = z.object({ serviceId: z.string().min(1).max(64) });
export type ServiceIdBody = z.infer<typeof ServiceIdBody>;

export const DescribeServicesBody = z.object({
  ...PageFields,
  /** Fuzzy (substring) match on the name. */
  name: z.string().max(100).optional(),
  runStatus: z.array(z.string().max(32)).max(10).optional(),
  serviceType: z.array(z.string().max(32)).max(10).optional(),
});
export type DescribeServicesBody = z.infer<typeof DescribeServicesBody>;

export const ModifyServiceBody = z.object({
  serviceId: z.string().min(1).max(64),
  modelSetId: z.string().min(1).max(64).optional(),
  modelId: z.string().min(1).max(64),
});
export type ModifyServiceBody = z.infer<typeof ModifyServiceBody>;

/** The service object of §14.2.2 (DescribeService, DescribeServices items). */
export interface ServiceItem {
  readonly serviceId: string;
  readonly name: string;
  readonly description: string;
  /** The full V1 call URL; its last segment is the endpoint (the Python deploy loop reads it). */
  readonly url: string;
  readonly endpoint: string;
  readonly serviceType: string;
  readonly runStatus: ServiceRunStatus;
  readonly updateStatus: "None";
  readonly chargeType: "ComputingUnit";
  readonly payType: "Postpay";
  readonly chargeStatus: "Free";
  readonly modelSetId: string;
  /** `amv-…` (the doc's meaning); the mock's `modelVersionId` carries the same id. */
  readonly modelId: string;
  readonly modelVersionId: string;
  readonly baseModel: string;
  readonly resourceConfig: Readonly<Record<string, unknown>>;
  readonly creator: string;
  readonly createTime: string;
  readonly modifyTime: string;
  /** Sailfin extension: why the service is Failed (null otherwise). */
  readonly failureReason: string | null;
  /** Sailfin extension: the `serve` run serving it now (null before the first). */
  readonly taskId: string | null;
}

export interface DescribeServicesResult {
  readonly serviceList: readonly ServiceItem[];
  readonly pageInfo: PageInfo;
}

export interface CreateServiceResult {
  readonly serviceId: string;
  /** Qianfan's 32-hex deployment instance id: here the run's id without its prefix, hex-padded. */
  readonly instanceId: string;
}

/** Sailfin extension on V1 modelVersionDetail and V2 DescribeModel: the services deploying the version. */
export interface VersionServiceRef {
  readonly serviceId: string;
  readonly name: string;
  readonly endpoint: string;
  readonly runStatus: ServiceRunStatus;
}

// ---- V1 ----

export const V1ServiceApplyBody = z.object({
  modelId: V1Id,
  modelVersionId: V1Id.optional(),
  iterationId: V1Id.optional(),
  name: z.string().min(1).max(100),
  uri: z.string().max(100),
  replicas: intField(1, 1_000).optional(),
  poolType: intField(1, 2).optional(),
  description: z.string().max(500).optional(),
});
export type V1ServiceApplyBody = z.infer<typeof V1ServiceApplyBody>;

export const V1ServiceDetailBody = z.object({ serviceId: V1Id });
export type V1ServiceDetailBody = z.infer<typeof V1ServiceDetailBody>;

/** `apiTypefilter` (Python, JS, Java) or `apiTypeFilter` (Go): both are read. */
export const V1ServiceListBody = z.object({
  apiTypefilter: z.array(z.string().max(32)).max(10).optional(),
  apiTypeFilter: z.array(z.string().max(32)).max(10).optional(),
});
export type V1ServiceListBody = z.infer<typeof V1ServiceListBody>;

export interface V1ServiceApplyResult {
  readonly result: true;
  readonly serviceId: number;
  readonly serviceUuid: string;
}

export interface V1ServiceDetail {
  readonly id: number;
  readonly serviceUuid: string;
  readonly modelId: number;
  readonly modelName: string;
  readonly iterationId: number;
  readonly modelVersion: string;
  readonly version: number;
  readonly name: string;
  readonly uri: string;
  readonly fullUri: string;
  readonly url: string;
  /** V1 `serviceStatus`: `Done` when serving (the SDK's V1 value), else the V2 runStatus word. */
  readonly serviceStatus: string;
  readonly runStatus: ServiceRunStatus;
  readonly sourceType: string;
  readonly description: string;
  readonly apiType: string;
  readonly vmConfig: Readonly<Record<string, unknown>>;
  readonly creator: string;
  readonly createTime: number;
  readonly modifyTime: number;
  readonly onlineTime: number;
  readonly failureReason: string | null;
}

export interface V1ServiceListItem {
  /** Only in `custom[]`, as a string of digits (Java reads an Integer, Go a string; §14.4). */
  readonly serviceId?: string;
  readonly serviceUuid?: string;
  readonly name: string;
  readonly url: string;
  readonly apiType: string;
  readonly chargeStatus: "FREE";
  readonly versionList: ReadonlyArray<{ readonly aiModelId: number; readonly aiModelVersionId: number; readonly trainType: string; readonly serviceStatus: string }>;
}

export interface V1ServiceListResult {
  readonly common: readonly V1ServiceListItem[];
  readonly custom: readonly V1ServiceListItem[];
}
