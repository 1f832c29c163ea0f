import { SailfinApiError } from "../errors.js";
import { sseData } from "../sse.js";
import type { BearerToken, CallOptions, Transport } from "../transport.js";

/**
 * V2 chat (`POST /v2/chat/completions`, OpenAI's shape; reference §15.3) against a deployed
 * service: `model` is the service's endpoint (its urlSuffix) or its `svco-` id. A key client
 * trades its keys for a bearer token first (`GET /v1/BCE-BEARER/token`, signed), keeps it until a
 * minute before it expires, and fetches a fresh one once when the server refuses it (401). A
 * session client (the console) is authenticated by its session and needs no token.
 */

/** How long the tokens this client asks for live; refreshed this long before they expire. */
const TOKEN_SECONDS = 3600;
const REFRESH_AHEAD_MS = 60_000;
const CHAT_PATH = "/v2/chat/completions";

export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
}

/** The request body, as the wire names it (snake_case). Unknown keys pass through. */
export interface ChatCompletionInput {
  /** The service's endpoint (urlSuffix) or `svco-` id. */
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly temperature?: number;
  readonly top_p?: number;
  readonly max_completion_tokens?: number;
  readonly max_tokens?: number;
  readonly seed?: number;
  readonly stop?: readonly string[];
  readonly penalty_score?: number;
  readonly user?: string;
  readonly [extra: string]: unknown;
}

export interface ChatUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export interface ChatCompletion {
  readonly id: string;
  readonly object: string;
  readonly created: number;
  readonly model: string;
  readonly choices: readonly { readonly index: number; readonly message: ChatMessage; readonly finish_reason: string | null }[];
  readonly usage: ChatUsage;
}

/** What a stream yields: text as it is generated, then one `done` with the finish reason and usage. */
export type ChatStreamEvent =
  | { readonly type: "delta"; readonly content: string }
  | { readonly type: "done"; readonly id: string; readonly finishReason: string | null; readonly usage: ChatUsage | null };

interface ChatChunk {
  readonly id?: string;
  readonly choices?: readonly { readonly delta?: { readonly content?: string | null }; readonly finish_reason?: string | null }[];
  readonly usage?: ChatUsage | null;
  readonly error?: { readonly code?: string; readonly type?: string; readonly message?: string };
}

export class Chat {
  readonly #t: Transport;
  #token: { readonly value: string; readonly refreshAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * One whole answer.
   *
   * @example
   * const answer = await client.chat.completions({ model: "my-endpoint", messages: [{ role: "user", content: "Hi" }] });
   * console.log(answer.choices[0]?.message.content, answer.usage.completion_tokens);
   */
  completions(body: ChatCompletionInput, options: CallOptions = {}): Promise<ChatCompletion> {
    return this.#withToken((bearer) => this.#t.inference<ChatCompletion>(CHAT_PATH, { ...body, stream: false }, bearer, options), options);
  }

  /**
   * The answer as it is generated. Leaving the loop early cancels the request (the engine frees
   * its batch slot).
   *
   * @example
   * for await (const event of client.chat.stream({ model: "my-endpoint", messages })) {
   *   if (event.type === "delta") process.stdout.write(event.content);
   *   else console.log(`\n${event.usage?.completion_tokens} tokens`);
   * }
   */
  async *stream(body: ChatCompletionInput, options: CallOptions = {}): AsyncGenerator<ChatStreamEvent, void, undefined> {
    const request = { ...body, stream: true, stream_options: { include_usage: true } };
    const events = await this.#withToken((bearer) => this.#t.inferenceStream(CHAT_PATH, request, bearer, options), options);
    let id = "";
    let finishReason: string | null = null;
    let usage: ChatUsage | null = null;
    for await (const data of sseData(events)) {
      let chunk: ChatChunk;
      try {
        chunk = JSON.parse(data) as ChatChunk;
      } catch {
        throw new SailfinApiError({ code: "InvalidResponse", message: `a stream event is not JSON: ${data.slice(0, 200)}`, httpStatus: 200, requestId: id });
      }
      if (chunk.error !== undefined) {
        const code = chunk.error.code ?? chunk.error.type ?? "InferenceError";
        throw new SailfinApiError({ code, message: chunk.error.message ?? code, httpStatus: 200, requestId: chunk.id ?? id });
      }
      if (typeof chunk.id === "string") id = chunk.id;
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices ?? []) {
        const content = choice.delta?.content;
        if (typeof content === "string" && content !== "") yield { type: "delta", content };
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    }
    yield { type: "done", id, finishReason, usage };
  }

  /** Runs `call` with a bearer token (key mode) or none (session); a refused token is replaced once. */
  async #withToken<T>(call: (bearer: string | undefined) => Promise<T>, options: CallOptions): Promise<T> {
    if (this.#t.isSession) return call(undefined);
    const bearer = await this.#bearer(options);
    try {
      return await call(bearer);
    } catch (error) {
      if (!(error instanceof SailfinApiError) || error.httpStatus !== 401) throw error;
      // Revoked, or the server restarted with other tokens: one fresh token, then give up.
      if (this.#token?.value === bearer) this.#token = undefined;
      return call(await this.#bearer(options));
    }
  }

  /** The cached token, or one fresh token shared by every call that asks while it is fetched. */
  #bearer(options: CallOptions): Promise<string> {
    const cached = this.#token;
    if (cached !== undefined && Date.now() < cached.refreshAt) return Promise.resolve(cached.value);
    this.#pending ??= this.#t.bearerToken(TOKEN_SECONDS, options).then(
      (token: BearerToken) => {
        const expires = Date.parse(token.expireTime);
        const refreshAt = Number.isNaN(expires) ? Date.now() + TOKEN_SECONDS * 1000 - REFRESH_AHEAD_MS : expires - REFRESH_AHEAD_MS;
        this.#token = { value: token.token, refreshAt };
        return token.token;
      },
    ).finally(() => { this.#pending = undefined; });
    return this.#pending;
  }
}
