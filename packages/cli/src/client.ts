import { SailfinApiError, SailfinClient, SailfinNetworkError, type UploadBody, type UploadObjectResult } from "@sailfin/sdk";

/**
 * The CLI's client: the typed SDK (`@sailfin/sdk`) with the CLI's error types, configured from
 * the same `QIANFAN_*` variables the official SDKs read. Tests and scripts use it too.
 */
export interface ClientConfig {
  readonly baseUrl: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** Retries of transient failures (default 0: tests and scripts see the first answer). */
  readonly retries?: number;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string;
  constructor(status: number, code: string, message: string, requestId: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/** The server could not be reached at all (refused, unknown host, reset): no HTTP answer. */
export class UnreachableError extends Error {
  readonly baseUrl: string;
  /** The system error code (`ECONNREFUSED`, `ENOTFOUND`, …) or the fetch message. */
  readonly reason: string;
  constructor(baseUrl: string, reason: string) {
    super(`cannot reach the Sailfin server at ${baseUrl} (${reason}); is \`sailfin serve\` running?`);
    this.baseUrl = baseUrl;
    this.reason = reason;
  }
}

export function clientConfigFromEnv(env: NodeJS.ProcessEnv): ClientConfig {
  const baseUrl = (env.QIANFAN_CONSOLE_API_BASE_URL ?? "http://127.0.0.1:8866").replace(/\/+$/, "");
  const accessKey = env.QIANFAN_ACCESS_KEY ?? "";
  const secretKey = env.QIANFAN_SECRET_KEY ?? "";
  if (accessKey === "" || secretKey === "") {
    throw new Error(
      "set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY (the admin pair is in SAILFIN_HOME/credentials.json)",
    );
  }
  return { baseUrl, accessKey, secretKey };
}

/** A client configured from the `QIANFAN_*` variables (what every client command uses). */
export function envClient(): Client {
  return new Client(clientConfigFromEnv(process.env));
}

export class Client {
  readonly config: ClientConfig;
  /** The typed SDK underneath: one signer, one envelope parser, one retry policy for every caller. */
  readonly sdk: SailfinClient;
  constructor(config: ClientConfig) {
    this.config = config;
    this.sdk = new SailfinClient({
      baseUrl: config.baseUrl, accessKey: config.accessKey, secretKey: config.secretKey, retries: config.retries ?? 0,
    });
  }

  /** Calls a V2 action and returns its `result`. */
  v2<T = unknown>(resource: string, action: string, body: unknown = {}): Promise<T> {
    return this.#guard(() => this.sdk.call<T>(resource, action, body));
  }

  /** Calls a V1 route and returns its `result` (a V1 `error_code` throws ApiError with that code). */
  v1<T = unknown>(path: string, body: unknown = {}): Promise<T> {
    return this.#guard(() => this.sdk.callV1<T>(path, body));
  }

  /** Streams (or sends) an object into `bos:/bucket/objectPath` (`PUT /sailfin/v1/objects/…`). */
  uploadObject(bucket: string, objectPath: string, body: UploadBody): Promise<UploadObjectResult> {
    return this.#guard(() => this.sdk.datasets.upload({ bucket, path: objectPath, body }));
  }

  /** The SDK's errors as the CLI's: ApiError for an answer, UnreachableError for none. */
  async #guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof SailfinApiError) throw new ApiError(error.httpStatus, error.code, error.message, error.requestId);
      if (error instanceof SailfinNetworkError) {
        const cause = (error.cause as { cause?: { code?: string; message?: string }; message?: string } | undefined);
        throw new UnreachableError(this.config.baseUrl, cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? error.message);
      }
      throw error;
    }
  }
}
