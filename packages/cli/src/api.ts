import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ApiError, Client, UnreachableError } from "./client.js";
import { CliError } from "./errors.js";
import { describeSource, type Settings } from "./settings.js";

export { ApiError };

/**
 * Every HTTP call of the CLI goes through this module: swapping the client (for @sailfin/sdk)
 * is a change here only. Errors leave it already phrased for people: a rejected key pair or an
 * unreachable server names the setting to fix; other server errors stay ApiError (code, message
 * and request id, printed as they are).
 */
export interface Api {
  readonly baseUrl: string;
  /** A V2 action's `result`. */
  call<T = unknown>(resource: string, action: string, body?: Record<string, unknown>): Promise<T>;
  /** Every item of a V2 list action, following `pageInfo.nextMarker` until the last page. */
  listAll<T = unknown>(resource: string, action: string, body: Record<string, unknown>, itemsKey: string): Promise<T[]>;
  /** Streams a local file into `bos:/bucket/objectPath`; `onBytes` sees the bytes as they are read. */
  uploadFile(bucket: string, objectPath: string, file: string, onBytes?: (n: number) => void): Promise<{ uri: string; size: number }>;
  /**
   * GETs a pre-signed link (no bce-auth signature: the link's own is the credential) into
   * `file`, written next to it first and renamed once complete.
   */
  download(url: string, file: string, onStart?: (total: number | null) => void, onBytes?: (n: number) => void): Promise<number>;
}

/** The server refused the key pair (the message names the setting to fix). */
export class RejectedCredentials extends CliError {
  constructor(message: string, readonly code: string) { super(message); }
}

/** No HTTP answer at all (the message names the setting to fix). */
export class ServerUnreachable extends CliError {
  constructor(message: string, readonly baseUrl: string, readonly reason: string) { super(message); }
}

/** Qianfan's authentication failures: the key pair (or the clock) is wrong, not the request. */
const AUTH_CODES = new Set(["SignatureDoesNotMatch", "InvalidAccessKeyId", "IncompleteSignature", "AuthFailure", "InvalidAuthorization"]);

export function connect(settings: Settings): Api {
  // People's commands ride out a restarting server or a brief overload (the SDK's policy never
  // repeats a create the server may have processed).
  const client = new Client({ baseUrl: settings.baseUrl, accessKey: settings.accessKey, secretKey: settings.secretKey, retries: 3 });
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw translate(error, settings);
    }
  };
  const api: Api = {
    baseUrl: settings.baseUrl,
    call: <T>(resource: string, action: string, body: Record<string, unknown> = {}) => guard(() => client.v2<T>(resource, action, body)),
    async listAll<T>(resource: string, action: string, body: Record<string, unknown>, itemsKey: string): Promise<T[]> {
      const items: T[] = [];
      let marker: string | undefined;
      do {
        const page = await api.call<Record<string, unknown> & { pageInfo?: { isTruncated?: boolean; nextMarker?: string } }>(
          resource, action, { ...body, maxKeys: 100, ...(marker === undefined ? {} : { marker }) },
        );
        items.push(...((page[itemsKey] as T[] | undefined) ?? []));
        marker = page.pageInfo?.isTruncated ? page.pageInfo.nextMarker : undefined;
      } while (marker !== undefined);
      return items;
    },
    async uploadFile(bucket, objectPath, file, onBytes) {
      const { size } = await stat(file);
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          onBytes?.(chunk.length);
          callback(null, chunk);
        },
      });
      // Streamed: a multi-gigabyte shard never sits in memory.
      const source = createReadStream(file);
      source.on("error", (error) => counter.destroy(error));
      const body = Readable.toWeb(source.pipe(counter)) as ReadableStream<Uint8Array>;
      await guard(() => client.uploadObject(bucket, objectPath, body));
      return { uri: `bos:/${bucket}/${objectPath}`, size };
    },
    async download(url, file, onStart, onBytes) {
      let response: Response;
      try {
        response = await fetch(url);
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const reason = cause?.code ?? cause?.message ?? (error as Error).message;
        throw translate(new UnreachableError(new URL(url).origin, reason), settings);
      }
      if (!response.ok || response.body === null) {
        const text = await response.text();
        let parsed: { code?: string; message?: string; requestId?: string } = {};
        try { parsed = JSON.parse(text) as typeof parsed; } catch { /* not JSON: the status says it */ }
        throw new ApiError(response.status, parsed.code ?? `HTTP${response.status}`, parsed.message ?? `the download answered HTTP ${response.status}`, parsed.requestId ?? "");
      }
      const length = response.headers.get("content-length");
      onStart?.(length === null ? null : Number(length));
      const partial = `${file}.part`;
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          onBytes?.(chunk.length);
          callback(null, chunk);
        },
      });
      try {
        await pipeline(Readable.fromWeb(response.body as never), counter, createWriteStream(partial));
        await rename(partial, file);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      return bytes;
    },
  };
  return api;
}

/** The one-line, fix-naming form of connection and credential errors. */
function translate(error: unknown, settings: Settings): unknown {
  if (error instanceof UnreachableError) {
    const where = settings.sources.baseUrl.kind === "env" || settings.sources.baseUrl.kind === "default"
      ? "set QIANFAN_CONSOLE_API_BASE_URL"
      : `the URL comes from ${describeSource(settings.sources.baseUrl, "QIANFAN_CONSOLE_API_BASE_URL", "--base-url")}`;
    const reason = reasonText(error.reason);
    return new ServerUnreachable(`cannot reach the Sailfin server at ${error.baseUrl}: ${reason}; is \`sailfin serve\` running? (${where})`, error.baseUrl, reason);
  }
  if (error instanceof ApiError && AUTH_CODES.has(error.code)) {
    const key = error.code === "InvalidAccessKeyId" ? settings.sources.accessKey : settings.sources.secretKey;
    const envName = error.code === "InvalidAccessKeyId" ? "QIANFAN_ACCESS_KEY" : "QIANFAN_SECRET_KEY";
    const fix = key.kind === "profile" ? `check profile "${key.name}" or run \`sailfin login --profile ${key.name}\`` : `check ${envName} or run \`sailfin login\``;
    return new RejectedCredentials(`the server rejected the access key/secret key (${error.code}): ${fix}`, error.code);
  }
  if (error instanceof ApiError && error.code === "RequestExpired") {
    return new CliError("the server refused the request as expired (RequestExpired): check this machine's clock");
  }
  return error;
}

function reasonText(reason: string): string {
  switch (reason) {
    case "ECONNREFUSED": return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN": return "unknown host";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT": return "connection timed out";
    case "ECONNRESET":
    case "UND_ERR_SOCKET": return "connection reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH": return "host unreachable";
    // fetch refuses the ports browsers block (9, 25, 6000, …) without trying them.
    case "bad port": return "fetch refuses to connect to that port (a blocked port)";
    default: return reason;
  }
}
