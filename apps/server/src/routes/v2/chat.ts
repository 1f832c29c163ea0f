import type { FastifyInstance } from "fastify";
import { ChatCompletionsBody, parseWith } from "@sailfin/contract";
import { v2ChatRequest, type EngineResources, type FindChatTarget } from "@sailfin/engine";
import { newChatId } from "../../render.js";
import { beginEventStream, deltasOf, openChat, writeEvent } from "../chat-shared.js";

/**
 * `POST /v2/chat/completions` (reference §15.3): OpenAI's chat shape, `model` = a service's
 * urlSuffix or `svco-` id. Callers: the OpenAI SDKs (`base_url = <server>/v2`), Qianfan's V2
 * clients, and the console's playground (session cookie). Errors are OpenAI's envelope (render.ts
 * sendOpenAiError); a stream is `data: {chunk}` events ending in `data: [DONE]`, never an `event:`
 * line (Go's SDK drops any line containing "event").
 */
export function registerV2Chat(app: FastifyInstance, res: EngineResources, find: FindChatTarget): void {
  const access = { dialect: "openai", iam: "service:invoke", bearer: true } as const;
  app.post("/v2/chat/completions", { config: { access } }, async (request, reply) => {
    const body = parseWith(ChatCompletionsBody, request.body ?? {});
    const call = v2ChatRequest(body);
    const chat = await openChat(res, find, body.model, call.params, reply, "model");
    const id = newChatId();
    const created = Math.floor(Date.now() / 1000);
    const usageOf = (u: { promptTokens: number; completionTokens: number }) =>
      ({ prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens });

    if (!call.stream) {
      let content = "";
      let finish: string = "stop";
      const deltas = deltasOf(chat);
      let step = await deltas.next();
      for (; step.done !== true; step = await deltas.next()) {
        content += step.value.text;
        if (step.value.finishReason !== null) finish = step.value.finishReason;
      }
      reply.header("x-bce-request-id", request.id);
      return {
        id, object: "chat.completion", created, model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: finish, flag: 0, ban_round: -1, need_clear_history: false }],
        usage: usageOf(step.value),
      };
    }

    beginEventStream(reply, request.id);
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      ({ id, object: "chat.completion.chunk", created, model: body.model, choices, ...extra });
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
      if (call.includeUsage) writeEvent(reply, chunk([], { usage: usageOf(step.value) }));
      writeEvent(reply, "[DONE]");
    } catch (error) {
      // Past the headers an error can only be an event: the OpenAI SDKs raise on a chunk with `error`.
      request.log.warn({ err: error }, "chat stream broke off");
      writeEvent(reply, { error: { code: "service_unavailable", message: "the service's engine broke off the answer", type: "server_error", param: null }, id });
    } finally {
      reply.raw.end();
    }
    return reply;
  });
}
