import type { FastifyInstance } from "fastify";
import { V1ChatBody, parseWith } from "@sailfin/contract";
import { v1ChatRequest, type EngineResources, type FindChatTarget } from "@sailfin/engine";
import { newChatId } from "../../render.js";
import { beginEventStream, deltasOf, openChat, writeEvent } from "../chat-shared.js";

/** The service URL prefix every SDK builds V1 inference calls on (`QIANFAN_MODEL_API_PREFIX`). */
const V1_CHAT_PREFIX = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat";

/**
 * `POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}` (reference §15.2): a deployed
 * service's V1 chat, `{endpoint}` its urlSuffix. bce-auth-v1 or `?access_token=`. Errors are HTTP
 * 200 `{error_code, error_msg}` (render.ts sendV1ChatError); a stream is `data: {chunk}` events,
 * the last with `is_end: true` and the totals, and no `[DONE]`.
 */
export function registerV1Chat(app: FastifyInstance, res: EngineResources, find: FindChatTarget): void {
  const access = { dialect: "v1chat", iam: "service:invoke" } as const;
  app.post(`${V1_CHAT_PREFIX}/:endpoint`, { config: { access } }, async (request, reply) => {
    const { endpoint } = request.params as { endpoint: string };
    const body = parseWith(V1ChatBody, request.body ?? {});
    const call = v1ChatRequest(body);
    const chat = await openChat(res, find, endpoint, call.params, reply, undefined);
    const id = newChatId();
    const created = Math.floor(Date.now() / 1000);
    const base = { id, object: "chat.completion", created };
    const usageOf = (u: { promptTokens: number; completionTokens: number }) =>
      ({ prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens });
    const finishWord = (reason: string | null) => (reason === "length" ? "length" : "normal");

    if (!call.stream) {
      let result = "";
      let finish: string | null = null;
      const deltas = deltasOf(chat);
      let step = await deltas.next();
      for (; step.done !== true; step = await deltas.next()) {
        result += step.value.text;
        if (step.value.finishReason !== null) finish = step.value.finishReason;
      }
      reply.header("x-bce-request-id", request.id);
      return {
        ...base, result, is_truncated: finish === "length", need_clear_history: false, finish_reason: finishWord(finish), flag: 0, ban_round: -1,
        usage: usageOf(step.value),
      };
    }

    beginEventStream(reply, request.id);
    let sentence = 0;
    let generated = 0;
    const deltas = deltasOf(chat);
    try {
      let finish: string | null = null;
      let step = await deltas.next();
      for (; step.done !== true; step = await deltas.next()) {
        if (step.value.finishReason !== null) finish = step.value.finishReason;
        if (step.value.text === "") continue;
        generated++;
        const sent = writeEvent(reply, {
          ...base, sentence_id: sentence++, is_end: false, is_truncated: false, result: step.value.text, need_clear_history: false,
          usage: usageOf({ promptTokens: chat.promptTokens, completionTokens: generated }),
        });
        if (!sent) return reply;
      }
      writeEvent(reply, {
        ...base, sentence_id: sentence, is_end: true, is_truncated: finish === "length", result: "", need_clear_history: false,
        finish_reason: finishWord(finish), usage: usageOf(step.value),
      });
    } catch (error) {
      request.log.warn({ err: error }, "chat stream broke off");
      writeEvent(reply, { error_code: 336100, error_msg: "the service's engine broke off the answer", id });
    } finally {
      reply.raw.end();
    }
    return reply;
  });
}
