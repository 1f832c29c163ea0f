import type {
  BodyInput, CreateFineTuningTaskBody, CreateFineTuningTaskResult, DescribeFineTuningTaskMetricsBody, DescribeFineTuningTasksBody,
  DescribeFineTuningTasksResult, FineTuningMetricPoint, FineTuningTaskDetail, FineTuningTaskIdBody, FineTuningTaskMetrics,
  FineTuningTaskQuote,
} from "@sailfin/contract/api";
import { Paginated } from "../paginate.js";
import type { CallOptions, Transport } from "../transport.js";

export type ListTasksInput = Omit<BodyInput<typeof DescribeFineTuningTasksBody>, "maker">;

/** Fine-tuning tasks (V2 `/v2/finetuning`): one training run each, under a job. */
export class Tasks {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** CreateFineTuningTask: queues a training run. */
  create(body: BodyInput<typeof CreateFineTuningTaskBody>, options?: CallOptions): Promise<CreateFineTuningTaskResult> {
    return this.#t.v2("finetuning", "CreateFineTuningTask", body, options);
  }

  /** Sailfin's DescribeFineTuningTaskQuote: what `create` with this body would train, and for how long. */
  quote(body: BodyInput<typeof CreateFineTuningTaskBody>, options?: CallOptions): Promise<FineTuningTaskQuote> {
    return this.#t.v2("finetuning", "DescribeFineTuningTaskQuote", body, options);
  }

  /** DescribeFineTuningTasks of one job, every page. */
  list(body: ListTasksInput, options?: CallOptions): Paginated<FineTuningTaskDetail, DescribeFineTuningTasksResult> {
    return new Paginated(
      (marker) => this.#t.v2<DescribeFineTuningTasksResult>("finetuning", "DescribeFineTuningTasks", { ...body, ...(marker === undefined ? {} : { marker }) }, options),
      (page) => page.taskList, body.marker,
    );
  }

  describe(body: BodyInput<typeof FineTuningTaskIdBody>, options?: CallOptions): Promise<FineTuningTaskDetail> {
    return this.#t.v2("finetuning", "DescribeFineTuningTask", body, options);
  }

  /** Sailfin's DescribeFineTuningTaskMetrics: one batch of points after `sinceStep`. */
  metrics(body: BodyInput<typeof DescribeFineTuningTaskMetricsBody>, options?: CallOptions): Promise<FineTuningTaskMetrics> {
    return this.#t.v2("finetuning", "DescribeFineTuningTaskMetrics", body, options);
  }

  /**
   * Every metric point after `sinceStep`, batch after batch (keyset by step).
   *
   * @example for await (const point of client.tasks.allMetrics({ taskId })) chart.add(point.step, point.loss);
   */
  async *allMetrics(body: BodyInput<typeof DescribeFineTuningTaskMetricsBody>, options?: CallOptions): AsyncGenerator<FineTuningMetricPoint, void, undefined> {
    let sinceStep = body.sinceStep;
    for (;;) {
      const batch = await this.metrics({ ...body, ...(sinceStep === undefined ? {} : { sinceStep }) }, options);
      yield* batch.metrics;
      const last = batch.metrics.at(-1);
      if (!batch.isTruncated || last === undefined || last.step === sinceStep) return;
      sinceStep = last.step;
    }
  }

  async stop(body: BodyInput<typeof FineTuningTaskIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("finetuning", "StopFineTuningTask", body, options);
  }

  /**
   * Sailfin's PauseFineTuningTask: a waiting task is Paused at once, a running one saves a
   * checkpoint and lets go of its worker (it reads Paused once it has).
   *
   * @example await client.tasks.pause({ taskId }); // later: await client.tasks.resume({ taskId });
   */
  async pause(body: BodyInput<typeof FineTuningTaskIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("finetuning", "PauseFineTuningTask", body, options);
  }

  /** Sailfin's ResumeFineTuningTask: a Paused task waits again and continues from its latest checkpoint. */
  async resume(body: BodyInput<typeof FineTuningTaskIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("finetuning", "ResumeFineTuningTask", body, options);
  }

  async delete(body: BodyInput<typeof FineTuningTaskIdBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("finetuning", "DeleteFineTuningTask", body, options);
  }
}
