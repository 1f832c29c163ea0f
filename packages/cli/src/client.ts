import { bceTimestamp, signRequest } from "@sailfin/contract";

/**
 * The CLI's HTTP client: signs every call with bce-auth-v1 using the same `QIANFAN_*`
 * variables the official SDKs read. (The typed SDK of a later issue replaces this.)
 */
export interface ClientConfig {
  readonly baseUrl: string;
  readonly accessKey: string;
  readonly secretKey: string;
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
  constructor(config: ClientConfig) {
    this.config = config;
  }

  /** Calls a V2 action and returns its `result`. */
  async v2<T = unknown>(resource: string, action: string, body: unknown = {}): Promise<T> {
    const json = await this.request("POST", `/v2/${resource}`, { Action: action }, JSON.stringify(body), "application/json");
    const parsed = json as { result?: T };
    return parsed.result as T;
  }

  /** Calls a V1 route and returns its `result`. */
  async v1<T = unknown>(path: string, body: unknown = {}): Promise<T> {
    const json = (await this.request("POST", path, {}, JSON.stringify(body), "application/json")) as {
      result?: T; error_code?: number; error_msg?: string; log_id?: string;
    };
    if (json.error_code !== undefined) throw new ApiError(200, String(json.error_code), json.error_msg ?? "", json.log_id ?? "");
    return json.result as T;
  }

  /** Streams a file body (upload). */
  async upload<T = unknown>(path: string, body: ReadableStream<Uint8Array> | Uint8Array, size: number): Promise<T> {
    const json = (await this.request("PUT", path, {}, body, "application/octet-stream", size)) as { result?: T };
    return json.result as T;
  }

  async request(
    method: string,
    path: string,
    query: Record<string, string>,
    body: string | Uint8Array | ReadableStream<Uint8Array>,
    contentType: string,
    contentLength?: number,
  ): Promise<unknown> {
    const url = new URL(this.config.baseUrl + path);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const timestamp = bceTimestamp();
    const headers: Record<string, string> = { host: url.host, "content-type": contentType, "x-bce-date": timestamp };
    if (contentLength !== undefined) headers["content-length"] = String(contentLength);
    const authorization = signRequest({
      accessKey: this.config.accessKey, secretKey: this.config.secretKey, method, path: url.pathname,
      query, headers, timestamp,
    });
    let response: Response;
    try {
      response = await fetch(url, {
        method, body: body as never, headers: { ...headers, authorization },
        ...(typeof body === "string" || body instanceof Uint8Array ? {} : { duplex: "half" }),
      } as Parameters<typeof fetch>[1]);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new UnreachableError(this.config.baseUrl, cause?.code ?? cause?.message ?? (error as Error).message);
    }
    const text = await response.text();
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ApiError(response.status, "InvalidResponse", `the server answered HTTP ${response.status} with a non-JSON body`, "");
    }
    if (!response.ok || typeof json.code === "string") {
      throw new ApiError(response.status, String(json.code ?? response.status), String(json.message ?? json.error_msg ?? text), String(json.requestId ?? ""));
    }
    return json;
  }
}
