import { Template } from "@huggingface/jinja";
import { PipelineInputError } from "./errors.js";

/**
 * Chat templates: a conversation rendered the way the model was trained to see it, with the
 * parts the model must learn (the assistant's answers) marked.
 *
 * Which characters are the assistant's is found by rendering incrementally: for each trained
 * assistant message i,
 *   prefix = render(messages[0..i), add_generation_prompt = true)   … "<|im_start|>assistant\n"
 *   turn   = render(messages[0..i], add_generation_prompt = false)  … + "content<|im_end|>\n"
 * The answer starts where its content starts inside `turn` after `prefix` (templates may trim
 * it, so the trimmed content is tried too) and ends after the first added token that follows
 * (the end-of-turn marker: `<|im_end|>`, `<|eot_id|>`), or at the end of the turn when no
 * added token follows; what follows the marker (ChatML's "\n") is the template's, not the
 * model's to learn. This works for every template whose rendering of
 * earlier turns does not change when later turns are added (ChatML, Llama 3, Qwen2.5, …).
 * When that does not hold (a template that rewrites history), the spans are found instead by
 * searching each message's content, in order, in the full rendering.
 */

export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

/**
 * The default when a model ships no `chat_template`: ChatML, as Qwen2 uses it without its
 * default system prompt — `<|im_start|>{role}\n{content}<|im_end|>\n` per message and
 * `<|im_start|>assistant\n` as the generation prompt. (`<|im_start|>` and `<|im_end|>` should
 * then be added tokens of the tokenizer; Sailfin's tiny models have them.)
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** A piece of the rendered conversation; `train` marks the assistant's answer (+ end of turn). */
interface ChatPiece {
  readonly text: string;
  readonly train: boolean;
}

interface ChatRendererOptions {
  /** The model's template; null or empty uses DEFAULT_CHAT_TEMPLATE. */
  readonly template: string | null;
  /** `bos_token`, `eos_token`, … as the template expects them in its context. */
  readonly tokens?: Readonly<Record<string, string>>;
  /** The tokenizer's added tokens; the first one after an answer is its end-of-turn marker. */
  readonly addedTokens?: readonly string[];
}

/**
 * Renders conversations with one parsed template.
 *
 * @example
 * const chat = new ChatRenderer({ template: null, addedTokens: ["<|im_end|>", "<|im_start|>"] });
 * chat.pieces([{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }])
 * // [{ text: "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", train: false },
 * //  { text: "Hello<|im_end|>", train: true }, { text: "\n", train: false }]
 */
export class ChatRenderer {
  readonly template: string;
  readonly #parsed: Template;
  readonly #tokens: Readonly<Record<string, string>>;
  readonly #added: readonly string[];

  constructor(options: ChatRendererOptions) {
    this.template = options.template !== null && options.template.trim() !== "" ? options.template : DEFAULT_CHAT_TEMPLATE;
    try {
      this.#parsed = new Template(this.template);
    } catch (error) {
      throw new PipelineInputError(`the model's chat_template cannot be parsed: ${(error as Error).message}`);
    }
    this.#tokens = options.tokens ?? {};
    this.#added = [...(options.addedTokens ?? [])].filter((t) => t.length > 0).sort((a, b) => b.length - a.length);
  }

  /** The conversation as text; `addGenerationPrompt` appends the opening of an assistant turn. */
  render(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
    try {
      // raise_exception is the library's own built-in; passing one in is a redeclaration error.
      return this.#parsed.render({ ...this.#tokens, messages: messages.map((m) => ({ ...m })), add_generation_prompt: addGenerationPrompt });
    } catch (error) {
      throw new PipelineInputError(`the model's chat_template failed on this conversation: ${(error as Error).message}`);
    }
  }

  /**
   * The rendered conversation cut into untrained and trained pieces, in order; joined they are
   * exactly `render(messages, false)`. `trained(i)` says whether assistant message i is learned
   * (all of them for SFT, only the last for preference pairs).
   */
  pieces(messages: readonly ChatMessage[], trained: (index: number) => boolean = () => true): ChatPiece[] {
    const full = this.render(messages, false);
    const spans = this.#incrementalSpans(messages, full, trained) ?? this.#searchedSpans(messages, full, trained);
    const out: ChatPiece[] = [];
    let at = 0;
    for (const [start, end] of spans) {
      if (start > at) out.push({ text: full.slice(at, start), train: false });
      if (end > start) out.push({ text: full.slice(start, end), train: true });
      at = end;
    }
    if (at < full.length) out.push({ text: full.slice(at), train: false });
    return out;
  }

  /** Spans by incremental rendering, or null when the template rewrites earlier turns. */
  #incrementalSpans(messages: readonly ChatMessage[], full: string, trained: (index: number) => boolean): Array<[number, number]> | null {
    const spans: Array<[number, number]> = [];
    let floor = 0;
    for (let i = 0; i < messages.length; i++) {
      if (messages[i]!.role !== "assistant" || !trained(i)) continue;
      const prefix = this.render(messages.slice(0, i), true);
      const turn = i === messages.length - 1 ? full : this.render(messages.slice(0, i + 1), false);
      if (prefix.length < floor || !turn.startsWith(prefix) || !full.startsWith(turn)) return null;
      const found = locate(turn, messages[i]!.content, prefix.length);
      if (found === null) return null;
      const span = this.#answerSpan(turn, found, turn.length, turn.length);
      spans.push(span);
      floor = span[1];
    }
    return spans;
  }

  /** Spans by finding each message's content, in order, in the full rendering. */
  #searchedSpans(messages: readonly ChatMessage[], full: string, trained: (index: number) => boolean): Array<[number, number]> {
    const spans: Array<[number, number]> = [];
    let cursor = 0;
    messages.forEach((message, i) => {
      const learn = message.role === "assistant" && trained(i);
      const found = locate(full, message.content, cursor);
      const next = found === null || i + 1 >= messages.length ? null : locate(full, messages[i + 1]!.content, found[1]);
      if (found === null) {
        if (learn) throw new PipelineInputError(`the model's chat_template does not reproduce assistant message ${i} verbatim, so its tokens cannot be masked`);
        return; // e.g. a template that folds the system prompt into the first user turn
      }
      if (learn) {
        // Without an end-of-turn token before the next message, only the content is sure to be the answer's.
        const span = this.#answerSpan(full, found, next?.[0] ?? full.length, found[1]);
        spans.push(span);
        cursor = span[1];
      } else {
        cursor = found[1];
      }
    });
    return spans;
  }

  /**
   * [start, end) of one answer in `text` whose content lies at `content`: the content, then up
   * to and including the first added token after it that ends by `limit` (the end-of-turn
   * marker); `fallbackEnd` when there is none.
   */
  #answerSpan(text: string, [start, contentEnd]: [number, number], limit: number, fallbackEnd: number): [number, number] {
    // The earliest added token after the content; at equal positions the longest (#added is sorted so).
    let end = fallbackEnd;
    let endAt = -1;
    for (const token of this.#added) {
      const at = text.indexOf(token, contentEnd);
      if (at >= 0 && at + token.length <= limit && (endAt < 0 || at < endAt)) {
        endAt = at;
        end = at + token.length;
      }
    }
    return [start, end];
  }
}

/** Where `content` (or its trimmed form, for templates that `| trim`) occurs from `from`. */
function locate(text: string, content: string, from: number): [number, number] | null {
  let at = text.indexOf(content, from);
  if (at >= 0) return [at, at + content.length];
  const trimmed = content.trim();
  if (trimmed.length === 0) return null;
  at = text.indexOf(trimmed, from);
  return at >= 0 ? [at, at + trimmed.length] : null;
}
