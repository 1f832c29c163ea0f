import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TrainMode } from "@sailfin/contract";
import { ChatRenderer } from "./chat-template.js";
import { SampleBuilder, formatFitsTrainMode, recordTexts } from "./samples.js";
import { trainedRuns, writeTestModel } from "./test-models.js";
import { loadTokenizer, type LoadedTokenizer } from "./tokenize.js";

let root: string;
let chatml: LoadedTokenizer;
let llama: LoadedTokenizer;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "sailfin-samples-"));
  await writeTestModel(join(root, "chatml"), "chatml");
  await writeTestModel(join(root, "llama3"), "llama3");
  chatml = await loadTokenizer(join(root, "chatml"));
  llama = await loadTokenizer(join(root, "llama3"));
});
after(() => rm(root, { recursive: true, force: true }));

function builder(tok: LoadedTokenizer, trainMode: TrainMode, vocabSize?: number): SampleBuilder {
  const chat = new ChatRenderer({ template: tok.chatTemplate, tokens: tok.templateTokens, addedTokens: tok.addedTokens });
  return new SampleBuilder({ tokenizer: tok, chat, trainMode, vocabSize });
}

describe("samples per format", () => {
  test("PromptResponse, multi-turn: every answer trained", () => {
    const sample = builder(chatml, "SFT").sft("PromptResponse", [
      { prompt: "What is 7 + 8?", response: [["15"]] },
      { prompt: "37 加 14 等于多少?", response: [["51"]] },
    ]);
    assert.equal(sample.ids.length, sample.mask.length);
    assert.deepEqual(trainedRuns(chatml, sample), ["15<|im_end|>", "51<|im_end|>"]);
    assert.match(chatml.decode(sample.ids), /^<\|im_start\|>user\nWhat is 7 \+ 8\?<\|im_end\|>\n<\|im_start\|>assistant\n15/);
  });

  test("PromptSortedResponses: the best (first) answer of the last turn", () => {
    const sample = builder(chatml, "SFT").sft("PromptSortedResponses", [
      { prompt: "Hi", response: [["Hello!"]] },
      { prompt: "Capital of France?", response: [["Paris."], ["Lyon."], ["I don't know."]] },
    ]);
    assert.deepEqual(trainedRuns(chatml, sample), ["Hello!<|im_end|>", "Paris.<|im_end|>"]);
    assert.ok(!chatml.decode(sample.ids).includes("Lyon"));
  });

  test("Messages with a system prompt (Llama 3 template)", () => {
    const sample = builder(llama, "SFT").sft("Messages", {
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Name a sea." }, { role: "assistant", content: "The Baltic." }],
    });
    assert.deepEqual(trainedRuns(llama, sample), ["The Baltic.<|eot_id|>"]);
  });

  test("Messages: an answer with weight 0 is context only (mask 0), weight 1 and unweighted ones are trained", () => {
    const sample = builder(chatml, "SFT").sft("Messages", {
      messages: [
        { role: "user", content: "Q1" }, { role: "assistant", content: "Skipped answer", weight: 0 },
        { role: "user", content: "Q2" }, { role: "assistant", content: "Kept answer", weight: 1 },
        { role: "user", content: "Q3" }, { role: "assistant", content: "Plain answer" },
      ],
    });
    assert.deepEqual(trainedRuns(chatml, sample), ["Kept answer<|im_end|>", "Plain answer<|im_end|>"]);
    assert.ok(chatml.decode(sample.ids).includes("Skipped answer"), "the weight-0 answer stays in the context");
  });

  test("Text (PostPretrain): every token trained, document end appended, the post-processor's BOS kept", () => {
    const text = "床前明月光，疑是地上霜。The quick brown fox.";
    const q = builder(chatml, "PostPretrain").sft("Text", { text });
    assert.ok(q.mask.every((m) => m === 1));
    assert.equal(q.ids[q.ids.length - 1], chatml.tokenToId("<|endoftext|>"));
    assert.equal(chatml.decode(q.ids), `${text}<|endoftext|>`);
    const l = builder(llama, "PostPretrain").sft("Text", { content: text });
    assert.equal(llama.decode(l.ids), `<|begin_of_text|>${text}<|end_of_text|>`);
  });

  test("PromptChosenRejected: same prompt, masks on each answer only", () => {
    const pair = builder(chatml, "DPO").pair([
      { user: "Hi", assistant: "Hello." },
      { user: "What is 2 + 2?", chosen: "4", rejected: "5, probably" },
    ]);
    assert.deepEqual(trainedRuns(chatml, pair.chosen), ["4<|im_end|>"]);
    assert.deepEqual(trainedRuns(chatml, pair.rejected), ["5, probably<|im_end|>"]);
    const firstTrained = (m: number[]) => m.indexOf(1);
    const at = firstTrained(pair.chosen.mask);
    assert.equal(at, firstTrained(pair.rejected.mask));
    assert.deepEqual(pair.chosen.ids.slice(0, at), pair.rejected.ids.slice(0, at), "identical prompts");
    assert.ok(chatml.decode(pair.chosen.ids.slice(0, at)).includes("Hello."), "context turns are in the prompt, untrained");
  });

  test("a token id beyond the model's vocab_size names the tokenizer/model mismatch", () => {
    assert.throws(() => builder(chatml, "SFT", 100).sft("PromptResponse", [{ prompt: "Hi", response: [["Hello"]] }]),
      /token id \d+, but the model's vocab_size is 100.*does not belong to this model/);
  });

  test("format / train mode table and record texts", () => {
    assert.ok(formatFitsTrainMode("Messages", "SFT"));
    assert.ok(!formatFitsTrainMode("Text", "SFT"));
    assert.ok(formatFitsTrainMode("PromptChosenRejected", "KTO"));
    assert.deepEqual(recordTexts("PromptSortedResponses", [{ prompt: "Q", response: [["a"], ["b"]] }]), ["Q", "a", "b"]);
    assert.deepEqual(recordTexts("PromptChosenRejected", [{ user: "Q", chosen: "a", rejected: "b" }]), ["Q", "a", "b"]);
    assert.deepEqual(recordTexts("Text", { text: "doc" }), ["doc"]);
  });
});
