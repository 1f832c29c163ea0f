import { Template } from "@huggingface/jinja";
import { PipelineInputError } from "./errors.js";

/**
 * Chat templates: a conversation rendered the way the model was trained to see it, with the
 * parts the model must learn (the assistant's answers) marked.
 *
 * An answer is what the model writes after its generation prompt. For each trained assistant
 * message i,
 *   prefix = render(messages[0..i), add_generation_prompt = true)   … "<|im_start|>assistant\n"
 *   turn   = render(messages[0..i], add_generation_prompt = false)  … + "content<|im_end|>\n"
 * and the answer is found in the full rendering:
 * - it starts right after `prefix` when the full rendering starts with it and shows the same text
 *   between the prefix and the content as `turn` does: that text (Qwen3's `<think>\n\n</think>\n\n`
 *   before a final answer, when thinking is on) is what the model generates at inference, so it
 *   is learned. With `enable_thinking: false` Qwen3's prefix itself ends with the empty think
 *   block, which is then prompt. When the template renders the turn differently once later turns
 *   follow (Qwen3 drops the think block of past answers), the answer starts at its content;
 * - it ends after the first added token that follows the content (the end-of-turn marker:
 *   `<|im_end|>`, `<|eot_id|>`, `<end_of_turn>`, `</s>`, `<|end_of_sentence|>`) inside the turn,
 *   or at the end of the turn when no added token follows; what follows the marker (ChatML's
 *   "\n") is the template's, not the model's to learn.
 * The content is searched from where the previous message was found (templates may `| trim` it,
 * so the trimmed content is tried too; a past answer's reasoning may be dropped); a message the template drops (Mistral Nemo's system
 * message, when the conversation ends with an answer) is skipped.
 * Tested against each family's real template: chat-families.test.ts.
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
  /** More template variables, as `apply_chat_template`'s keyword arguments (`enable_thinking: false`). */
  readonly variables?: Readonly<Record<string, unknown>>;
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
  readonly #variables: Readonly<Record<string, unknown>>;

  constructor(options: ChatRendererOptions) {
    this.template = options.template !== null && options.template.trim() !== "" ? options.template : DEFAULT_CHAT_TEMPLATE;
    try {
      this.#parsed = new Template(this.template);
    } catch (error) {
      throw new PipelineInputError(`the model's chat_template cannot be parsed: ${(error as Error).message}`);
    }
    this.#tokens = options.tokens ?? {};
    this.#variables = options.variables ?? {};
    this.#added = [...(options.addedTokens ?? [])].filter((t) => t.length > 0).sort((a, b) => b.length - a.length);
  }

  /** The conversation as text; `addGenerationPrompt` appends the opening of an assistant turn. */
  render(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
    try {
      return this.#render(messages, addGenerationPrompt);
    } catch (error) {
      // Gemma 2's template raises on any system message: say which message, and what to do.
      if (messages[0]?.role === "system" && this.#accepts(messages.slice(1))) {
        throw new PipelineInputError(
          `messages[0]: the model's chat_template does not accept a system message (it says: ${(error as Error).message}); ` +
          "put the instructions in the first user message instead",
        );
      }
      throw new PipelineInputError(`the model's chat_template failed on this conversation: ${(error as Error).message}`);
    }
  }

  #render(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
    // raise_exception and strftime_now are the library's own built-ins; passing one in is a redeclaration error.
    return this.#parsed.render({
      ...this.#variables, ...this.#tokens, messages: messages.map((m) => ({ ...m })), add_generation_prompt: addGenerationPrompt,
    });
  }

  #accepts(messages: readonly ChatMessage[]): boolean {
    try {
      this.#render(messages, false);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The rendered conversation cut into untrained and trained pieces, in order; joined they are
   * exactly `render(messages, false)`. `trained(i)` says whether assistant message i is learned
   * (all of them for SFT, only the last for preference pairs).
   */
  pieces(messages: readonly ChatMessage[], trained: (index: number) => boolean = () => true): ChatPiece[] {
    const full = this.render(messages, false);
    const spans = this.#spans(messages, full, trained);
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

  /** [start, end) of each trained answer in `full`, in order (see the module comment). */
  #spans(messages: readonly ChatMessage[], full: string, trained: (index: number) => boolean): Array<[number, number]> {
    const spans: Array<[number, number]> = [];
    let cursor = 0;
    messages.forEach((message, i) => {
      const learn = message.role === "assistant" && trained(i);
      if (!learn) {
        // Found, it moves the search on; not found (a template that drops it), it changes nothing.
        const found = locateMessage(full, message.content, cursor);
        if (found !== null) cursor = found[1];
        return;
      }
      const prefix = this.render(messages.slice(0, i), true);
      const afterPrefix = prefix.length >= cursor && full.startsWith(prefix);
      const found = locateMessage(full, message.content, afterPrefix ? prefix.length : cursor);
      if (found === null) throw new PipelineInputError(`the model's chat_template does not reproduce assistant message ${i} verbatim, so its tokens cannot be masked`);
      const turn = i === messages.length - 1 ? full : this.render(messages.slice(0, i + 1), false);
      const turnFits = afterPrefix && full.startsWith(turn) && turn.length >= found[1];
      // What the model writes before the content (a think block) is the same in `turn` and here.
      const lead = full.slice(prefix.length, found[0]);
      const start = afterPrefix && turn.startsWith(prefix + lead) && locateMessage(turn, message.content, prefix.length)?.[0] === found[0] ? prefix.length : found[0];
      // Without the turn to bound it, the answer ends before the next message's content; with no
      // end-of-turn token there, only the content is sure to be the answer's.
      const next = i + 1 < messages.length ? locateMessage(full, messages[i + 1]!.content, found[1]) : null;
      const span = turnFits
        ? this.#answerSpan(full, [start, found[1]], turn.length, turn.length)
        : this.#answerSpan(full, [start, found[1]], next?.[0] ?? full.length, found[1]);
      spans.push(span);
      cursor = span[1];
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

/**
 * Where a message's `content` occurs from `from`; for an answer with reasoning that is not
 * rendered whole, where its part after `</think>` does: reasoning templates (Qwen3, QwQ,
 * DeepSeek-R1) drop the think block of past answers, so that block is neither shown nor learned.
 */
function locateMessage(text: string, content: string, from: number): [number, number] | null {
  const found = locate(text, content, from);
  if (found !== null || !content.includes("</think>")) return found;
  return locate(text, content.slice(content.lastIndexOf("</think>") + "</think>".length).replace(/^\n+/, ""), from);
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
