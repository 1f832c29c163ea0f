import {
  CSRF_HEADER, SESSION_COOKIE, SESSION_PATH, bceTimestamp, objectRequestPath, type ConsoleSession, type SignInBody, type UploadObjectResult,
} from "@sailfin/contract/api";
import { SailfinApiError, SailfinNetworkError } from "./errors.js";
import { backoffDelay, isIdempotentAction, parseRetryAfter, shouldRetry, type Failure } from "./retry.js";
import { sha256Hex, signRequestAsync } from "./signer.js";

/**
 * One authenticated HTTP exchange with retries: builds the URL, signs with bce-auth-v1 (fresh
 * timestamp per attempt) or, in session mode, sends the console's cookie and CSRF token instead,
 * sends through the injected `fetch`, reads the envelope and decides per retry.ts whether to try
 * again. Every namespace calls through this.
 */

/** The subset of `fetch` the SDK uses: the global one fits, and so does a test stub. */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponse>;

export interface FetchInit {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: RequestBody;
  readonly signal?: AbortSignal;
  /** Needed by fetch for a streamed (ReadableStream) body. */
  readonly duplex?: "half";
  /** "same-origin" in session mode: the browser sends the session cookie with the request. */
  readonly credentials?: "omit" | "same-origin" | "include";
}

export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
  /** The unread body (streamed downloads); a stub without it is read whole instead. */
  readonly body?: ReadableStream<Uint8Array> | null;
}

/** What an upload may send. A ReadableStream is streamed and, not being replayable, never retried. */
export type UploadBody = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;
/** What fetch is handed: as UploadBody, with byte arrays over a plain ArrayBuffer (what `BodyInit` takes). */
type RequestBody = string | Uint8Array<ArrayBuffer> | ArrayBuffer | Blob | ReadableStream<Uint8Array>;

/** What every client takes, however it authenticates. */
export interface ClientBaseOptions {
  /**
   * `http://host:port`. In session mode it may also be "" or a path ("/sailfin-api"): requests
   * then go to the page's own origin, which is where the session cookie lives.
   */
  readonly baseUrl: string;
  readonly fetch?: FetchLike;
  /** Retries after the first attempt (default 3; 0 disables). */
  readonly retries?: number;
  /** Backoff: first delay ceiling in ms (default 200), doubled per retry up to `retryMaxDelayMs` (default 5000). */
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
  /** Per-attempt time limit in ms (default: none). A timed-out attempt is a network error. */
  readonly timeoutMs?: number;
  /** Extra headers on every request (signed too, with keys), e.g. `{ "request-source": "my-app" }`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Key mode: every request is signed with bce-auth-v1. */
export interface KeyAuthOptions extends ClientBaseOptions {
  readonly accessKey: string;
  readonly secretKey: string;
  /** Signature validity (default 1800 s, as the Node and Java SDKs sign). */
  readonly expirationSeconds?: number;
  readonly session?: never;
}

/** What a console session client holds: never the secret key. */
export interface SessionCredentials {
  /** `ConsoleSession.csrfToken`, sent in `X-Sailfin-CSRF` on every request but GET and HEAD. */
  readonly csrfToken: string;
  /**
   * The `sailfin_session` cookie's value, for runtimes without a cookie jar (Node; `signIn`
   * fills it there). Browsers keep the HttpOnly cookie themselves and leave this unset.
   */
  readonly cookie?: string;
}

/** Session mode (the web console): requests are not signed; the session cookie authenticates. */
export interface SessionAuthOptions extends ClientBaseOptions {
  readonly session: SessionCredentials;
  readonly accessKey?: never;
  readonly secretKey?: never;
}

export type TransportOptions = KeyAuthOptions | SessionAuthOptions;

export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** For the raw escape hatches: whether the call may be repeated after an ambiguous failure. */
export interface RawCallOptions extends CallOptions {
  readonly idempotent?: boolean;
}

/** Where key clients get bearer tokens (reference §15.4). */
const BEARER_TOKEN_PATH = "/v1/BCE-BEARER/token";

/** `GET /v1/BCE-BEARER/token`'s answer (times are ISO UTC). */
export interface BearerToken {
  readonly userId: string;
  readonly token: string;
  readonly status: string;
  readonly createTime: string;
  readonly expireTime: string;
}

export interface DownloadedFile {
  readonly bytes: Uint8Array;
  readonly contentType: string;
  /** From `content-disposition`, "" when absent. */
  readonly fileName: string;
}

/** A download handed over as the server sends it, for files too large to hold in memory. */
export interface DownloadStream {
  /** The bytes, still to be read (once). */
  readonly body: ReadableStream<Uint8Array>;
  /** From `content-length`; null when the server did not say. */
  readonly size: number | null;
  readonly contentType: string;
  /** From `content-disposition`, "" when absent. */
  readonly fileName: string;
}

interface Exchange {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path under the base URL, or an absolute URL (downloads). */
  readonly target: string;
  readonly query: Record<string, string>;
  readonly body?: RequestBody;
  readonly contentType?: string;
  /** Signed (key mode) or with the session's cookie and CSRF token (session mode); false: bare. */
  readonly signed: boolean;
  readonly idempotent: boolean;
  readonly signal: AbortSignal | undefined;
  /** Overrides the client's retry count (sign-in: a person waits for the answer). */
  readonly retries?: number;
  /**
   * Key mode: `Authorization: Bearer <this>` instead of a signature (the inference routes take
   * bearer tokens, never bce-auth-v1). Session mode ignores it: the session authenticates.
   */
  readonly bearer?: string;
}

type ApiErrorInit = ConstructorParameters<typeof SailfinApiError>[0];
type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ApiErrorInit; readonly failure: Failure; readonly retryAfter?: number };

export class Transport {
  readonly baseUrl: string;
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    if (options.session !== undefined) {
      if ((options as { accessKey?: unknown }).accessKey !== undefined) throw new Error("pass either session or accessKey/secretKey, not both");
      // Same-origin ("" or a path) or absolute; an absolute one must parse.
      if (isAbsolute(options.baseUrl)) new URL(options.baseUrl);
      else if (options.baseUrl !== "" && !options.baseUrl.startsWith("/")) throw new Error(`baseUrl must be absolute, "" or a path, got ${options.baseUrl}`);
    } else {
      if (!options.accessKey || !options.secretKey) throw new Error("accessKey and secretKey are required (or a session)");
      new URL(options.baseUrl); // fails early on a malformed base URL
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#options = options;
  }

  /** True for a session-mode transport (cookie + CSRF token instead of signatures). */
  get isSession(): boolean {
    return this.#options.session !== undefined;
  }

  /**
   * `POST /sailfin/v1/session`: trades the pair for a session. `cookie` is the session cookie's
   * value where the runtime shows `Set-Cookie` (Node); browsers hide it and keep it themselves.
   * Not retried: a person is waiting, and failures count towards the server's limit.
   */
  signIn(body: SignInBody, options: CallOptions = {}): Promise<{ session: ConsoleSession; cookie: string | undefined }> {
    return this.#exchange({
      method: "POST", target: SESSION_PATH, query: {}, body: JSON.stringify(body), contentType: "application/json",
      signed: false, idempotent: false, signal: options.signal, retries: 0,
    }, async (response) => {
      const outcome = await readPlain<ConsoleSession>(response);
      return outcome.ok ? { ok: true, value: { session: outcome.value, cookie: sessionCookieOf(response) } } : outcome;
    });
  }

  /** `GET /sailfin/v1/session`: the session as the server sees it now (401 NotSignedIn when gone). */
  currentSession(options: CallOptions = {}): Promise<ConsoleSession> {
    return this.#exchange({ method: "GET", target: SESSION_PATH, query: {}, signed: true, idempotent: true, signal: options.signal }, readPlain<ConsoleSession>);
  }

  /** `DELETE /sailfin/v1/session`: ends the session; the server clears the cookie. */
  async signOut(options: CallOptions = {}): Promise<void> {
    await this.#exchange({ method: "DELETE", target: SESSION_PATH, query: {}, signed: true, idempotent: true, signal: options.signal }, readPlain<undefined>);
  }

  /** A V2 action: `POST /v2/<resource>?Action=<action>`; resolves to `result` (undefined when absent). */
  v2<T>(resource: string, action: string, body: unknown = {}, options: RawCallOptions = {}): Promise<T> {
    return this.#exchange({
      method: "POST", target: `/v2/${resource}`, query: { Action: action }, body: JSON.stringify(body ?? {}),
      contentType: "application/json", signed: true, idempotent: options.idempotent ?? isIdempotentAction(action), signal: options.signal,
    }, (response) => readEnvelope<T>(response, "v2"));
  }

  /** A V1 route (`POST /wenxinworkshop/…`); resolves to `result`. V1 errors arrive as HTTP 200 with `error_code`. */
  v1<T>(path: string, body: unknown = {}, options: RawCallOptions = {}): Promise<T> {
    const [route = "", search] = path.split("?", 2);
    // A query in the path is signed like any other (Python sends `?Action=` on V1 routes).
    const query = search === undefined ? {} : Object.fromEntries(new URLSearchParams(search));
    return this.#exchange({
      method: "POST", target: route.startsWith("/") ? route : `/${route}`, query, body: JSON.stringify(body ?? {}),
      contentType: "application/json", signed: true, idempotent: options.idempotent ?? false, signal: options.signal,
    }, (response) => readEnvelope<T>(response, "v1"));
  }

  /**
   * `GET /v1/BCE-BEARER/token?expireInSeconds=N` (signed): a bearer token for the inference
   * routes. Raw JSON, no envelope (reference §15.4). Key mode only: a session needs none.
   */
  bearerToken(expireInSeconds: number, options: CallOptions = {}): Promise<BearerToken> {
    if (this.isSession) throw new Error("bearer tokens are for key clients: a session client calls the inference routes with its session");
    return this.#exchange({
      method: "GET", target: BEARER_TOKEN_PATH, query: { expireInSeconds: String(expireInSeconds) },
      signed: true, idempotent: true, signal: options.signal,
    }, readPlain<BearerToken>);
  }

  /**
   * An OpenAI-shaped inference call (`POST /v2/chat/completions`): with the bearer token in key
   * mode, the session's cookie and CSRF token in session mode. Errors arrive as OpenAI's
   * `{error: {code, message, type}}` and throw SailfinApiError. A create: retried only when the
   * server provably did not take it (429, 503, a refused connection).
   */
  inference<T>(path: string, body: unknown, bearer: string | undefined, options: CallOptions = {}): Promise<T> {
    return this.#exchange({
      method: "POST", target: path, query: {}, body: JSON.stringify(body), contentType: "application/json",
      signed: this.isSession, idempotent: false, signal: options.signal, ...(bearer === undefined ? {} : { bearer }),
    }, readInference<T>);
  }

  /** As `inference`, resolving once the server has answered 200, with the event stream unread. */
  inferenceStream(path: string, body: unknown, bearer: string | undefined, options: CallOptions = {}): Promise<ReadableStream<Uint8Array>> {
    return this.#exchange({
      method: "POST", target: path, query: {}, body: JSON.stringify(body), contentType: "application/json",
      signed: this.isSession, idempotent: false, signal: options.signal, ...(bearer === undefined ? {} : { bearer }),
    }, async (response): Promise<Outcome<ReadableStream<Uint8Array>>> => {
      if (response.status !== 200) return readInference<never>(response);
      return { ok: true, value: response.body ?? new Blob([await response.arrayBuffer()]).stream() };
    });
  }

  /**
   * `PUT /sailfin/v1/objects/<bucket>/<path>`. In-memory bodies are checked against the server's
   * sha256 (a mismatch throws `ChecksumMismatch`); the same bytes to the same path converge, so
   * uploads retry like reads.
   */
  async upload(bucket: string, objectPath: string, body: UploadBody, options: CallOptions = {}): Promise<UploadObjectResult> {
    const result = await this.#exchange({
      method: "PUT", target: objectRequestPath(bucket, objectPath), query: {}, body: requestBody(body),
      contentType: "application/octet-stream", signed: true, idempotent: true, signal: options.signal,
    }, (response) => readEnvelope<UploadObjectResult>(response, "v2"));
    const bytes = await bytesOf(body);
    if (bytes !== undefined) {
      const expected = await sha256Hex(bytes);
      if (expected !== result.sha256) {
        throw new SailfinApiError({
          code: "ChecksumMismatch", httpStatus: 200, requestId: "",
          message: `the server stored ${result.uri} with sha256 ${result.sha256}, but the bytes sent hash to ${expected}`,
        });
      }
    }
    return result;
  }

  /** An unsigned GET of a link the server signed itself (an evaluation export's `downloadUrl`). */
  download(url: string, options: CallOptions = {}): Promise<DownloadedFile> {
    return this.#exchange({ method: "GET", target: url, query: {}, signed: false, idempotent: true, signal: options.signal }, readFile);
  }

  /**
   * As `download`, resolving once the server has answered, with the body unread. Retried like
   * `download` until then; a failure while the body is read is the reader's.
   */
  downloadStream(url: string, options: CallOptions = {}): Promise<DownloadStream> {
    return this.#exchange({ method: "GET", target: url, query: {}, signed: false, idempotent: true, signal: options.signal }, readStream);
  }

  async #exchange<T>(exchange: Exchange, read: (response: FetchResponse) => Promise<Outcome<T>>): Promise<T> {
    const retries = Math.max(0, exchange.retries ?? this.#options.retries ?? 3);
    const replayable = !isStream(exchange.body);
    const backoff = { baseDelayMs: this.#options.retryBaseDelayMs ?? 200, maxDelayMs: this.#options.retryMaxDelayMs ?? 5000 };
    for (let attempt = 0; ; attempt++) {
      const limit = attemptSignal(exchange.signal, this.#options.timeoutMs);
      let outcome: Outcome<T> | { readonly ok: "network"; readonly error: unknown };
      try {
        outcome = await read(await this.#send(exchange, limit.signal));
      } catch (error) {
        if (exchange.signal?.aborted) throw exchange.signal.reason ?? error;
        outcome = { ok: "network", error: limit.timedOut() ? new Error(`timed out after ${this.#options.timeoutMs} ms`, { cause: error }) : error };
      } finally {
        limit.done();
      }
      if (outcome.ok === true) return outcome.value;
      const failure: Failure = outcome.ok === "network" ? { kind: "network", error: outcome.error } : outcome.failure;
      if (attempt < retries && replayable && shouldRetry(failure, exchange.idempotent)) {
        await sleep(backoffDelay(attempt, backoff, outcome.ok === false ? outcome.retryAfter : undefined), exchange.signal);
        continue;
      }
      if (outcome.ok === "network") {
        throw new SailfinNetworkError(`cannot reach ${this.baseUrl} (${describeCause(outcome.error)})`, { cause: outcome.error, attempts: attempt + 1 });
      }
      throw new SailfinApiError({ ...outcome.error, attempts: attempt + 1 });
    }
  }

  async #send(exchange: Exchange, signal: AbortSignal | undefined): Promise<FetchResponse> {
    const target = isAbsolute(exchange.target) ? exchange.target : this.baseUrl + exchange.target;
    const headers: Record<string, string> = { ...(this.#options.headers ?? {}) };
    if (exchange.contentType !== undefined) headers["content-type"] = exchange.contentType;
    const session = this.#options.session;
    if (session !== undefined) {
      // Only to our own server: an absolute target (a download link) carries its own signature.
      if (exchange.signed && !isAbsolute(exchange.target)) {
        if (exchange.method !== "GET") headers[CSRF_HEADER] = session.csrfToken;
        if (session.cookie !== undefined) headers.cookie = `${SESSION_COOKIE}=${session.cookie}`;
      }
      const query = new URLSearchParams(exchange.query).toString();
      const url = query === "" ? target : `${target}${target.includes("?") ? "&" : "?"}${query}`;
      return this.#fetch(url, exchange, headers, signal);
    }
    const url = new URL(target);
    for (const [key, value] of Object.entries(exchange.query)) url.searchParams.set(key, value);
    if (exchange.bearer !== undefined) {
      headers.authorization = `Bearer ${exchange.bearer}`;
    } else if (exchange.signed) {
      const timestamp = bceTimestamp();
      headers["x-bce-date"] = timestamp;
      // `host` is signed but not set: fetch sends it (browsers forbid setting it) as url.host.
      headers.authorization = await signRequestAsync({
        accessKey: this.#options.accessKey, secretKey: this.#options.secretKey, method: exchange.method,
        path: url.pathname, query: exchange.query, headers: { ...headers, host: url.host }, timestamp,
        expirationSeconds: this.#options.expirationSeconds ?? 1800,
      });
    }
    return this.#fetch(url.toString(), exchange, headers, signal);
  }

  #fetch(url: string, exchange: Exchange, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<FetchResponse> {
    const doFetch: FetchLike = this.#options.fetch ?? ((input, init) => globalThis.fetch(input, init as RequestInit));
    return doFetch(url, {
      method: exchange.method, headers,
      ...(exchange.body === undefined ? {} : { body: exchange.body }),
      ...(signal === undefined ? {} : { signal }),
      ...(isStream(exchange.body) ? { duplex: "half" as const } : {}),
      ...(this.#options.session === undefined ? {} : { credentials: "same-origin" as const }),
    });
  }
}

/** Reads a V1 or V2 envelope: the `result`, or the error with what retry.ts needs to judge it. */
async function readEnvelope<T>(response: FetchResponse, dialect: "v1" | "v2"): Promise<Outcome<T>> {
  const text = await response.text();
  const headerId = response.headers.get("x-bce-request-id") ?? "";
  const json = parseObject(text);
  const status = response.status;
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
  const fail = (error: ApiErrorInit, failure: Failure): Outcome<T> => ({ ok: false, error, failure, ...(retryAfter === undefined ? {} : { retryAfter }) });
  if (json !== undefined && typeof json.code === "string" && (status >= 400 || json.result === undefined)) {
    // V2 errors, and gateway (authentication) errors on either dialect's routes.
    const requestId = typeof json.requestId === "string" ? json.requestId : headerId;
    const message = typeof json.message === "string" ? json.message : json.code;
    return fail({ code: json.code, message, httpStatus: status, requestId }, { kind: "response", status, code: json.code });
  }
  if (dialect === "v1" && json !== undefined && json.error_code !== undefined) {
    const v1Code = Number(json.error_code);
    const message = typeof json.error_msg === "string" ? json.error_msg : String(json.error_code);
    const requestId = json.log_id === undefined ? headerId : String(json.log_id);
    return fail({ code: String(json.error_code), message, httpStatus: status, requestId, v1Code }, { kind: "response", status, v1Code });
  }
  if (status >= 400 || json === undefined) {
    const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    return fail(
      { code: "InvalidResponse", message: `HTTP ${status} without a Sailfin envelope: ${snippet}`, httpStatus: status, requestId: headerId },
      { kind: "response", status },
    );
  }
  return { ok: true, value: json.result as T };
}

/**
 * An inference answer: the OpenAI-shaped body itself, or its `{error: {code, message, type}}`
 * (a console-style `{code, message}` envelope, as an authentication failure may be, is read too).
 */
async function readInference<T>(response: FetchResponse): Promise<Outcome<T>> {
  const status = response.status;
  const text = await response.text();
  const json = parseObject(text);
  const error = json?.error;
  if (error !== null && typeof error === "object" && !Array.isArray(error)) {
    const fields = error as Record<string, unknown>;
    const code = typeof fields.code === "string" ? fields.code : typeof fields.type === "string" ? fields.type : "InferenceError";
    const message = typeof fields.message === "string" ? fields.message : code;
    const requestId = typeof json?.id === "string" ? json.id : response.headers.get("x-bce-request-id") ?? "";
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
    return {
      ok: false, error: { code, message, httpStatus: status, requestId }, failure: { kind: "response", status, code },
      ...(retryAfter === undefined ? {} : { retryAfter }),
    };
  }
  if (status >= 400 || json === undefined) {
    // The body is read already: the envelope reader gets it again from this view.
    return readEnvelope<T>({ status, headers: response.headers, text: async () => text, arrayBuffer: async () => new TextEncoder().encode(text).buffer }, "v2");
  }
  return { ok: true, value: json as T };
}

/** A plain JSON answer (the session routes): the body itself, nothing for a 204; errors as V2's. */
async function readPlain<T>(response: FetchResponse): Promise<Outcome<T>> {
  if (response.status >= 400) return readEnvelope<T>(response, "v2");
  if (response.status === 204) return { ok: true, value: undefined as T };
  const text = await response.text();
  const json = parseObject(text);
  if (json === undefined) {
    const status = response.status;
    return { ok: false, error: { code: "InvalidResponse", message: `HTTP ${status} without a JSON body`, httpStatus: status, requestId: "" }, failure: { kind: "response", status } };
  }
  return { ok: true, value: json as T };
}

/** The `sailfin_session` value of a readable `Set-Cookie` (Node's fetch shows it; browsers never do). */
function sessionCookieOf(response: FetchResponse): string | undefined {
  const header = response.headers.get("set-cookie");
  if (header === null) return undefined;
  const match = new RegExp(`(?:^|[,;]\\s*)${SESSION_COOKIE}=([^;,\\s]+)`).exec(header);
  return match?.[1];
}

function isAbsolute(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url);
}

async function readFile(response: FetchResponse): Promise<Outcome<DownloadedFile>> {
  if (response.status !== 200) return notTheFile(response);
  return { ok: true, value: { bytes: new Uint8Array(await response.arrayBuffer()), ...fileHeaders(response) } };
}

async function readStream(response: FetchResponse): Promise<Outcome<DownloadStream>> {
  if (response.status !== 200) return notTheFile(response);
  const length = response.headers.get("content-length");
  const body = response.body ?? new Blob([await response.arrayBuffer()]).stream();
  return { ok: true, value: { body, size: length === null ? null : Number(length), ...fileHeaders(response) } };
}

function fileHeaders(response: FetchResponse): { contentType: string; fileName: string } {
  const disposition = response.headers.get("content-disposition") ?? "";
  return {
    contentType: response.headers.get("content-type") ?? "application/octet-stream",
    fileName: /filename="([^"]*)"/.exec(disposition)?.[1] ?? "",
  };
}

/** A download answered with something other than the file: the server's error, or InvalidResponse. */
async function notTheFile(response: FetchResponse): Promise<Outcome<never>> {
  const outcome = await readEnvelope<unknown>(response, "v2");
  if (!outcome.ok) return outcome;
  const status = response.status;
  return { ok: false, error: { code: "InvalidResponse", message: `HTTP ${status} instead of the file`, httpStatus: status, requestId: "" }, failure: { kind: "response", status } };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A view over a SharedArrayBuffer (or a Node Buffer's pool typed as such) is copied; other bodies pass as they are. */
function requestBody(body: UploadBody): RequestBody {
  if (body instanceof Uint8Array) return body.buffer instanceof ArrayBuffer ? (body as Uint8Array<ArrayBuffer>) : new Uint8Array(body);
  return body;
}

function isStream(body: RequestBody | undefined): body is ReadableStream<Uint8Array> {
  return typeof ReadableStream !== "undefined" && body instanceof ReadableStream;
}

/** The bytes of an in-memory body (undefined for a stream, which cannot be read twice). */
async function bytesOf(body: UploadBody): Promise<Uint8Array | ArrayBuffer | undefined> {
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) return body;
  if (typeof Blob !== "undefined" && body instanceof Blob) return body.arrayBuffer();
  return undefined;
}

/** The attempt's signal: the caller's, plus the per-attempt time limit. */
function attemptSignal(user: AbortSignal | undefined, timeoutMs: number | undefined) {
  if (timeoutMs === undefined) return { signal: user, timedOut: () => false, done: () => {} };
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(user?.reason);
  if (user?.aborted) controller.abort(user.reason);
  user?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    done: () => {
      clearTimeout(timer);
      user?.removeEventListener("abort", onAbort);
    },
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === "string") return cause.code;
  return error instanceof Error ? error.message : String(error);
}
