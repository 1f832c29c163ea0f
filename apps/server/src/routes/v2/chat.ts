import type { FastifyInstance } from "fastify";
import { ChatCompletionsBody, parseWith } from "@sailfin/contract";
import { v2ChatRequest, type EngineResources, type FindChatTarget } from "@sailfin/engine";
import { answerOpenAiChat, openChat } from "../chat-shared.js";

/** The Qianfan keys of a V2 chat choice (reference §15.3), beyond OpenAI's. */
const QIANFAN_CHOICE = { flag: 0, ban_round: -1, need_clear_history: false } as const;

/**
 * `POST /v2/chat/completions` (reference §15.3): OpenAI's chat shape, `model` = a service's
 * urlSuffix or `svco-` id. Callers: the OpenAI SDKs (`base_url = <server>/v2`), Qianfan's V2
 * clients, and the console's playground (session cookie). Errors are OpenAI's envelope (render.ts
 * sendOpenAiError); answers and streams are chat-shared.ts answerOpenAiChat's, with Qianfan's
 * choice keys.
 */
export function registerV2Chat(app: FastifyInstance, res: EngineResources, find: FindChatTarget): void {
  const access = { dialect: "openai", iam: "service:invoke", bearer: true } as const;
  app.post("/v2/chat/completions", { config: { access } }, async (request, reply) => {
    const body = parseWith(ChatCompletionsBody, request.body ?? {});
    const call = v2ChatRequest(body);
    const chat = await openChat(res, find, body.model, call.params, reply, "model");
    return answerOpenAiChat(request, reply, chat, { model: body.model, stream: call.stream, includeUsage: call.includeUsage, choiceExtras: QIANFAN_CHOICE });
  });
}
