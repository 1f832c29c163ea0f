import { Transport, type RawCallOptions, type TransportOptions } from "./transport.js";
import { Compression } from "./resources/compression.js";
import { Datasets } from "./resources/datasets.js";
import { Evaluations } from "./resources/evaluations.js";
import { Exports } from "./resources/exports.js";
import { Jobs } from "./resources/jobs.js";
import { Keys } from "./resources/keys.js";
import { Models } from "./resources/models.js";
import { Tasks } from "./resources/tasks.js";

export type SailfinClientOptions = TransportOptions;

/**
 * The typed Sailfin client: one signer and retry policy, one namespace per resource. Request
 * bodies are the server's own zod schemas' input types and results the types its renderers are
 * checked against (both from `@sailfin/contract/api`). Runs in Node 20+ and in browsers.
 *
 * @example
 * const client = new SailfinClient({ baseUrl: "http://127.0.0.1:8866", accessKey, secretKey });
 * const { jobId } = await client.jobs.create({ name: "demo", model: "qwen2-tiny", trainMode: "SFT" });
 * for await (const job of client.jobs.list({ maxKeys: 50 })) console.log(job.jobId, job.model);
 */
export class SailfinClient {
  readonly datasets: Datasets;
  /** Fine-tuning jobs (V2's containers). */
  readonly jobs: Jobs;
  /** Fine-tuning tasks (V2's training runs). */
  readonly tasks: Tasks;
  readonly models: Models;
  readonly compression: Compression;
  readonly evaluations: Evaluations;
  /** Evaluation-result exports. */
  readonly exports: Exports;
  /** Access keys. */
  readonly keys: Keys;
  readonly #transport: Transport;

  constructor(options: SailfinClientOptions) {
    this.#transport = new Transport(options);
    this.datasets = new Datasets(this.#transport);
    this.jobs = new Jobs(this.#transport);
    this.tasks = new Tasks(this.#transport);
    this.models = new Models(this.#transport);
    this.compression = new Compression(this.#transport);
    this.evaluations = new Evaluations(this.#transport);
    this.exports = new Exports(this.#transport);
    this.keys = new Keys(this.#transport);
  }

  get baseUrl(): string {
    return this.#transport.baseUrl;
  }

  /**
   * Any V2 action, untyped: `POST /v2/<resource>?Action=<action>`, resolving to `result`.
   * Actions named Describe/Delete/Stop/Cancel/Publish… retry on any transient failure, others
   * only when the server provably did not process them; `idempotent` overrides that.
   *
   * @example const hooks = await client.call<{ webhookList: unknown[] }>("webhook", "DescribeWebhooks");
   */
  call<T = unknown>(resource: string, action: string, body: unknown = {}, options?: RawCallOptions): Promise<T> {
    return this.#transport.v2<T>(resource, action, body, options);
  }

  /**
   * Any V1 route (`POST /wenxinworkshop/…`), resolving to `result`; a V1 `error_code` throws
   * SailfinApiError with `v1Code`. Not retried after ambiguous failures unless `idempotent`.
   *
   * @example const job = await client.callV1("/wenxinworkshop/finetune/jobDetail", { taskId: 1, jobId: 1 }, { idempotent: true });
   */
  callV1<T = unknown>(path: string, body: unknown = {}, options?: RawCallOptions): Promise<T> {
    return this.#transport.v1<T>(path, body, options);
  }
}
