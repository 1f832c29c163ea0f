import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatRenderer, DEFAULT_CHAT_TEMPLATE, type ChatMessage } from "./chat-template.js";
import { SampleBuilder, type TokenSample } from "./samples.js";
import { LLAMA3_TEMPLATE, QWEN25_TEMPLATE, trainedRuns, writeTestModel, type TestFamily } from "./test-models.js";
import { loadTokenizer, type LoadedTokenizer } from "./tokenize.js";

const conversation: ChatMessage[] = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "What is 12 + 30?" },
  { role: "assistant", content: "42" },
  { role: "user", content: "你好，请介绍一下你自己。" },
  { role: "assistant", content: "我是一个乐于助人的助手。" },
];

let root: string;
const tokenizers = new Map<TestFamily, LoadedTokenizer>();
before(async () => {
  root = await mkdtemp(join(tmpdir(), "sailfin-chat-"));
  for (const family of ["chatml", "llama3", "qwen25"] as const) {
    await writeTestModel(join(root, family), family);
    tokenizers.set(family, await loadTokenizer(join(root, family)));
  }
});
after(() => rm(root, { recursive: true, force: true }));

function build(family: TestFamily, messages: ChatMessage[] = conversation): { tok: LoadedTokenizer; chat: ChatRenderer; sample: TokenSample } {
  const tok = tokenizers.get(family)!;
  const chat = new ChatRenderer({ template: tok.chatTemplate, tokens: tok.templateTokens, addedTokens: tok.addedTokens });
  const sample = new SampleBuilder({ tokenizer: tok, chat, trainMode: "SFT" }).sft("Messages", { messages });
  return { tok, chat, sample };
}

describe("chat templates and assistant masks", () => {
  test("ChatML (the default): masks cover each answer and its <|im_end|>, nothing else", () => {
    const { tok, chat, sample } = build("chatml");
    assert.equal(chat.template, DEFAULT_CHAT_TEMPLATE);
    assert.deepEqual(trainedRuns(tok, sample), ["42<|im_end|>", "我是一个乐于助人的助手。<|im_end|>"]);
    assert.equal(tok.decode(sample.ids), chat.render(conversation, false));
    assert.match(tok.decode(sample.ids), /^<\|im_start\|>system\nYou are terse\.<\|im_end|>/);
  });

  test("Llama 3: BOS written once by the template, answers trimmed, <|eot_id|> trained", () => {
    const { tok, chat, sample } = build("llama3", [...conversation.slice(0, 2), { role: "assistant", content: " 42 " }, ...conversation.slice(3)]);
    assert.equal(chat.template, LLAMA3_TEMPLATE);
    assert.deepEqual(trainedRuns(tok, sample), ["42<|eot_id|>", "我是一个乐于助人的助手。<|eot_id|>"]);
    const bos = tok.tokenToId("<|begin_of_text|>");
    assert.equal(sample.ids[0], bos);
    assert.equal(sample.ids.filter((id) => id === bos).length, 1, "BOS is not added twice");
    assert.deepEqual(tok.textPrefix, [bos], "the post-processor's BOS is known for plain text");
  });

  test("Qwen2.5: default system prompt untrained, answers + <|im_end|> trained", () => {
    const { tok, chat, sample } = build("qwen25", conversation.slice(1));
    assert.equal(chat.template, QWEN25_TEMPLATE);
    assert.match(tok.decode(sample.ids), /^<\|im_start\|>system\nYou are Qwen/);
    assert.deepEqual(trainedRuns(tok, sample), ["42<|im_end|>", "我是一个乐于助人的助手。<|im_end|>"]);
  });

  test("pieces join to the full rendering; only chosen turns are trained", () => {
    const chat = new ChatRenderer({ template: null, addedTokens: ["<|im_start|>", "<|im_end|>"] });
    const pieces = chat.pieces(conversation, (i) => i === 4);
    assert.equal(pieces.map((p) => p.text).join(""), chat.render(conversation, false));
    assert.deepEqual(pieces.filter((p) => p.train).map((p) => p.text), ["我是一个乐于助人的助手。<|im_end|>"]);
    assert.match(chat.render(conversation.slice(0, 2), true), /<\|im_start\|>assistant\n$/);
  });

  test("a template that rewrites earlier turns falls back to searching the full rendering", () => {
    // Earlier answers get a "(old) " prefix once a later turn exists: incremental prefixes break.
    const template = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' }}{% if m.role == 'assistant' and not loop.last %}(old) {% endif %}" +
      "{{ m.content + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    const chat = new ChatRenderer({ template, addedTokens: ["<|im_start|>", "<|im_end|>"] });
    const trained = chat.pieces(conversation).filter((p) => p.train).map((p) => p.text);
    assert.deepEqual(trained, ["42<|im_end|>", "我是一个乐于助人的助手。<|im_end|>"]);
  });

  test("a template that hides an answer, and a broken template, are input errors", () => {
    const hiding = new ChatRenderer({ template: "{% for m in messages %}{{ m.role }}{% endfor %}" });
    assert.throws(() => hiding.pieces(conversation), /does not reproduce assistant message 2/);
    assert.throws(() => new ChatRenderer({ template: "{% for m in messages %}" }), /cannot be parsed/);
    const raising = new ChatRenderer({ template: "{{ raise_exception('bad role') }}" });
    assert.throws(() => raising.render(conversation, false), /bad role/);
  });
});
