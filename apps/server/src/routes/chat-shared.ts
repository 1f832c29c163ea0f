import type { FastifyReply, FastifyRequest } from "fastify";
import { SailfinError } from "@sailfin/contract";
import { newChatId } from "../render.js";
import { startChat, type ChatParams, type EngineDelta, type EngineResources, type EngineUsage, type FindChatTarget } from "@sailfin/engine";

/** A chat call whose engine has answered: the first delta is in hand, so no byte was sent yet. */
interface OpenedChat {
  readonly promptTokens: number;
  readonly first: IteratorResult<EngineDelta, EngineUsage>;
  readonly rest: AsyncGenerator<EngineDelta, EngineUsage>;
}

/**
 * Resolves `model`, starts the call and waits for the engine's first delta, so every refusal
 * (unknown model, not serving, engine down, prompt too long) still renders as a whole error
 * answer in the route's envelope. A caller that hangs up cancels the generation.
 */
export async function openChat(
  res: EngineResources, find: FindChatTarget, model: string, params: ChatParams, reply: FastifyReply, modelField: string | undefined,
): Promise<OpenedChat> {
  const target = await find(res, model);
  if (target === null) {
    // V1 clients compare error_msg with the platform's exact text: only V2 gets the detail.
    throw new SailfinError("ModelNotFound", modelField === undefined ? {} : { field: modelField, detail: `no service answers to ${model}` });
  }
  const controller = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  const call = await startChat(res, target, params, controller.signal);
  const first = await call.deltas.next();
  return { promptTokens: call.promptTokens, first, rest: call.deltas };
}

/** Every delta of an opened call, the first included; the return value is the usage. */
export async function* deltasOf(chat: OpenedChat): AsyncGenerator<EngineDelta, EngineUsage> {
  let step = chat.first;
  while (step.done !== true) {
    yield step.value;
    step = await chat.rest.next();
  }
  return step.value;
}

/** Starts a `text/event-stream` answer on the raw socket (Fastify steps aside); `headers` go with it. */
export function beginEventStream(reply: FastifyReply, requestId: string, headers: Readonly<Record<string, string>> = {}): void {
  reply.hijack();
  // The media type must not contain "json": Python and JS read a JSON type as an error body.
  reply.raw.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-bce-request-id": requestId, ...headers });
}

/** One `data:` event; false when the caller has gone. */
export function writeEvent(reply: FastifyReply, data: unknown): boolean {
  if (reply.raw.destroyed) return false;
  reply.raw.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  return true;
}

interface OpenAiAnswerOptions {
  /** The `model` the caller named, echoed in every answer and chunk. */
  readonly model: string;
  readonly stream: boolean;
  /** `stream_options.include_usage`: a last chunk with the usage and no choices. */
  readonly includeUsage: boolean;
  /** Keys a non-streamed choice carries beyond OpenAI's (V2's Qianfan `flag`, `ban_round`…). */
  readonly choiceExtras?: Readonly<Record<string, unknown>>;
  /** Response headers beyond `x-bce-request-id` (OpenAI's `x-request-id`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Answers an opened chat call in OpenAI's chat shapes (reference §15.3), for `/v2/chat/completions`
 * and `/v1/chat/completions`: one `chat.completion`, or `data: {chunk}` events ending in
 * `data: [DONE]`, never an `event:` line (Go's SDK drops any line containing "event").
 */
export async function answerOpenAiChat(request: FastifyRequest, reply: FastifyReply, chat: OpenedChat, options: OpenAiAnswerOptions): Promise<unknown> {
  const id = newChatId();
  const created = Math.floor(Date.now() / 1000);
  const usageOf = (u: { promptTokens: number; completionTokens: number }) =>
    ({ prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens });

  if (!options.stream) {
    let content = "";
    let finish: string = "stop";
    const deltas = deltasOf(chat);
    let step = await deltas.next();
    for (; step.done !== true; step = await deltas.next()) {
      content += step.value.text;
      if (step.value.finishReason !== null) finish = step.value.finishReason;
    }
    reply.header("x-bce-request-id", request.id);
    for (const [name, value] of Object.entries(options.headers ?? {})) reply.header(name, value);
    return {
      id, object: "chat.completion", created, model: options.model,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: finish, ...options.choiceExtras }],
      usage: usageOf(step.value),
    };
  }

  beginEventStream(reply, request.id, options.headers);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    ({ id, object: "chat.completion.chunk", created, model: options.model, choices, ...extra });
  writeEvent(reply, chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]));
  const deltas = deltasOf(chat);
  try {
    let finish: string = "stop";
    let step = await deltas.next();
    for (; step.done !== true; step = await deltas.next()) {
      if (step.value.finishReason !== null) finish = step.value.finishReason;
      if (step.value.text !== "" && !writeEvent(reply, chunk([{ index: 0, delta: { content: step.value.text }, finish_reason: null }]))) return reply;
    }
    writeEvent(reply, chunk([{ index: 0, delta: {}, finish_reason: finish }]));
    if (options.includeUsage) writeEvent(reply, chunk([], { usage: usageOf(step.value) }));
    writeEvent(reply, "[DONE]");
  } catch (error) {
    // Past the headers an error can only be an event: the OpenAI SDKs raise on a chunk with `error`.
    request.log.warn({ err: error }, "chat stream broke off");
    writeEvent(reply, { error: { code: "service_unavailable", message: "the service's engine broke off the answer", type: "server_error", param: null }, id });
  } finally {
    reply.raw.end();
  }
  return reply;
}
