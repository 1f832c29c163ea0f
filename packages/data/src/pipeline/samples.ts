import { TRAIN_MODE_DATA_FORMATS, type TrainMode } from "@sailfin/contract";
import type { DataFormat } from "../formats/index.js";
import type { ChatMessage, ChatRenderer } from "./chat-template.js";
import { PipelineInputError } from "./errors.js";
import type { LoadedTokenizer } from "./tokenize.js";

/**
 * Dataset records to training samples. Every format becomes a conversation (or, for Text, one
 * document), rendered with the model's chat template and tokenized piece by piece so that the
 * mask is exact: 1 on the tokens the model learns to produce, 0 on the rest.
 *
 * | train mode   | formats                                         | sample                                         |
 * |--------------|-------------------------------------------------|------------------------------------------------|
 * | SFT          | PromptResponse, PromptSortedResponses, Messages | every assistant turn trained (+ end of turn), but Messages' `weight: 0` ones |
 * | PostPretrain | Text                                            | all tokens trained, document-end token appended|
 * | DPO, KTO     | PromptChosenRejected                            | prompt + chosen / prompt + rejected, mask on the answers |
 *
 * PromptSortedResponses trains on the best (first) ranked answer of its last turn. Each piece
 * is encoded on its own, so a prompt's tokens never merge with the answer's first token: the
 * split is the one the model sees at inference, where the prompt is tokenized alone.
 */
export interface TokenSample {
  readonly ids: number[];
  /** 1 where the token is a training target. */
  readonly mask: number[];
}

export interface PreferencePair {
  readonly chosen: TokenSample;
  readonly rejected: TokenSample;
}

interface SampleBuilderOptions {
  readonly tokenizer: LoadedTokenizer;
  readonly chat: ChatRenderer;
  readonly trainMode: TrainMode;
  /** The model's `vocab_size` (config.json); a token id at or above it is a user error. */
  readonly vocabSize?: number | null;
}

/** Whether `format` can feed `trainMode`, as the contract's table says. */
export function formatFitsTrainMode(format: DataFormat, trainMode: TrainMode): boolean {
  return (TRAIN_MODE_DATA_FORMATS[trainMode] as readonly string[]).includes(format);
}

/**
 * Builds samples of one train mode from validated records.
 *
 * @example
 * const build = new SampleBuilder({ tokenizer, chat, trainMode: "SFT" });
 * build.sft("PromptResponse", [{ prompt: "1+1?", response: [["2"]] }]) // { ids: [...], mask: [0, …, 1, 1] }
 */
export class SampleBuilder {
  readonly #tok: LoadedTokenizer;
  readonly #chat: ChatRenderer;
  readonly #vocab: number | null;
  readonly trainMode: TrainMode;

  constructor(options: SampleBuilderOptions) {
    this.#tok = options.tokenizer;
    this.#chat = options.chat;
    this.#vocab = options.vocabSize ?? null;
    this.trainMode = options.trainMode;
  }

  /** Whether this mode's samples are preference pairs (two rows each, no packing). */
  get preference(): boolean {
    return this.trainMode === "DPO" || this.trainMode === "KTO";
  }

  /** An SFT or PostPretrain sample of one record. */
  sft(format: DataFormat, value: unknown): TokenSample {
    if (format === "Text") return this.#checked(this.#document(textOf(value)));
    const messages = conversation(format, value);
    // A Messages answer with `weight: 0` is context only (OpenAI's per-message weight).
    const weights = format === "Messages" ? (value as { messages: Array<{ weight?: number }> }).messages.map((m) => m.weight) : [];
    return this.#checked(this.#encodePieces(messages, (i) => weights[i] !== 0));
  }

  /** The chosen and the rejected sample of one PromptChosenRejected record. */
  pair(value: unknown): PreferencePair {
    const { context, chosen, rejected } = preferenceOf(value);
    const last = context.length;
    const trainLast = (i: number) => i === last;
    return {
      chosen: this.#checked(this.#encodePieces([...context, { role: "assistant", content: chosen }], trainLast)),
      rejected: this.#checked(this.#encodePieces([...context, { role: "assistant", content: rejected }], trainLast)),
    };
  }

  #encodePieces(messages: readonly ChatMessage[], trained: (i: number) => boolean): TokenSample {
    const ids: number[] = [];
    const mask: number[] = [];
    for (const piece of this.#chat.pieces(messages, trained)) {
      const pieceIds = this.#tok.encode(piece.text);
      const bit = piece.train ? 1 : 0;
      for (const id of pieceIds) {
        ids.push(id);
        mask.push(bit);
      }
    }
    return { ids, mask };
  }

  #document(text: string): TokenSample {
    const tok = this.#tok;
    const ids = [...tok.textPrefix, ...tok.encode(text), ...tok.textSuffix];
    if (tok.documentEndId !== null && ids[ids.length - 1] !== tok.documentEndId) ids.push(tok.documentEndId);
    return { ids, mask: new Array<number>(ids.length).fill(1) };
  }

  #checked(sample: TokenSample): TokenSample {
    if (this.#vocab !== null) {
      for (const id of sample.ids) {
        if (id >= this.#vocab) {
          throw new PipelineInputError(
            `the tokenizer produced token id ${id}, but the model's vocab_size is ${this.#vocab} (config.json): ` +
            "tokenizer.json does not belong to this model",
          );
        }
      }
    }
    return sample;
  }
}

/** The conversation of an SFT record; throws for formats that are not conversations. */
function conversation(format: DataFormat, value: unknown): ChatMessage[] {
  switch (format) {
    case "PromptResponse":
    case "PromptSortedResponses": {
      // The best (first) answer of each turn; earlier turns hold exactly one.
      const turns = value as Array<{ prompt: string; response: string[][] }>;
      return turns.flatMap((t) => [{ role: "user", content: t.prompt }, { role: "assistant", content: t.response[0]![0]! }]);
    }
    case "Messages":
      return (value as { messages: ChatMessage[] }).messages.map((m) => ({ role: m.role, content: m.content }));
    case "PromptChosenRejected": {
      // Used as SFT data, a preference pair teaches its chosen answer.
      const { context, chosen } = preferenceOf(value);
      return [...context, { role: "assistant", content: chosen }];
    }
    case "Text":
      throw new PipelineInputError("Text records are documents, not conversations");
  }
}

/** Context (earlier turns + the last user message) and the two answers of a preference record. */
function preferenceOf(value: unknown): { context: ChatMessage[]; chosen: string; rejected: string } {
  const turns = value as Array<{ user: string; assistant?: string; chosen?: string; rejected?: string }>;
  const context: ChatMessage[] = [];
  for (const turn of turns) {
    context.push({ role: "user", content: turn.user });
    if (turn.assistant !== undefined) context.push({ role: "assistant", content: turn.assistant });
  }
  const last = turns[turns.length - 1]!;
  return { context, chosen: last.chosen!, rejected: last.rejected! };
}

/** The one string field of a Text record, whatever its name. */
function textOf(value: unknown): string {
  return Object.values(value as Record<string, string>)[0]!;
}

/**
 * Every text of a record (prompts, answers, documents), e.g. to train a tokenizer on a dataset.
 *
 * @example recordTexts("PromptResponse", [{ prompt: "Q", response: [["A"]] }]) // ["Q", "A"]
 */
export function recordTexts(format: DataFormat, value: unknown): string[] {
  switch (format) {
    case "Text":
      return [textOf(value)];
    case "PromptSortedResponses":
      return (value as Array<{ prompt: string; response: string[][] }>).flatMap((t) => [t.prompt, ...t.response.map((r) => r[0]!)]);
    case "PromptChosenRejected": {
      const { context, chosen, rejected } = preferenceOf(value);
      return [...context.map((m) => m.content), chosen, rejected];
    }
    default:
      return conversation(format, value).map((m) => m.content);
  }
}
