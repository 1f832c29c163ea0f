import { after, before, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ChatRenderer, type ChatMessage } from "./chat-template.js";
import { PipelineInputError } from "./errors.js";
import { SampleBuilder } from "./samples.js";
import { trainedRuns, writeTestModel, type TestFamily } from "./test-models.js";
import { loadTokenizer } from "./tokenize.js";

/**
 * Each family's real chat template (copied from its model's tokenizer_config.json into
 * packages/data/fixtures/chat-templates, sources in the README there) rendered by Sailfin and by
 * transformers' apply_chat_template (expected.json, made by make_expected.py), and the assistant
 * mask checked against the answers Sailfin must train on.
 */
const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), "../../fixtures/chat-templates");

interface Case {
  readonly name: string;
  readonly family: TestFamily;
  readonly template: string;
  readonly variables?: Record<string, unknown>;
  readonly messages: ChatMessage[];
}
interface Expected {
  readonly name: string;
  readonly text?: string;
  readonly prompt?: string;
  readonly error?: string;
}

const A1 = "42。";
const A2 = "我是一个乐于助人的助手。";
/**
 * The trained runs of each case: every answer and its end-of-turn token, never a role header or
 * the newline after the marker. Qwen3 with thinking on (its default) learns the empty think block
 * of its final answer: its generation prompt stops at "<|im_start|>assistant\n", so at inference
 * the model writes that block itself; with enable_thinking=false the block is part of the prompt,
 * and a past answer is rendered without it (the template drops old reasoning), so neither trains it.
 */
const ANSWERS: Record<string, string[]> = {
  "qwen2.5 with system": [`${A1}<|im_end|>`, `${A2}<|im_end|>`],
  "qwen2.5 default system": [`${A1}<|im_end|>`, `${A2}<|im_end|>`],
  "qwen3 thinking (default)": [`${A1}<|im_end|>`, `<think>\n\n</think>\n\n${A2}<|im_end|>`],
  "qwen3 enable_thinking=false": [`${A1}<|im_end|>`, `${A2}<|im_end|>`],
  "qwen3 last answer with reasoning": [`${A1}<|im_end|>`, `<think>\n先介绍身份。\n</think>\n\n${A2}<|im_end|>`],
  // The template drops a past answer's reasoning: what it keeps, the answer, is what is learned.
  "qwen3 past answer with reasoning": [`${A1}<|im_end|>`, `<think>\n\n</think>\n\n${A2}<|im_end|>`],
  "llama3.1 with system": [`${A1}<|eot_id|>`, `${A2}<|eot_id|>`],
  "llama3.2 with system": [`${A1}<|eot_id|>`, `${A2}<|eot_id|>`],
  "llama3.2 without system": [`${A1}<|eot_id|>`, `${A2}<|eot_id|>`],
  "ernie4.5 with system": [`${A1}<|end_of_sentence|>`, `${A2}<|end_of_sentence|>`],
  "mistral nemo with system": [`${A1}</s>`, `${A2}</s>`],
  "mistral small 3.2 with system": [`${A1}</s>`, `${A2}</s>`],
  "mistral small 3.2 default system": [`${A1}</s>`, `${A2}</s>`],
  "gemma2": [`${A1}<end_of_turn>`, `${A2}<end_of_turn>`],
  "gemma3 with system": [`${A1}<end_of_turn>`, `${A2}<end_of_turn>`],
  "gemma3": [`${A1}<end_of_turn>`, `${A2}<end_of_turn>`],
};

let root: string;
let cases: Case[];
let expected: Map<string, Expected>;
before(async () => {
  // Llama 3.2 and Mistral Small 3.2 print today's date; make_expected.py fixed the same day.
  // Noon UTC is that day in every time zone within 12 hours of UTC.
  mock.timers.enable({ apis: ["Date"], now: Date.parse("2026-12-06T12:00:00Z") });
  root = await mkdtemp(join(tmpdir(), "sailfin-chat-families-"));
  cases = (JSON.parse(await readFile(join(FIXTURES, "cases.json"), "utf8")) as { cases: Case[] }).cases;
  const made = JSON.parse(await readFile(join(FIXTURES, "expected.json"), "utf8")) as { cases: Expected[] };
  expected = new Map(made.cases.map((c) => [c.name, c]));
});
after(async () => {
  mock.timers.reset();
  await rm(root, { recursive: true, force: true });
});

/** The case's model folder (the family's tokenizer + the real template), loaded as prepare does. */
async function load(c: Case, n: number) {
  const dir = join(root, String(n));
  await writeTestModel(dir, c.family, { chatTemplate: await readFile(join(FIXTURES, c.template), "utf8"), vocabSize: 1200 });
  const tok = await loadTokenizer(dir);
  const chat = new ChatRenderer({ template: tok.chatTemplate, tokens: tok.templateTokens, addedTokens: tok.addedTokens, variables: c.variables });
  return { tok, chat, build: new SampleBuilder({ tokenizer: tok, chat, trainMode: "SFT" }) };
}

describe("real chat templates of each family: rendering as transformers does, masks on the answers", () => {
  test("every case has its transformers rendering and its expected answers", () => {
    assert.deepEqual(cases.map((c) => c.name).sort(), [...expected.keys()].sort());
    for (const c of cases) assert.ok(expected.get(c.name)!.error !== undefined || ANSWERS[c.name] !== undefined, c.name);
  });

  test("each case renders exactly as transformers' apply_chat_template, and masks exactly the answers", async () => {
    let n = 0;
    for (const c of cases) {
      const want = expected.get(c.name)!;
      if (want.error !== undefined) continue;
      const { tok, chat, build } = await load(c, n++);
      assert.equal(chat.render(c.messages, false), want.text, `${c.name}: conversation`);
      const last = c.messages.map((m) => m.role).lastIndexOf("assistant");
      assert.equal(chat.render(c.messages.slice(0, last), true), want.prompt, `${c.name}: generation prompt`);

      const sample = build.sft("Messages", { messages: c.messages });
      assert.equal(tok.decode(sample.ids), want.text, `${c.name}: the tokens are the rendering`);
      assert.deepEqual(trainedRuns(tok, sample), ANSWERS[c.name], `${c.name}: trained tokens`);
      // The last answer's tokens start exactly where the model starts writing: after its generation prompt.
      let start = sample.mask.lastIndexOf(1) + 1;
      while (start > 0 && sample.mask[start - 1] === 1) start--;
      if (want.text!.startsWith(want.prompt!)) {
        assert.equal(tok.decode(sample.ids.slice(0, start)), want.prompt, `${c.name}: the prompt before the last answer`);
      } else {
        // Mistral Nemo writes the system message into the last user turn only; a conversation that
        // ends with an answer has no such turn, so the system message is not rendered (transformers
        // renders it the same way): the training text is not the inference prompt + answer.
        assert.equal(c.name, "mistral nemo with system");
        assert.ok(!want.text!.includes(c.messages[0]!.content));
      }
    }
  });

  test("preference pairs (DPO) learn only the last answer, chosen or rejected, under every template", async () => {
    let n = 200;
    for (const c of cases) {
      if (expected.get(c.name)!.error !== undefined) continue;
      const { tok, chat } = await load(c, n++);
      const dpo = new SampleBuilder({ tokenizer: tok, chat, trainMode: "DPO" });
      const turns = c.messages.filter((m) => m.role !== "system");
      const pair = dpo.pair([{ user: turns[0]!.content, assistant: turns[1]!.content }, { user: turns[2]!.content, chosen: turns[3]!.content, rejected: "不知道。" }]);
      const chosen = trainedRuns(tok, pair.chosen);
      assert.equal(chosen.length, 1, `${c.name}: one trained run`);
      assert.equal(chosen[0], ANSWERS[c.name]!.at(-1), `${c.name}: the chosen answer as SFT trains it`);
      const rejected = trainedRuns(tok, pair.rejected);
      assert.equal(rejected.length, 1, `${c.name}: one trained run`);
      assert.ok(rejected[0]!.includes("不知道。") && !rejected[0]!.includes(A2), `${c.name}: the rejected answer`);
    }
  });

  test("Gemma 2 refuses a system message: a user error naming the message, not a crash", async () => {
    const c = cases.find((x) => x.name === "gemma2 with system")!;
    assert.match(expected.get(c.name)!.error!, /System role not supported/, "transformers raises too");
    const { build } = await load(c, 100);
    assert.throws(() => build.sft("Messages", { messages: c.messages }), (error: unknown) => {
      assert.ok(error instanceof PipelineInputError);
      assert.match(error.message, /^messages\[0\]: the model's chat_template does not accept a system message \(it says: System role not supported\)/);
      return true;
    });
  });
});
