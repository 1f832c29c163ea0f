/**
 * A real byte-level BPE tokenizer.json (GPT-2 / Qwen2 style), small enough to write by hand:
 * 256 byte tokens (ids 0-255, spelled with GPT-2's bytes_to_unicode so every byte is a
 * printable character), a few merges, and ChatML special tokens as added tokens. Any UTF-8 text
 * round-trips, because every byte has a token.
 */
import { BPE_SPECIAL_TOKENS, bpeTokenizerJson, bytesToUnicode } from "@sailfin/data";

/** Merges, in rank order; each result is added to the vocabulary after the 256 bytes. */
const MERGES: ReadonlyArray<readonly [string, string]> = [
  ["Ġ", "t"], ["h", "e"], ["i", "n"], ["Ġt", "he"], ["e", "r"], ["a", "n"], ["Ġ", "a"], ["o", "n"],
];

/** ChatML, as Qwen2 ships it (without the default system prompt). */
const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

interface ByteLevelTokenizerFiles {
  readonly tokenizerJson: Record<string, unknown>;
  readonly tokenizerConfig: Record<string, unknown>;
  /** Tokens including the added special tokens; ids are 0 … size-1. */
  readonly size: number;
  readonly ids: { readonly endOfText: number; readonly imStart: number; readonly imEnd: number };
}

/** A learned byte-level BPE (`trainByteLevelBpe` in @sailfin/data): bytes are ids 0-255. */
interface TrainedByteLevelModel {
  readonly vocab: Record<string, number>;
  readonly merges: ReadonlyArray<readonly [string, string]>;
}

/**
 * Builds tokenizer.json and tokenizer_config.json (with a ChatML chat_template): the 256 bytes
 * and a few hand-picked merges, or `trained`'s vocabulary and merges when given.
 */
export function byteLevelTokenizer(maxLength: number, trained?: TrainedByteLevelModel): ByteLevelTokenizerFiles {
  let vocab: Record<string, number> = {};
  bytesToUnicode().forEach((symbol, byte) => { vocab[symbol] = byte; });
  for (const [a, b] of MERGES) vocab[a + b] = Object.keys(vocab).length;
  const merges = trained?.merges ?? MERGES;
  if (trained !== undefined) vocab = { ...trained.vocab };
  // The same tokenizer.json the data pipeline's BPE trainer writes (one builder for both).
  const tokenizerJson = bpeTokenizerJson(vocab, merges, BPE_SPECIAL_TOKENS);
  const base = Object.keys(vocab).length;
  const added = (tokenizerJson.added_tokens as Array<{ id: number; content: string }>);
  const tokenizerConfig = {
    add_bos_token: false,
    add_eos_token: false,
    added_tokens_decoder: Object.fromEntries(added.map(({ id, ...rest }) => [String(id), rest])),
    additional_special_tokens: ["<|im_start|>", "<|im_end|>"],
    bos_token: null,
    chat_template: CHATML_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: "<|im_end|>",
    errors: "replace",
    model_max_length: maxLength,
    pad_token: "<|endoftext|>",
    split_special_tokens: false,
    tokenizer_class: "PreTrainedTokenizerFast",
    unk_token: null,
  };
  return {
    tokenizerJson,
    tokenizerConfig,
    size: base + added.length,
    ids: { endOfText: base, imStart: base + 1, imEnd: base + 2 },
  };
}
