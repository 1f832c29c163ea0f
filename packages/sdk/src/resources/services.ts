import type { PageInfo } from "@sailfin/contract/api";
import { Paginated } from "../paginate.js";
import type { CallOptions, Transport } from "../transport.js";

/**
 * Inference services (`/v2/service`, reference §14): a Ready model version deployed behind an
 * endpoint that `client.chat` (and any OpenAI client) can call. `StopService`, `StartService`
 * and `DeleteService` are Sailfin extensions (docs/compatibility.md).
 */

/** `New → Deploying → Serving`; `Failed`; `Stopped` after a stop. */
export type ServiceRunStatus = "New" | "Deploying" | "Serving" | "Failed" | "Stopped";

/** DescribeService's result (reference §14.2.2, plus Sailfin's `failureReason`). */
export interface ServiceDetail {
  readonly serviceId: string;
  readonly name: string;
  readonly description: string;
  /** The V1 call URL; its last segment is the endpoint. */
  readonly url: string;
  /** The urlSuffix: what `chat` takes as `model`. */
  readonly endpoint: string;
  readonly serviceType: string;
  readonly runStatus: ServiceRunStatus | (string & {});
  readonly modelSetId: string;
  /** The deployed version (`amv-…`); `modelVersionId` says the same. */
  readonly modelId: string;
  readonly modelVersionId: string;
  readonly resourceConfig?: Readonly<Record<string, unknown>>;
  readonly createTime: string;
  readonly modifyTime?: string;
  readonly creator?: string;
  /** Why the engine could not start (Failed), else null. */
  readonly failureReason?: string | null;
  readonly [extra: string]: unknown;
}

export interface CreateServiceInput {
  /** The version to serve (`amv-…`). */
  readonly modelId: string;
  readonly modelSetId?: string;
  readonly name: string;
  /** The endpoint: `[a-z0-9_-]`, alnum at both ends; made from the name when left out. */
  readonly urlSuffix?: string;
  readonly description?: string;
  /** `resourceId` picks a worker pool; the rest is echoed (Qianfan billing fields). */
  readonly resourceConfig?: { readonly type?: string; readonly replicasCount?: number; readonly qps?: number; readonly resourceId?: string };
  readonly billing?: Readonly<Record<string, unknown>>;
  readonly deploymentConfig?: Readonly<Record<string, unknown>>;
}

export interface ListServicesInput {
  readonly marker?: string;
  readonly maxKeys?: number;
  readonly pageReverse?: boolean;
  /** Names containing this. */
  readonly name?: string;
  readonly runStatus?: readonly string[];
}

export interface DescribeServicesResult {
  readonly serviceList: readonly ServiceDetail[];
  readonly pageInfo: PageInfo;
}

export interface ServiceIdInput {
  readonly serviceId: string;
}

export class Services {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** CreateService: returns at once; the service goes New → Deploying → Serving (poll `describe`). */
  create(body: CreateServiceInput, options?: CallOptions): Promise<{ serviceId: string; instanceId: string }> {
    return this.#t.v2("service", "CreateService", body, options);
  }

  describe(body: ServiceIdInput, options?: CallOptions): Promise<ServiceDetail> {
    return this.#t.v2("service", "DescribeService", body, options);
  }

  /** DescribeServices, every page. */
  list(body: ListServicesInput = {}, options?: CallOptions): Paginated<ServiceDetail, DescribeServicesResult> {
    return new Paginated(
      (marker) => this.#t.v2<DescribeServicesResult>("service", "DescribeServices", { ...body, ...(marker === undefined ? {} : { marker }) }, options),
      (page) => page.serviceList, body.marker,
    );
  }

  /** ModifyService: serve another version (redeploys: Deploying again, then Serving). */
  async modify(body: { readonly serviceId: string; readonly modelSetId: string; readonly modelId: string }, options?: CallOptions): Promise<void> {
    // Sending the same version twice converges: a retry is safe.
    await this.#t.v2("service", "ModifyService", body, { ...options, idempotent: true });
  }

  /** StopService (extension): the engine is stopped, its slot freed; `runStatus` becomes Stopped. */
  async stop(body: ServiceIdInput, options?: CallOptions): Promise<void> {
    await this.#t.v2("service", "StopService", body, options);
  }

  /** StartService (extension): a Stopped or Failed service is deployed again. */
  async start(body: ServiceIdInput, options?: CallOptions): Promise<void> {
    await this.#t.v2("service", "StartService", body, { ...options, idempotent: true });
  }

  /** DeleteService (extension). */
  async delete(body: ServiceIdInput, options?: CallOptions): Promise<void> {
    await this.#t.v2("service", "DeleteService", body, options);
  }
}
