import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Tokenizer } from "@huggingface/tokenizers";
import { fastEncoder } from "./fast-encode.js";
import { CORPUS } from "./test-models.js";
import { trainByteLevelBpe } from "./train-bpe.js";

/** Qwen2's pre-tokenizer: a Split on its regex, then ByteLevel without a regex. */
const QWEN2_PRE_TOKENIZER = {
  type: "Sequence",
  pretokenizers: [
    {
      type: "Split",
      pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
      behavior: "Isolated",
      invert: false,
    },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
  ],
};

const TEXTS = [
  ...CORPUS,
  "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n你好 🐟<|im_end|>\n<|im_start|>assistant\n",
  "   many   spaces\t\ttabs\n\n\nnewlines  ",
  "I'm sure they'll say it's fine; WE'LL see. 1234567890 x=3.14",
  "<|im_end|><|im_end|>a<|im_start|>",
  "",
];

function check(json: Record<string, unknown>, config: Record<string, unknown> = {}): void {
  const library = new Tokenizer(json, config);
  const fast = fastEncoder(library, json, config);
  assert.ok(fast !== null, "the fast path applies");
  for (let round = 0; round < 2; round++) {
    // Twice: the second round is served from the cache.
    for (const text of TEXTS) assert.deepEqual(fast(text), library.encode(text, { add_special_tokens: false }).ids, JSON.stringify(text));
  }
}

describe("fast encoder", () => {
  const bpe = trainByteLevelBpe(CORPUS, { vocabSize: 600 });

  test("equals Tokenizer.encode for a GPT-2 style ByteLevel tokenizer", () => {
    check(bpe.tokenizerJson);
  });

  test("equals Tokenizer.encode for a Qwen2 style Split + ByteLevel tokenizer", () => {
    check({ ...bpe.tokenizerJson, pre_tokenizer: QWEN2_PRE_TOKENIZER });
  });

  test("equals Tokenizer.encode without a normalizer", () => {
    check({ ...bpe.tokenizerJson, normalizer: null });
  });

  test("steps aside for shapes it does not reproduce", () => {
    const json = { ...bpe.tokenizerJson, pre_tokenizer: { type: "ByteLevel", add_prefix_space: true, use_regex: true } };
    assert.equal(fastEncoder(new Tokenizer(json, {}), json, {}), null);
    const stripped = { ...bpe.tokenizerJson, added_tokens: [{ id: 597, content: "<|endoftext|>", lstrip: true, rstrip: false, special: true, normalized: false }] };
    assert.equal(fastEncoder(new Tokenizer(stripped, {}), stripped, {}), null);
    assert.equal(fastEncoder(new Tokenizer(bpe.tokenizerJson, {}), bpe.tokenizerJson, { remove_space: true }), null);
  });
});
