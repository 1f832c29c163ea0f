import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { InputLineError, readInputSamples } from "./input-samples.js";

describe("batch inference input lines", () => {
  test("every dataset format with prompts: history, the user turn to answer, the reference", () => {
    const lines = [
      [{ prompt: "q1", response: [["a1"]] }, { prompt: "q2", response: [["a2"], ["worse"]] }],
      [{ user: "u1", assistant: "b1" }, { user: "u2", chosen: "good", rejected: "bad" }],
      { messages: [{ role: "system", content: "s" }, { role: "user", content: "m" }, { role: "assistant", content: "r" }] },
      { messages: [{ role: "user", content: "only" }] },
      [{ prompt: "bare" }],
      { prompt: "plain" },
    ];
    const samples = readInputSamples(`${lines.map((l) => JSON.stringify(l)).join("\n")}\n\n`);
    assert.deepEqual(samples.map((s) => [s.messages, s.reference]), [
      [[{ role: "user", content: "q1" }, { role: "assistant", content: "a1" }, { role: "user", content: "q2" }], "a2"],
      [[{ role: "user", content: "u1" }, { role: "assistant", content: "b1" }, { role: "user", content: "u2" }], "good"],
      [[{ role: "system", content: "s" }, { role: "user", content: "m" }], "r"],
      [[{ role: "user", content: "only" }], null],
      [[{ role: "user", content: "bare" }], null],
      [[{ role: "user", content: "plain" }], null],
    ]);
    assert.deepEqual(samples[0]!.input, lines[0], "the line is echoed as read");
  });

  test("a line that is not JSON or has no prompt names its line", () => {
    assert.throws(() => readInputSamples('{"prompt":"ok"}\nnot json\n'), (e: unknown) => e instanceof InputLineError && e.message === "line 2: not JSON");
    assert.throws(() => readInputSamples('{"text":"no prompt"}\n'), /^Error: line 1: expected a conversation/);
    assert.throws(() => readInputSamples('[{"prompt":"q"},{"prompt":"q2"}]\n'), /line 1: turn 0 \(an earlier turn\) has no answer/);
    assert.throws(() => readInputSamples('{"messages":[{"role":"assistant","content":"x"}]}\n'), /line 1: messages hold no user message/);
  });
});
