import { z } from "zod";

/**
 * Inference calls (reference §15): the V2 chat body (OpenAI's shape, `POST /v2/chat/completions`)
 * and the V1 custom-model chat body (`POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}`),
 * and Sailfin's API-key extension actions. Unknown keys are ignored (the SDKs add
 * `extra_parameters`, `user_id`, `appid`…); fields Sailfin cannot honour are refused by name.
 */

/** Messages one call may carry; the request body limit bounds their size. */
export const MAX_CHAT_MESSAGES = 512;
/** Longest answer one call may ask for (the model's length caps it further). */
export const MAX_CHAT_COMPLETION_TOKENS = 32_768;
const MAX_STOP_WORDS = 16;

const TextPart = z.object({ type: z.literal("text"), text: z.string() });
/** A content part: text only; an image (or anything else) is refused naming the part's `type`. */
const ContentPart = z.object({
  type: z.string().refine((t) => t === "text", { message: "only text content parts are supported by this model (no images)" }),
}).passthrough().pipe(TextPart);

const V2Message = z.object({
  role: z.enum(["system", "user", "assistant"], { message: "must be system, user or assistant" }),
  content: z.union([z.string(), z.array(ContentPart).min(1)]),
  name: z.string().optional(),
});
export type V2ChatMessage = z.infer<typeof V2Message>;

const stopField = z.union([z.string(), z.array(z.string()).max(MAX_STOP_WORDS)]).nullable().optional();
const zeroOnly = (what: string) => z.number().nullable().optional()
  .refine((v) => v === undefined || v === null || v === 0, { message: `${what} is not supported (only 0)` });
const refused = (what: string) => z.unknown().optional()
  .refine((v) => v === undefined || v === null, { message: `${what} is not supported by this service` });

export const ChatCompletionsBody = z.object({
  model: z.string().min(1).max(256),
  messages: z.array(V2Message).min(1).max(MAX_CHAT_MESSAGES),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().nullable().optional() }).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  penalty_score: z.number().min(1).max(2).nullable().optional(),
  max_completion_tokens: z.int().min(1).max(MAX_CHAT_COMPLETION_TOKENS).nullable().optional(),
  max_tokens: z.int().min(1).max(MAX_CHAT_COMPLETION_TOKENS).nullable().optional(),
  seed: z.int().min(0).max(2 ** 31 - 1).nullable().optional(),
  stop: stopField,
  n: z.int().nullable().optional().refine((v) => v === undefined || v === null || v === 1, { message: "only n=1 is supported" }),
  frequency_penalty: zeroOnly("frequency_penalty"),
  presence_penalty: zeroOnly("presence_penalty"),
  tools: refused("tools"),
  tool_choice: refused("tool_choice"),
  functions: refused("functions"),
  response_format: z.object({ type: z.string() }).passthrough().nullable().optional()
    .refine((v) => v === undefined || v === null || v.type === "text", { message: "only the text response format is supported" }),
  logprobs: z.boolean().nullable().optional().refine((v) => v !== true, { message: "logprobs are not supported" }),
  user: z.string().optional(),
});
export type ChatCompletionsBody = z.infer<typeof ChatCompletionsBody>;

const V1Message = z.object({
  role: z.enum(["user", "assistant"], { message: "must be user or assistant" }),
  content: z.string(),
});

export const V1ChatBody = z.object({
  messages: z.array(V1Message).min(1).max(MAX_CHAT_MESSAGES)
    .refine((m) => m.length % 2 === 1, { message: "messages length must be odd" })
    .refine((m) => m.every((msg, i) => msg.role === (i % 2 === 0 ? "user" : "assistant")), { message: "roles must alternate user, assistant, …, user" }),
  system: z.string().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  penalty_score: z.number().min(1).max(2).nullable().optional(),
  max_output_tokens: z.int().min(1).max(MAX_CHAT_COMPLETION_TOKENS).nullable().optional(),
  seed: z.int().min(0).max(2 ** 31 - 1).nullable().optional(),
  stop: z.array(z.string()).max(MAX_STOP_WORDS).nullable().optional(),
  functions: refused("functions"),
  tools: refused("tools"),
  response_format: z.string().nullable().optional()
    .refine((v) => v === undefined || v === null || v === "text", { message: "only the text response format is supported" }),
});
export type V1ChatBody = z.infer<typeof V1ChatBody>;

/** Sailfin extension (`POST /v2/iam?Action=CreateApiKey`): a lasting bearer key of the calling access key. */
export const CreateApiKeyBody = z.object({ description: z.string().max(200).optional() });
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBody>;

export const DeleteApiKeyBody = z.object({ apiKeyId: z.string().min(1).max(64) });
export type DeleteApiKeyBody = z.infer<typeof DeleteApiKeyBody>;

export interface ApiKeyItem {
  readonly apiKeyId: string;
  readonly description: string;
  readonly createTime: string;
}

/** CreateApiKey: the only answer that carries the key. */
export interface CreatedApiKey extends ApiKeyItem {
  readonly apiKey: string;
}

export interface DescribeApiKeysResult {
  readonly apiKeyList: readonly ApiKeyItem[];
}

/** `GET /v1/BCE-BEARER/token` (raw JSON, no envelope). */
export interface BearerTokenResult {
  readonly userId: string;
  readonly token: string;
  readonly status: "enable" | "disable";
  readonly createTime: string;
  readonly expireTime: string;
}
