import type {
  BodyInput, CompTaskItem, CreateModelCompTaskBody, DescribeModelCompTasksBody, DescribeModelCompTasksResult, ModelCompTaskIdBody,
} from "@sailfin/contract/api";
import { Paginated } from "../paginate.js";
import type { CallOptions, Transport } from "../transport.js";

/** Model compression tasks (V2 `/v2/model?Action=…ModelCompTask`). */
export class Compression {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** CreateModelCompTask; resolves to the task id (`amva-…`). */
  create(body: BodyInput<typeof CreateModelCompTaskBody>, options?: CallOptions): Promise<string> {
    return this.#t.v2("model", "CreateModelCompTask", body, options);
  }

  /** DescribeModelCompTasks, every page. */
  list(body: BodyInput<typeof DescribeModelCompTasksBody> = {}, options?: CallOptions): Paginated<CompTaskItem, DescribeModelCompTasksResult> {
    return new Paginated(
      (marker) => this.#t.v2<DescribeModelCompTasksResult>("model", "DescribeModelCompTasks", { ...body, ...(marker === undefined ? {} : { marker }) }, options),
      (page) => page.modelCompTaskList, body.marker,
    );
  }

  describe(body: BodyInput<typeof ModelCompTaskIdBody>, options?: CallOptions): Promise<CompTaskItem> {
    return this.#t.v2("model", "DescribeModelCompTask", body, options);
  }

  /** CancelModelCompTask (the reference's "stop"). */
  async cancel(body: BodyInput<typeof ModelCompTaskIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("model", "CancelModelCompTask", body, options);
  }

  async delete(body: BodyInput<typeof ModelCompTaskIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("model", "DeleteModelCompTask", body, options);
  }
}
