import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { formatPath } from "@sailfin/contract";
import { LineProblem } from "./checks.js";
import { FORMATS, formatFromV1, formatFromV2, type DataFormat, formatInfo } from "./index.js";

/** Runs a checker; returns `{chars}` or `{field, reason}` of the first problem. */
function check(format: DataFormat, value: unknown): { chars: number } | { field: string; reason: string } {
  try {
    return { chars: formatInfo(format).check(value) };
  } catch (error) {
    if (!(error instanceof LineProblem)) throw error;
    return { field: formatPath(error.path) || "$", reason: error.message };
  }
}

function bad(format: DataFormat, value: unknown, field: string, reason?: RegExp): void {
  const result = check(format, value);
  assert.ok("field" in result, `expected ${JSON.stringify(value)} to be refused`);
  assert.equal(result.field, field, result.reason);
  if (reason) assert.match(result.reason, reason);
}

describe("format table", () => {
  test("V1 codes and V2 names resolve to the internal formats", () => {
    assert.equal(formatFromV1(20, 2000)?.name, "PromptResponse");
    assert.equal(formatFromV1(20, 2001)?.name, "PromptSortedResponses");
    assert.equal(formatFromV1(20, 2002)?.name, "PromptChosenRejected");
    assert.equal(formatFromV1(401, 40100)?.name, "Text");
    assert.equal(formatFromV1(20, 2010)?.name, "Messages");
    assert.equal(formatFromV1(402, 40200), undefined);
    assert.equal(formatFromV2("DPO_PromptChosenRejected")?.name, "PromptChosenRejected");
    assert.equal(formatFromV2("KTO_PromptChosenRejected")?.name, "PromptChosenRejected");
    assert.equal(formatFromV2("PromptSortedresponses")?.name, "PromptSortedResponses");
    assert.equal(formatFromV2("Messages")?.name, "Messages");
    assert.equal(formatFromV2("PromptImage"), undefined);
    for (const f of FORMATS) assert.ok(String(f.templateType).startsWith(String(f.projectType)), f.name);
  });
});

describe("PromptResponse", () => {
  test("single and multi-turn conversations, Chinese counted per character", () => {
    assert.deepEqual(check("PromptResponse", [{ prompt: "你好", response: [["你好！有什么可以帮你？"]] }]), { chars: 13 });
    assert.deepEqual(check("PromptResponse", [{ prompt: "Q1", response: [["A1"]] }, { prompt: "Q2", response: [["A2"]] }]), { chars: 8 });
  });
  test("emoji count as one character each (code points, not UTF-16 units)", () => {
    assert.deepEqual(check("PromptResponse", [{ prompt: "👍", response: [["好"]] }]), { chars: 2 });
  });
  test("bad shapes name the exact field", () => {
    bad("PromptResponse", { prompt: "Q", response: [["A"]] }, "$", /JSON array of turns/);
    bad("PromptResponse", [], "$", /at least one turn/);
    bad("PromptResponse", ["Q"], "[0]", /must be/);
    bad("PromptResponse", [{ prompt: "Q" }], "[0].response", /required/);
    bad("PromptResponse", [{ prompt: "", response: [["A"]] }], "[0].prompt", /non-empty/);
    bad("PromptResponse", [{ prompt: 3, response: [["A"]] }], "[0].prompt", /string/);
    bad("PromptResponse", [{ prompt: "Q", response: "A" }], "[0].response", /one list of one string/);
    bad("PromptResponse", [{ prompt: "Q", response: [["A"], ["B"]] }], "[0].response", /exactly one answer/);
    bad("PromptResponse", [{ prompt: "Q", response: [] }], "[0].response", /exactly one answer/);
    bad("PromptResponse", [{ prompt: "Q", response: ["A"] }], "[0].response[0]", /list of one string/);
    bad("PromptResponse", [{ prompt: "Q", response: [["A", "B"]] }], "[0].response[0]", /exactly one string/);
    bad("PromptResponse", [{ prompt: "Q", response: [[""]] }], "[0].response[0][0]", /non-empty/);
    bad("PromptResponse", [{ prompt: "问", response: [["答"]] }, { prompt: "问", response: [["  "]] }], "[1].response[0][0]", /non-empty/);
    bad("PromptResponse", [{ prompt: "Q", reponse: [["A"]] }], "[0].reponse", /unknown field/);
  });
});

describe("PromptSortedResponses", () => {
  test("the last turn ranks two or more answers", () => {
    assert.deepEqual(check("PromptSortedResponses", [{ prompt: "Q", response: [["best"], ["ok"]] }]), { chars: 7 });
    assert.deepEqual(check("PromptSortedResponses", [{ prompt: "上文", response: [["回答"]] }, { prompt: "问题", response: [["好"], ["中"], ["差"]] }]), { chars: 9 });
  });
  test("bad shapes", () => {
    bad("PromptSortedResponses", [{ prompt: "Q", response: [["only"]] }], "[0].response", /at least two/);
    bad("PromptSortedResponses", [{ prompt: "Q", response: [["a"], "b"] }], "[0].response[1]", /list of one string/);
    bad("PromptSortedResponses", [{ prompt: "Q", response: [["a"], ["b"]] }, { prompt: "Q", response: [["a"], ["b"]] }], "[0].response", /exactly one answer/);
  });
});

describe("PromptChosenRejected", () => {
  test("context turns then the preference pair", () => {
    assert.deepEqual(check("PromptChosenRejected", [{ user: "你好", assistant: "你好" }, { user: "天气", chosen: "晴天", rejected: "不知道" }]), { chars: 11 });
  });
  test("bad shapes", () => {
    bad("PromptChosenRejected", [{ user: "Q", chosen: "a" }], "[0].rejected", /required/);
    bad("PromptChosenRejected", [{ user: "Q", assistant: "A" }], "[0].assistant", /unknown field/);
    bad("PromptChosenRejected", [{ user: "Q", chosen: "a", rejected: "b" }, { user: "Q", chosen: "a", rejected: "b" }], "[0].chosen", /unknown field/);
    bad("PromptChosenRejected", [{ user: "Q", chosen: "same", rejected: "same" }], "[0].rejected", /differ/);
    bad("PromptChosenRejected", [{ user: 1, chosen: "a", rejected: "b" }], "[0].user", /string/);
  });
});

describe("Text", () => {
  test("exactly one string field, any name", () => {
    assert.deepEqual(check("Text", { text: "床前明月光" }), { chars: 5 });
    assert.deepEqual(check("Text", { content: "abc" }), { chars: 3 });
  });
  test("bad shapes", () => {
    bad("Text", ["text"], "$", /JSON object/);
    bad("Text", {}, "$", /one text field/);
    bad("Text", { text: "a", extra: "b" }, "extra", /exactly one field/);
    bad("Text", { text: 1 }, "text", /string/);
    bad("Text", { text: "" }, "text", /non-empty/);
  });
});

describe("Messages", () => {
  const ok = { messages: [{ role: "system", content: "你是助手" }, { role: "user", content: "你好" }, { role: "assistant", content: "您好！" }] };
  test("system, user, assistant", () => {
    assert.deepEqual(check("Messages", ok), { chars: 9 });
  });
  test("bad shapes", () => {
    bad("Messages", [], "$", /must be/);
    bad("Messages", {}, "messages", /required/);
    bad("Messages", { messages: [] }, "messages", /at least one/);
    bad("Messages", { messages: [{ role: "user", content: "Q" }] }, "messages[0].role", /last message must be from the assistant/);
    bad("Messages", { messages: [{ role: "user", content: "Q" }, { role: "bot", content: "A" }] }, "messages[1].role", /one of/);
    bad("Messages", { messages: [{ role: "user", content: "Q" }, { role: "system", content: "S" }, { role: "assistant", content: "A" }] }, "messages[1].role", /first message/);
    bad("Messages", { messages: [{ role: "user", content: 5 }, { role: "assistant", content: "A" }] }, "messages[0].content", /string/);
    bad("Messages", { messages: [{ role: "assistant", content: "A" }] }, "messages", /user message/);
    bad("Messages", { messages: [{ role: "user", content: "Q", name: "x" }, { role: "assistant", content: "A" }] }, "messages[0].name", /unknown field/);
    bad("Messages", { messages: ok.messages, extra: 1 }, "extra", /unknown field/);
  });
  test("OpenAI's per-answer weight: 0 or 1, on assistant messages, at least one answer trained", () => {
    const turns = (w0: unknown, w1: unknown) => ({ messages: [
      { role: "user", content: "Q1" }, { role: "assistant", content: "A1", weight: w0 }, { role: "user", content: "Q2" }, { role: "assistant", content: "A2", weight: w1 },
    ] });
    assert.deepEqual(check("Messages", turns(0, 1)), { chars: 8 });
    bad("Messages", turns(2, 1), "messages[1].weight", /must be 0 or 1; got 2/);
    bad("Messages", turns(0, "1"), "messages[3].weight", /must be 0 or 1/);
    bad("Messages", turns(0, 0), "messages", /nothing to train on/);
    bad("Messages", { messages: [{ role: "user", content: "Q", weight: 1 }, { role: "assistant", content: "A" }] }, "messages[0].weight", /assistant messages only/);
  });
});
