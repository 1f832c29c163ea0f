import type { z } from "zod";
import { ChatCompletionsBody } from "./chat.js";

/**
 * Using models through OpenAI's dialect (issue 16): `POST /v1/chat/completions` takes the body of
 * `/v2/chat/completions` (chat.ts), less Qianfan's `penalty_score`; `model` is an `ft:` model, a
 * checkpoint of one, a service's urlSuffix or `svco-` id, or a base model's name. `/v1/models`
 * answers OpenAI's Model objects.
 */
export const OpenAiChatBody = ChatCompletionsBody.omit({ penalty_score: true });
export type OpenAiChatBody = z.infer<typeof OpenAiChatBody>;

/** OpenAI's `Model` ([OAS] `Model`). */
export interface OpenAiModelObject {
  readonly id: string;
  readonly object: "model";
  /** Unix seconds. */
  readonly created: number;
  readonly owned_by: string;
}

/** OpenAI's `DeleteModelResponse`. */
export interface OpenAiModelDeleted {
  readonly id: string;
  readonly object: "model";
  readonly deleted: true;
}
