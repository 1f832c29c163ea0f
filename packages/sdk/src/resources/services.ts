import type {
  BodyInput, CreateServiceBody, CreateServiceResult, DescribeServicesBody, DescribeServicesResult, ModifyServiceBody, ServiceIdBody, ServiceItem,
} from "@sailfin/contract/api";
import { Paginated } from "../paginate.js";
import type { CallOptions, Transport } from "../transport.js";

/**
 * Inference services (`/v2/service`, reference §14): a Ready model version deployed behind an
 * endpoint that `client.chat` (and any OpenAI client) can call. `StopService`, `StartService`
 * and `DeleteService` are Sailfin extensions (docs/compatibility.md).
 */

export class Services {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** CreateService: returns at once; the service goes New → Deploying → Serving (poll `describe`). */
  create(body: BodyInput<typeof CreateServiceBody>, options?: CallOptions): Promise<CreateServiceResult> {
    return this.#t.v2("service", "CreateService", body, options);
  }

  describe(body: BodyInput<typeof ServiceIdBody>, options?: CallOptions): Promise<ServiceItem> {
    return this.#t.v2("service", "DescribeService", body, options);
  }

  /** DescribeServices, every page. */
  list(body: BodyInput<typeof DescribeServicesBody> = {}, options?: CallOptions): Paginated<ServiceItem, DescribeServicesResult> {
    return new Paginated(
      (marker) => this.#t.v2<DescribeServicesResult>("service", "DescribeServices", { ...body, ...(marker === undefined ? {} : { marker }) }, options),
      (page) => page.serviceList, body.marker,
    );
  }

  /** ModifyService: serve another version (redeploys: Deploying again, then Serving). */
  async modify(body: BodyInput<typeof ModifyServiceBody>, options?: CallOptions): Promise<void> {
    // Sending the same version twice converges: a retry is safe.
    await this.#t.v2("service", "ModifyService", body, { ...options, idempotent: true });
  }

  /** StopService (extension): the engine is stopped, its slot freed; `runStatus` becomes Stopped. */
  async stop(body: BodyInput<typeof ServiceIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("service", "StopService", body, options);
  }

  /** StartService (extension): a Stopped or Failed service is deployed again. */
  async start(body: BodyInput<typeof ServiceIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("service", "StartService", body, { ...options, idempotent: true });
  }

  /** DeleteService (extension). */
  async delete(body: BodyInput<typeof ServiceIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("service", "DeleteService", body, options);
  }
}
