import type { ConsoleSession } from "@sailfin/contract/api";
import { Transport, type CallOptions, type ClientBaseOptions, type FetchLike, type RawCallOptions, type TransportOptions } from "./transport.js";
import { Chat } from "./resources/chat.js";
import { Compression } from "./resources/compression.js";
import { Datasets } from "./resources/datasets.js";
import { Evaluations } from "./resources/evaluations.js";
import { Exports } from "./resources/exports.js";
import { Jobs } from "./resources/jobs.js";
import { Keys } from "./resources/keys.js";
import { Models } from "./resources/models.js";
import { Services } from "./resources/services.js";
import { Tasks } from "./resources/tasks.js";

export type SailfinClientOptions = TransportOptions;

/** Where the session routes are, and (Node) the cookie a browser would keep by itself. */
export interface SessionTarget {
  readonly baseUrl: string;
  readonly fetch?: FetchLike;
  /** The `sailfin_session` cookie's value, outside browsers (see SessionCredentials.cookie). */
  readonly cookie?: string;
  readonly signal?: AbortSignal;
}

export interface SignInInput extends ClientBaseOptions {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly signal?: AbortSignal;
}

/**
 * The typed Sailfin client: one signer and retry policy, one namespace per resource. Request
 * bodies are the server's own zod schemas' input types and results the types its renderers are
 * checked against (both from `@sailfin/contract/api`). Runs in Node 20+ and in browsers.
 *
 * @example
 * const client = new SailfinClient({ baseUrl: "http://127.0.0.1:8866", accessKey, secretKey });
 * const { jobId } = await client.jobs.create({ name: "demo", model: "qwen2-tiny", trainMode: "SFT" });
 * for await (const job of client.jobs.list({ maxKeys: 50 })) console.log(job.jobId, job.model);
 *
 * // In the web console: a session instead of keys (the cookie is HttpOnly, the secret not kept).
 * const { client: web, session } = await SailfinClient.signIn({ baseUrl: "", accessKey, secretKey });
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
  /** Inference services: deployed model versions. */
  readonly services: Services;
  /** Chat with a deployed service (`/v2/chat/completions`). */
  readonly chat: Chat;
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
    this.services = new Services(this.#transport);
    this.chat = new Chat(this.#transport);
  }

  get baseUrl(): string {
    return this.#transport.baseUrl;
  }

  /**
   * Trades an access key pair for a console session (`POST /sailfin/v1/session`) and returns a
   * session-mode client: the secret is sent once and kept nowhere. In a browser the server's
   * HttpOnly cookie authenticates every later call; in Node the client carries it itself. A
   * wrong pair throws SailfinApiError `AccessDenied` (403), too many wrong pairs `TooManyRequests` (429).
   *
   * @example
   * const { client, session } = await SailfinClient.signIn({ baseUrl: "", accessKey, secretKey });
   * if (!session.actions.includes("tuning:write")) hideTheStartButton();
   */
  static async signIn(input: SignInInput): Promise<{ client: SailfinClient; session: ConsoleSession }> {
    const { accessKey, secretKey, signal, ...base } = input;
    const transport = new Transport({ ...base, session: { csrfToken: "" } });
    const { session, cookie } = await transport.signIn({ accessKey, secretKey }, signal === undefined ? {} : { signal });
    const client = new SailfinClient({ ...base, session: { csrfToken: session.csrfToken, ...(cookie === undefined ? {} : { cookie }) } });
    return { client, session };
  }

  /**
   * The session this browser (or `cookie`) holds, read afresh: policies and granted actions as
   * the key has them now. Throws SailfinApiError `NotSignedIn` (401) when there is none.
   *
   * @example const session = await SailfinClient.currentSession({ baseUrl: "" });
   */
  static currentSession(target: SessionTarget): Promise<ConsoleSession> {
    // GET needs no CSRF token; asked once, at page load: no retries to wait through.
    const transport = new Transport({
      baseUrl: target.baseUrl, retries: 0, ...(target.fetch === undefined ? {} : { fetch: target.fetch }),
      session: { csrfToken: "", ...(target.cookie === undefined ? {} : { cookie: target.cookie }) },
    });
    return transport.currentSession(target.signal === undefined ? {} : { signal: target.signal });
  }

  /**
   * Ends a session by its CSRF token (`DELETE /sailfin/v1/session`), for a page that kept the
   * token but not the client.
   */
  static signOut(target: SessionTarget & { readonly csrfToken: string }): Promise<void> {
    const transport = new Transport({
      baseUrl: target.baseUrl, ...(target.fetch === undefined ? {} : { fetch: target.fetch }),
      session: { csrfToken: target.csrfToken, ...(target.cookie === undefined ? {} : { cookie: target.cookie }) },
    });
    return transport.signOut(target.signal === undefined ? {} : { signal: target.signal });
  }

  /** This session client's session, read afresh (see the static form). */
  currentSession(options: CallOptions = {}): Promise<ConsoleSession> {
    return this.#sessionTransport("currentSession").currentSession(options);
  }

  /** Ends this client's session (`DELETE /sailfin/v1/session`); the server clears the cookie. */
  signOut(options: CallOptions = {}): Promise<void> {
    return this.#sessionTransport("signOut").signOut(options);
  }

  #sessionTransport(method: string): Transport {
    if (!this.#transport.isSession) throw new Error(`${method}() needs a session client (SailfinClient.signIn, or new SailfinClient({ session }))`);
    return this.#transport;
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
