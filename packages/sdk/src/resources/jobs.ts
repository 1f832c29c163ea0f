import type {
  BodyInput, CreateFineTuningJobBody, CreateFineTuningJobResult, DescribeFineTuningJobsBody, DescribeFineTuningJobsResult,
  FineTuningJobIdBody, FineTuningJobItem, SupportModel,
} from "@sailfin/contract/api";
import { Paginated } from "../paginate.js";
import type { CallOptions, Transport } from "../transport.js";

/** The list filter, without the misspelt keys (`trainModel`, `maker`) kept on the wire for the Python SDK. */
export type ListJobsInput = Omit<BodyInput<typeof DescribeFineTuningJobsBody>, "trainModel" | "maker">;

/** Fine-tuning jobs (V2 `/v2/finetuning`): the containers that fine-tuning tasks run under. */
export class Jobs {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  create(body: BodyInput<typeof CreateFineTuningJobBody>, options?: CallOptions): Promise<CreateFineTuningJobResult> {
    return this.#t.v2("finetuning", "CreateFineTuningJob", body, options);
  }

  /** DescribeFineTuningJobs, every page (newest first unless `pageReverse`). */
  list(body: ListJobsInput = {}, options?: CallOptions): Paginated<FineTuningJobItem, DescribeFineTuningJobsResult> {
    return new Paginated(
      (marker) => this.#t.v2<DescribeFineTuningJobsResult>("finetuning", "DescribeFineTuningJobs", { ...body, ...(marker === undefined ? {} : { marker }) }, options),
      (page) => page.jobList, body.marker,
    );
  }

  async delete(body: BodyInput<typeof FineTuningJobIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("finetuning", "DeleteFineTuningJob", body, options);
  }

  /** DescribeFineTuningSupportModels: base models and their hyper-parameter tables. */
  supportModels(options?: CallOptions): Promise<SupportModel[]> {
    return this.#t.v2("finetuning", "DescribeFineTuningSupportModels", {}, options);
  }
}
