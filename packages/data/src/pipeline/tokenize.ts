import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { PipelineInputError } from "./errors.js";
import { fastEncoder } from "./fast-encode.js";

/**
 * A model's tokenizer as the pipeline uses it: loaded from a Hugging Face folder
 * (`tokenizer.json` + `tokenizer_config.json`) with @huggingface/tokenizers.
 *
 * `encode` never adds special tokens: chat templates already write `<|begin_of_text|>` or
 * `<|im_start|>` themselves, and a post-processor adding BOS again would double it. Plain text
 * (PostPretrain) gets the post-processor's own affixes (`textPrefix` / `textSuffix`, e.g.
 * Llama's BOS) added explicitly by the caller, plus a document-end token.
 */
export interface LoadedTokenizer {
  /** Token ids of `text`, special-token strings in it mapped to their ids, nothing added. */
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
  tokenToId(token: string): number | undefined;
  /** Added tokens (special or not), longest first: the end-of-turn markers chat templates write. */
  readonly addedTokens: readonly string[];
  /** What the post-processor puts around a single sequence (`[bos]` for Llama, `[]` for Qwen2). */
  readonly textPrefix: readonly number[];
  readonly textSuffix: readonly number[];
  /**
   * Appended to every PostPretrain document: `<|endoftext|>` (Qwen, GPT-2) or `<|end_of_text|>`
   * (Llama 3) when the tokenizer has one — the pretraining document separator — else
   * `eos_token`; null when there is neither.
   */
  readonly documentEndId: number | null;
  /** `pad_token`, else `eos_token`, else 0. Padding is never trained (mask 0, segment 0). */
  readonly padId: number;
  /** The chat template from tokenizer_config.json (or chat_template.jinja), or null. */
  readonly chatTemplate: string | null;
  /** `bos_token`, `eos_token`, `pad_token`, `unk_token`, `cls_token`, `sep_token` as strings, for the template's context. */
  readonly templateTokens: Readonly<Record<string, string>>;
  /** sha256 of tokenizer.json and of everything else that changes the output (config, template). */
  readonly hash: string;
  /** Whether the fast path (see fast-encode.ts) is in use. */
  readonly fast: boolean;
}

/** Tokens preferred as the PostPretrain document separator, before `eos_token`. */
const DOCUMENT_END_TOKENS = ["<|endoftext|>", "<|end_of_text|>"];

/**
 * Loads the tokenizer of the Hugging Face model folder `modelDir`.
 *
 * @example
 * const tok = await loadTokenizer("/home/.sailfin/models/amv-1/");
 * tok.encode("<|im_start|>user\nhi<|im_end|>") // [257, 872, 198, 6023, 258]
 */
export async function loadTokenizer(modelDir: string): Promise<LoadedTokenizer> {
  const jsonBytes = await readFile(join(modelDir, "tokenizer.json")).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") throw new PipelineInputError(`the model has no tokenizer.json (${modelDir})`);
    throw error;
  });
  const configBytes = await readFile(join(modelDir, "tokenizer_config.json")).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return Buffer.from("{}");
    throw error;
  });
  const templateFile = await readFile(join(modelDir, "chat_template.jinja"), "utf8").catch(() => null);
  const json = parseObject(jsonBytes, "tokenizer.json");
  const config = parseObject(configBytes, "tokenizer_config.json");
  let library: Tokenizer;
  try {
    library = new Tokenizer(json, config);
  } catch (error) {
    throw new PipelineInputError(`tokenizer.json cannot be loaded: ${(error as Error).message}`);
  }

  const addedTokens = (Array.isArray(json.added_tokens) ? json.added_tokens : [])
    .map((t: { content?: unknown }) => t.content)
    .filter((c: unknown): c is string => typeof c === "string" && c.length > 0)
    .sort((a: string, b: string) => b.length - a.length);
  const templateTokens: Record<string, string> = {};
  // The special tokens apply_chat_template passes to templates (ERNIE 4.5's uses cls_token and sep_token).
  for (const name of ["bos_token", "eos_token", "pad_token", "unk_token", "cls_token", "sep_token"]) {
    const value = tokenString(config[name]);
    if (value !== null) templateTokens[name] = value;
  }
  const idOf = (token: string | undefined) => (token === undefined ? undefined : library.token_to_id(token));
  const eosId = idOf(templateTokens.eos_token);
  const documentEnd = DOCUMENT_END_TOKENS.map((t) => library.token_to_id(t)).find((id) => id !== undefined) ?? eosId ?? null;
  const padId = idOf(templateTokens.pad_token) ?? eosId ?? 0;
  const chatTemplate = pickTemplate(config.chat_template) ?? templateFile;

  const fast = fastEncoder(library, json, config);
  const encode = fast ?? ((text: string) => library.encode(text, { add_special_tokens: false }).ids);
  // The post-processor's affixes: what `add_special_tokens` adds around a probe text.
  const probe = "a";
  const bare = library.encode(probe, { add_special_tokens: false }).ids;
  const full = library.encode(probe, { add_special_tokens: true }).ids;
  const at = indexOfRun(full, bare);
  const textPrefix = at < 0 ? [] : full.slice(0, at);
  const textSuffix = at < 0 ? [] : full.slice(at + bare.length);

  const hash = createHash("sha256")
    .update(createHash("sha256").update(jsonBytes).digest("hex"))
    .update(createHash("sha256").update(configBytes).digest("hex"))
    .update(templateFile ?? "")
    .digest("hex");
  return {
    encode,
    decode: (ids) => (ids.length === 0 ? "" : library.decode(Array.from(ids), { clean_up_tokenization_spaces: false })),
    tokenToId: (token) => library.token_to_id(token),
    addedTokens,
    textPrefix,
    textSuffix,
    documentEndId: documentEnd,
    padId,
    chatTemplate,
    templateTokens,
    hash,
    fast: fast !== null,
  };
}

function parseObject(bytes: Buffer, name: string): Record<string, any> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new PipelineInputError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new PipelineInputError(`${name} must hold a JSON object`);
  return value as Record<string, any>;
}

/** Special tokens are saved as strings or as `{"content": "…", "__type": "AddedToken"}`. */
function tokenString(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object" && typeof (value as { content?: unknown }).content === "string") return (value as { content: string }).content;
  return null;
}

/** `chat_template` is a string, or a list of `{name, template}` of which "default" is the chat one. */
function pickTemplate(value: unknown): string | null {
  if (typeof value === "string" && value.trim() !== "") return value;
  if (Array.isArray(value)) {
    const named = value.find((t: { name?: unknown }) => t?.name === "default") ?? value[0];
    if (named !== undefined && typeof named.template === "string") return named.template;
  }
  return null;
}

function indexOfRun(haystack: readonly number[], needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
