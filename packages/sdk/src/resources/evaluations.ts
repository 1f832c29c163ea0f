import type {
  BodyInput, CreateEvalTaskBody, DescribeEvalTasksBody, DescribeEvalTasksResult, EvalTaskDetail, EvalTaskIdBody, EvalTaskReport,
} from "@sailfin/contract/api";
import { Paginated } from "../paginate.js";
import type { CallOptions, Transport } from "../transport.js";

/** Evaluations of model versions (V2 `/v2/eval`). Their result exports are `client.exports`. */
export class Evaluations {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** CreateEvalTask; resolves to the evaluation id (`ame-…`). */
  create(body: BodyInput<typeof CreateEvalTaskBody>, options?: CallOptions): Promise<string> {
    return this.#t.v2("eval", "CreateEvalTask", body, options);
  }

  /** DescribeEvalTasks, every page. */
  list(body: BodyInput<typeof DescribeEvalTasksBody> = {}, options?: CallOptions): Paginated<EvalTaskDetail, DescribeEvalTasksResult> {
    return new Paginated(
      (marker) => this.#t.v2<DescribeEvalTasksResult>("eval", "DescribeEvalTasks", { ...body, ...(marker === undefined ? {} : { marker }) }, options),
      (page) => page.taskList, body.marker,
    );
  }

  describe(body: BodyInput<typeof EvalTaskIdBody>, options?: CallOptions): Promise<EvalTaskDetail> {
    return this.#t.v2("eval", "DescribeEvalTask", body, options);
  }

  /** DescribeEvalTaskReport: per-version metrics, once the evaluation has finished. */
  report(body: BodyInput<typeof EvalTaskIdBody>, options?: CallOptions): Promise<EvalTaskReport> {
    return this.#t.v2("eval", "DescribeEvalTaskReport", body, options);
  }

  async stop(body: BodyInput<typeof EvalTaskIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("eval", "StopEvalTask", body, options);
  }

  async delete(body: BodyInput<typeof EvalTaskIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("eval", "DeleteEvalTask", body, options);
  }
}
