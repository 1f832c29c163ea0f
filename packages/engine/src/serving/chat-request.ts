import type { ChatCompletionsBody, V1ChatBody } from "@sailfin/contract";
import type { ChatParams } from "./chat.js";

/**
 * The two chat dialects' bodies (already validated by the contract's schemas) as one chat call:
 * 0 temperature is greedy, Qianfan's `penalty_score` is the repetition penalty, a V1 `system`
 * field is the first message, OpenAI content parts are joined text.
 */
interface ChatRequest {
  /** V2 `model`; V1 names the service in the path. */
  readonly params: ChatParams;
  readonly stream: boolean;
  /** OpenAI's `stream_options.include_usage`: a last chunk with the usage and no choices. */
  readonly includeUsage: boolean;
}

type Sampling = Pick<ChatCompletionsBody, "temperature" | "top_p" | "penalty_score" | "seed" | "stop">;

function samplingOf(body: Sampling): Omit<ChatParams, "messages" | "maxTokens"> {
  const stop = body.stop === undefined || body.stop === null ? [] : typeof body.stop === "string" ? [body.stop] : [...body.stop];
  return {
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    repetitionPenalty: body.penalty_score ?? 1,
    stop: stop.filter((s) => s !== ""),
    ...(body.seed === undefined || body.seed === null ? {} : { seed: body.seed }),
  };
}

/** @example v2ChatRequest({ model: "my-svc", messages: [{ role: "user", content: "hi" }] }).params.maxTokens // null */
export function v2ChatRequest(body: ChatCompletionsBody): ChatRequest {
  const messages = body.messages.map((m) => ({ role: m.role, content: typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("") }));
  return {
    params: { messages, maxTokens: body.max_completion_tokens ?? body.max_tokens ?? null, ...samplingOf(body) },
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
  };
}

export function v1ChatRequest(body: V1ChatBody): ChatRequest {
  const system = body.system === undefined || body.system === null || body.system === "" ? [] : [{ role: "system", content: body.system }];
  return {
    params: { messages: [...system, ...body.messages], maxTokens: body.max_output_tokens ?? null, ...samplingOf(body) },
    stream: body.stream === true,
    includeUsage: false,
  };
}
