import { SailfinError } from "@sailfin/contract";

/**
 * The client of a serving engine's OpenAI-compatible `/v1/completions` (docs/architecture.md
 * "Serving"; Sailfin's runtime `serve` recipe and vLLM answer the same requests). Prompts go as
 * token ids: the server renders the chat template with the very tokenizer training used, so the
 * engine never guesses a template. Always streamed, so a caller's disconnect (the signal) stops
 * the generation at once, whether the caller itself streams or not.
 */

export interface EngineEndpoint { readonly url: string; readonly apiKey: string | null; readonly servedModelName: string }

export interface EngineCompletionRequest {
  readonly promptIds: readonly number[];
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed?: number;
  readonly stop: readonly string[];
  readonly stopTokenIds: readonly number[];
  readonly repetitionPenalty: number;
}

export interface EngineDelta { readonly text: string; readonly finishReason: "stop" | "length" | null }
export interface EngineUsage { readonly promptTokens: number; readonly completionTokens: number }

/** Longest SSE line accepted from an engine: a delta is a few tokens, so this only bounds a broken one. */
const MAX_LINE_CHARS = 1 << 20;

/**
 * Streams one completion; the generator's return value is the usage. Throws EngineUnavailable when
 * the engine cannot be reached or answers out of protocol, InvalidParameter (field `messages`, or
 * the one the engine names) when it refuses the request (a prompt too long for the model).
 *
 * @example
 * const it = streamCompletion(endpoint, { promptIds: [1, 2], maxTokens: 16, temperature: 0, topP: 1, stop: [], stopTokenIds: [2], repetitionPenalty: 1 }, signal);
 * for (let r = await it.next(); !r.done; r = await it.next()) process.stdout.write(r.value.text);
 */
export async function* streamCompletion(
  endpoint: EngineEndpoint,
  request: EngineCompletionRequest,
  signal: AbortSignal,
): AsyncGenerator<EngineDelta, EngineUsage> {
  const body = {
    model: endpoint.servedModelName,
    prompt: [...request.promptIds],
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    top_p: request.topP,
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    ...(request.stop.length === 0 ? {} : { stop: [...request.stop] }),
    stop_token_ids: [...request.stopTokenIds],
    repetition_penalty: request.repetitionPenalty,
    stream: true,
    stream_options: { include_usage: true },
  };
  let response: Response;
  try {
    response = await fetch(`${endpoint.url.replace(/\/$/, "")}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(endpoint.apiKey === null ? {} : { authorization: `Bearer ${endpoint.apiKey}` }) },
      body: JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw cancelled();
    throw new SailfinError("EngineUnavailable", { detail: `the engine cannot be reached: ${(error as Error).message}`, cause: error });
  }
  if (!response.ok) throw await refusal(response);
  if (response.body === null) throw new SailfinError("EngineUnavailable", { detail: "the engine answered with no body" });

  let usage: EngineUsage | null = null;
  let generated = 0;
  const decoder = new TextDecoder();
  let buffered = "";
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).replace(/\r$/, "");
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return usage ?? { promptTokens: request.promptIds.length, completionTokens: generated };
        const chunk = parseChunk(data);
        if (chunk.usage !== null) usage = chunk.usage;
        if (chunk.delta !== null) {
          generated++;
          yield chunk.delta;
        }
      }
      if (buffered.length > MAX_LINE_CHARS) throw new SailfinError("EngineUnavailable", { detail: "the engine sent an over-long stream line" });
    }
  } catch (error) {
    if (error instanceof SailfinError) throw error;
    if (signal.aborted) throw cancelled();
    throw new SailfinError("EngineUnavailable", { detail: `the engine's stream broke: ${(error as Error).message}`, cause: error });
  } finally {
    reader.releaseLock();
    // An early `return()` by the caller (it stopped reading) leaves the body open: close it.
    await response.body.cancel().catch(() => undefined);
  }
  throw new SailfinError("EngineUnavailable", { detail: "the engine's stream ended before [DONE]" });
}

/** The caller went away (its signal): a refusal, not a fault, whoever still listens. */
function cancelled(): SailfinError {
  return new SailfinError("EngineUnavailable", { detail: "the call was cancelled" });
}

function parseChunk(data: string): { delta: EngineDelta | null; usage: EngineUsage | null } {
  let chunk: { choices?: Array<{ text?: unknown; finish_reason?: unknown }>; usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null };
  try {
    chunk = JSON.parse(data) as typeof chunk;
  } catch {
    throw new SailfinError("EngineUnavailable", { detail: "the engine sent a stream chunk that is not JSON" });
  }
  const choice = chunk.choices?.[0];
  const u = chunk.usage;
  const usage = u !== undefined && u !== null && typeof u.prompt_tokens === "number" && typeof u.completion_tokens === "number"
    ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens }
    : null;
  if (choice === undefined) return { delta: null, usage };
  const finish = choice.finish_reason;
  const finishReason = finish === "length" ? "length" : finish === null || finish === undefined ? null : "stop";
  return { delta: { text: typeof choice.text === "string" ? choice.text : "", finishReason }, usage };
}

/** An engine's error answer as ours: its own refusal of the request is the caller's, anything else the engine's. */
async function refusal(response: Response): Promise<SailfinError> {
  const text = await response.text().catch(() => "");
  let error: { message?: unknown; param?: unknown } = {};
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
  } catch {
    // Not the OpenAI envelope: reported by status alone.
  }
  const message = typeof error.message === "string" ? error.message : `HTTP ${response.status}`;
  if (response.status === 400) {
    return new SailfinError("InvalidParameter", { field: error.param === "prompt" || typeof error.param !== "string" ? "messages" : error.param, detail: message });
  }
  return new SailfinError("EngineUnavailable", { detail: `the engine answered HTTP ${response.status}: ${message}` });
}
