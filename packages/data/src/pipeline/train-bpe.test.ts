import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Tokenizer } from "@huggingface/tokenizers";
import { CORPUS } from "./test-models.js";
import { trainByteLevelBpe } from "./train-bpe.js";

const config = { clean_up_tokenization_spaces: false };

describe("byte-level BPE trainer", () => {
  test("reaches the target size and loads in @huggingface/tokenizers", () => {
    // Made-up words from a few syllables: plenty of distinct pairs to merge.
    const syllables = ["ka", "lo", "mi", "ren", "tu", "sha", "vo", "el", "qi", "dun"];
    const text = Array.from({ length: 400 }, (_, i) => `${CORPUS[i % CORPUS.length]} ${syllables[i % 10]}${syllables[(i * 7) % 10]}${syllables[(i * 3) % 10]} ${i}`);
    const bpe = trainByteLevelBpe(text, { vocabSize: 512 });
    assert.equal(bpe.size, 512);
    assert.equal(Object.keys(bpe.vocab).length, 509);
    assert.deepEqual(bpe.specialIds, { "<|endoftext|>": 509, "<|im_start|>": 510, "<|im_end|>": 511 });
    const tok = new Tokenizer(bpe.tokenizerJson, config);
    // Frequent words became single tokens.
    assert.deepEqual(tok.tokenize(" the"), ["Ġthe"]);
    assert.ok(tok.encode(" France").ids.length <= 2);
  });

  test("round-trips any text, Chinese and emoji included, and splits out special tokens", () => {
    const bpe = trainByteLevelBpe([...CORPUS, ...CORPUS, ...CORPUS], { vocabSize: 700 });
    const tok = new Tokenizer(bpe.tokenizerJson, config);
    for (const text of [...CORPUS, "未见过的汉字：鳍帆 🐟 tabs\tand\r\nCRLF", "  leading and trailing  ", "ÀÉÎ õ ß"]) {
      const ids = tok.encode(text, { add_special_tokens: false }).ids;
      assert.equal(tok.decode(ids, config), text);
      assert.ok(ids.every((id: number) => id < bpe.size));
    }
    // Chinese from the corpus is compressed below one token per UTF-8 byte.
    const zh = "你好，请介绍一下你自己。";
    assert.ok(tok.encode(zh).ids.length < Buffer.byteLength(zh) / 2);
    const chat = "<|im_start|>user\n你好<|im_end|>\n";
    const ids = tok.encode(chat).ids;
    assert.equal(ids[0], bpe.specialIds["<|im_start|>"]);
    assert.ok(ids.includes(bpe.specialIds["<|im_end|>"]!));
    assert.equal(tok.decode(ids, config), chat);
  });

  test("special tokens in the training text are never merged into", () => {
    const bpe = trainByteLevelBpe(Array(50).fill("<|im_start|>user<|im_end|>"), { vocabSize: 300 });
    assert.ok(Object.keys(bpe.vocab).every((t) => !t.includes("<|im")));
  });

  test("deterministic: the same texts give the same tokenizer.json", () => {
    const a = JSON.stringify(trainByteLevelBpe(CORPUS, { vocabSize: 600 }).tokenizerJson);
    const b = JSON.stringify(trainByteLevelBpe([...CORPUS], { vocabSize: 600 }).tokenizerJson);
    assert.equal(a, b);
  });

  test("stops early when no pair repeats, and refuses a size below the bytes", () => {
    const bpe = trainByteLevelBpe(["ab"], { vocabSize: 4096 });
    assert.equal(bpe.size, 259);
    assert.throws(() => trainByteLevelBpe(CORPUS, { vocabSize: 200 }), /at least 259/);
  });
});
