import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { LocalArtifactStore } from "../artifacts/local.js";
import { checkModelFiles } from "./check-model-files.js";
import { writeTinyModel } from "./tiny-model.js";

const root = await mkdtemp(join(tmpdir(), "sailfin-tiny-"));
const store = new LocalArtifactStore(root);
after(() => rm(root, { recursive: true, force: true }));

async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const json = JSON.parse(await readFile(join(dir, "tokenizer.json"), "utf8")) as object;
  const config = JSON.parse(await readFile(join(dir, "tokenizer_config.json"), "utf8")) as object;
  return new Tokenizer(json, config);
}

describe("tiny model writer", () => {
  test("a tiny llama passes every import check", async () => {
    const info = await writeTinyModel(join(root, "llama"), { architecture: "llama", seed: 1 });
    const { summary, totalBytes } = await checkModelFiles(store, "llama/");
    assert.equal(summary.architecture, "LlamaForCausalLM");
    assert.equal(summary.tieWordEmbeddings, false);
    assert.equal(summary.hasChatTemplate, true);
    assert.deepEqual([summary.hiddenSize, summary.numLayers, summary.numHeads, summary.numKvHeads], [64, 2, 4, 2]);
    assert.equal(summary.parameterCount, info.parameterCount);
    assert.ok(totalBytes > info.parameterCount * 4);
    assert.ok(info.files.includes("model.safetensors"));
  });

  test("a tiny qwen2 (tied embeddings, bf16, two shards) passes every import check", async () => {
    const info = await writeTinyModel(join(root, "qwen2"), { architecture: "qwen2", seed: 2, dtype: "BF16", shards: 2 });
    assert.ok(info.files.includes("model.safetensors.index.json"));
    const { summary } = await checkModelFiles(store, "qwen2/");
    assert.equal(summary.architecture, "Qwen2ForCausalLM");
    assert.equal(summary.tieWordEmbeddings, true);
    assert.equal(summary.dtype, "BF16");
    const config = JSON.parse(await readFile(join(root, "qwen2", "config.json"), "utf8")) as Record<string, unknown>;
    assert.equal(config.model_type, "qwen2");
    assert.equal(config.tie_word_embeddings, true);
  });

  test("a tiny model of each newer family passes every import check, with its family's tensors and config fields", async () => {
    const cases = [
      { family: "qwen3", architecture: "Qwen3ForCausalLM", tied: true, extra: "model.layers.1.self_attn.q_norm.weight", window: null },
      { family: "ernie4_5", architecture: "Ernie4_5ForCausalLM", tied: true, extra: undefined, window: null },
      { family: "mistral", architecture: "MistralForCausalLM", tied: false, extra: "lm_head.weight", window: 64 },
      { family: "gemma2", architecture: "Gemma2ForCausalLM", tied: true, extra: "model.layers.0.pre_feedforward_layernorm.weight", window: 64 },
      { family: "gemma3_text", architecture: "Gemma3ForCausalLM", tied: true, extra: "model.layers.1.self_attn.k_norm.weight", window: 64 },
    ] as const;
    for (const c of cases) {
      const info = await writeTinyModel(join(root, c.family), { architecture: c.family, seed: 4 });
      const { summary } = await checkModelFiles(store, `${c.family}/`);
      assert.equal(summary.architecture, c.architecture, c.family);
      assert.equal(summary.modelType, c.family);
      assert.equal(summary.tieWordEmbeddings, c.tied, c.family);
      assert.equal(summary.slidingWindow, c.window, c.family);
      assert.equal(summary.parameterCount, info.parameterCount);
      assert.equal(info.config.head_dim, 16, c.family);
      if (c.extra !== undefined) {
        const header = (await readFile(join(root, c.family, "model.safetensors"))).toString("utf8", 8, 8 + 4096);
        assert.ok(header.includes(`"${c.extra}"`), `${c.family}: ${c.extra}`);
      }
    }
    assert.equal((JSON.parse(await readFile(join(root, "ernie4_5", "config.json"), "utf8")) as Record<string, unknown>).use_bias, false);
    await assert.rejects(writeTinyModel(join(root, "bad"), { architecture: "gemma" as never }), /architecture must be one of llama, qwen2, qwen3, ernie4_5, mistral, gemma2, gemma3_text/);
  });

  test("the same seed writes the same bytes; another seed other weights", async () => {
    await writeTinyModel(join(root, "s1"), { architecture: "llama", seed: 7 });
    await writeTinyModel(join(root, "s2"), { architecture: "llama", seed: 7 });
    await writeTinyModel(join(root, "s3"), { architecture: "llama", seed: 8 });
    const a = await readFile(join(root, "s1", "model.safetensors"));
    assert.ok(a.equals(await readFile(join(root, "s2", "model.safetensors"))));
    assert.ok(!a.equals(await readFile(join(root, "s3", "model.safetensors"))));
  });

  test("the tokenizer loads with @huggingface/tokenizers and round-trips text, Chinese and ChatML", async () => {
    const tokenizer = await loadTokenizer(join(root, "llama"));
    for (const text of ["Hello, the world!", "你好，世界。微调一个模型", "emoji 🐟 and tabs\tand\nnewlines"]) {
      const ids = tokenizer.encode(text).ids;
      assert.equal(tokenizer.decode(ids), text);
      assert.ok(ids.every((id: number) => id < 288));
    }
    const chat = "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n";
    const enc = tokenizer.encode(chat);
    assert.equal(enc.ids[0], tokenizer.token_to_id("<|im_start|>"));
    assert.ok(enc.tokens.includes("<|im_end|>"));
    assert.equal(tokenizer.decode(enc.ids), chat);
    // The merges are real BPE merges: " the" is one token.
    assert.deepEqual(tokenizer.tokenize(" the"), ["Ġthe"]);
  });

  test("tokenizer_config.json carries a ChatML chat template", async () => {
    const config = JSON.parse(await readFile(join(root, "llama", "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
    assert.match(String(config.chat_template), /<\|im_start\|>/);
    assert.equal(config.eos_token, "<|im_end|>");
  });

  test("tokenizerTexts trains the tokenizer on the data (the quickstart's demo model)", async () => {
    const texts = Array.from({ length: 120 }, (_, i) => (i % 3 === 0 ? `${i} 加 ${i + 2} 等于多少? ${2 * i + 2}` : `What is ${i} + ${i + 1}? ${2 * i + 1}`));
    const info = await writeTinyModel(join(root, "trained"), { architecture: "llama", seed: 3, tokenizerTexts: texts, tokenizerVocabSize: 400 });
    const tokenizer = await loadTokenizer(join(root, "trained"));
    const size = tokenizer.get_vocab().size;
    assert.ok(size > 300 && size <= 400, `size ${size}`);
    assert.equal(info.config.vocab_size, Math.ceil(size / 32) * 32);
    // Learned merges: a frequent phrase is far fewer tokens than bytes; any text still round-trips.
    assert.ok(tokenizer.encode("What is").ids.length <= 2);
    for (const text of ["What is 3 + 4? 7", "37 加 14 等于多少?", "unseen 文字 🐟"]) {
      assert.equal(tokenizer.decode(tokenizer.encode(text).ids, { clean_up_tokenization_spaces: false }), text);
    }
    const chat = "<|im_start|>user\nWhat is 1 + 2?<|im_end|>\n";
    assert.equal(tokenizer.encode(chat).ids[0], tokenizer.token_to_id("<|im_start|>"));
    const config = JSON.parse(await readFile(join(root, "trained", "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
    assert.match(String(config.chat_template), /<\|im_start\|>/);
    // The default (no texts) is unchanged: 256 bytes + 8 merges + 3 special tokens.
    assert.equal((await loadTokenizer(join(root, "llama"))).get_vocab().size, 267);
  });

  test("bad sizes are refused", async () => {
    await assert.rejects(writeTinyModel(join(root, "bad"), { architecture: "llama", hiddenSize: 30, heads: 4 }), /multiple/);
    await assert.rejects(writeTinyModel(join(root, "bad"), { architecture: "qwen2", vocab: 100 }), /smaller than the tokenizer/);
  });
});
