import type { FastifyInstance } from "fastify";
import { OpenAiChatBody, parseWith } from "@sailfin/contract";
import { openAiChatTarget, v2ChatRequest, type EngineResources, type FindChatTarget, type FineTunedModels, type OnDemandPolicy } from "@sailfin/engine";
import { answerOpenAiChat, openChat } from "../chat-shared.js";

interface OpenAiUseOptions {
  /** `ft:` names (the jobs' resolveFineTunedModel and listFineTunedModels). */
  readonly fineTuned: FineTunedModels;
  /** What a service's urlSuffix or `svco-` id names (as `/v2/chat/completions`). */
  readonly findService: FindChatTarget;
  /** On-demand serving: idle stop and deploy wait (SAILFIN_OPENAI_IDLE_STOP_SEC, SAILFIN_OPENAI_DEPLOY_WAIT_SEC). */
  readonly policy: OnDemandPolicy;
}

/**
 * `POST /v1/chat/completions` (OpenAI's dialect, docs/openai.md "Calling fine-tuned models"):
 * `/v2/chat/completions`'s shapes without Qianfan's keys; `model` an `ft:` model (or a checkpoint
 * of one) or a base model's name, each served on demand, or a service's urlSuffix or `svco-` id.
 * An unknown model is 404 `model_not_found`. A model whose engine is still coming up when the deploy wait runs out is 503 `server_error`
 * with retry-after (the SDKs retry it). Bearer API keys, `Bearer AK:SK`, or a signature.
 */
export function registerOpenAiChat(app: FastifyInstance, res: EngineResources, options: OpenAiUseOptions): void {
  const access = { dialect: "openai", iam: "service:invoke", bearer: true } as const;
  app.post("/v1/chat/completions", { config: { access } }, async (request, reply) => {
    const body = parseWith(OpenAiChatBody, request.body ?? {});
    const call = v2ChatRequest(body);
    // A caller that hangs up while its model loads stops waiting (the deploy goes on).
    const gone = new AbortController();
    reply.raw.on("close", () => { if (!reply.raw.writableFinished) gone.abort(); });
    const caller = request.sailfin!.caller!;
    const find: FindChatTarget = (r, model) => openAiChatTarget(r, caller, model, options, gone.signal);
    const chat = await openChat(res, find, body.model, call.params, reply, "model");
    return answerOpenAiChat(request, reply, chat, { model: body.model, stream: call.stream, includeUsage: call.includeUsage, headers: { "x-request-id": request.id } });
  });
}
