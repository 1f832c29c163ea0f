import type {
  BodyInput, CreateEvalTaskBody, DescribeEvalTasksBody, DescribeEvalTasksResult, EvalManualSamples, EvalTaskDetail, EvalTaskIdBody, EvalTaskReport,
  ScoreEvalSampleBody,
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

  /** DescribeEvalManualSamples (Sailfin extension): a manual evaluation's answers to score, with the scores so far. */
  manualSamples(body: BodyInput<typeof EvalTaskIdBody>, options?: CallOptions): Promise<EvalManualSamples> {
    return this.#t.v2("eval", "DescribeEvalManualSamples", body, options);
  }

  /** ScoreEvalSample (Sailfin extension): scores one answer, once per dimension; `finished` when that completed the evaluation. */
  score(body: BodyInput<typeof ScoreEvalSampleBody>, options?: CallOptions): Promise<{ finished: boolean }> {
    return this.#t.v2("eval", "ScoreEvalSample", body, options);
  }

  /** FinishEvalManualScoring (Sailfin extension): ends the scoring now; unscored answers stay out of the means. */
  async finishScoring(body: BodyInput<typeof EvalTaskIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("eval", "FinishEvalManualScoring", body, options);
  }
}
