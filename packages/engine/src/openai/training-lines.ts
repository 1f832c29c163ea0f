import { formatPath } from "@sailfin/contract";
import { LineProblem, describeType, fail, formatInfo, isObject, type DataFormat, type JsonPath } from "@sailfin/data";

/**
 * OpenAI's fine-tuning lines turned into Sailfin dataset records, one line at a time
 * ([OAS-old] `FineTuneChatRequestInput`, `FineTunePreferenceRequestInput`):
 *
 * | OpenAI line                                                                   | kind         | Sailfin format        |
 * |-------------------------------------------------------------------------------|--------------|-----------------------|
 * | `{"messages": [...], "tools"?, "parallel_tool_calls"?}`                       | `chat`       | `Messages` (`weight` kept) |
 * | `{"input": {"messages": [...]}, "preferred_output": [assistant], "non_preferred_output": [assistant]}` | `preference` | `PromptChosenRejected` |
 *
 * What Sailfin cannot train on is refused by name ("not supported"): tools and function calls,
 * `tool`/`function` messages, images and other non-text parts, a message `name`, and a system
 * message in preference data (PromptChosenRejected has no system field). The converted record is
 * then checked by its Sailfin format, so both dialects see the same rules.
 */
export type OpenAiDataKind = "chat" | "preference";

export const DATA_KIND_FORMAT: Readonly<Record<OpenAiDataKind, DataFormat>> = {
  chat: "Messages",
  preference: "PromptChosenRejected",
};

interface ConvertedLine {
  readonly kind: OpenAiDataKind;
  readonly record: unknown;
  /** Code points of the record's text (what Qianfan counts as characters). */
  readonly characters: number;
}

/** Where and why a line was refused: `messages[1].weight must be 0 or 1`. */
export function describeLineProblem(problem: LineProblem): string {
  const field = formatPath(problem.path);
  return field === "" ? problem.message : `${field} ${problem.message}`;
}

/**
 * Converts one parsed line; throws a `LineProblem` (path from the line's root) when it is not a
 * line of either kind, or not of `expected` (a file holds one kind).
 *
 * @example convertOpenAiLine({ messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello", weight: 1 }] }, null).kind // "chat"
 */
export function convertOpenAiLine(value: unknown, expected: OpenAiDataKind | null): ConvertedLine {
  if (!isObject(value)) fail([], `must be a JSON object, got ${describeType(value)}`);
  const kind: OpenAiDataKind | null = "messages" in value ? "chat" : "input" in value ? "preference" : null;
  if (kind === null) {
    fail([], 'must be a chat example {"messages": [...]} or a preference example {"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}');
  }
  if (expected !== null && kind !== expected) {
    fail([], `is a ${kind} example, but the file's first example is a ${expected} example: one file holds one kind`);
  }
  const record = kind === "chat" ? chatRecord(value) : preferenceRecord(value);
  try {
    return { kind, record, characters: formatInfo(DATA_KIND_FORMAT[kind]).check(record) };
  } catch (error) {
    // Messages keeps the line's own paths; PromptChosenRejected's are its turns', so say whose.
    if (!(error instanceof LineProblem) || kind === "chat") throw error;
    fail([], `(as PromptChosenRejected ${formatPath(error.path) || "$"}) ${error.message}`);
  }
}

function chatRecord(line: Record<string, unknown>): unknown {
  allowOnly(line, [], ["messages", "tools", "parallel_tool_calls", "functions"]);
  refuseTools(line, []);
  return { messages: messagesOf(line.messages, ["messages"], true) };
}

function preferenceRecord(line: Record<string, unknown>): unknown {
  allowOnly(line, [], ["input", "preferred_output", "non_preferred_output", "preferred_completion", "non_preferred_completion"]);
  const input = line.input;
  if (!isObject(input)) fail(["input"], `must be an object {"messages": [...]}, got ${describeType(input)}`);
  allowOnly(input, ["input"], ["messages", "tools", "parallel_tool_calls", "functions"]);
  refuseTools(input, ["input"]);
  const messages = messagesOf(input.messages, ["input", "messages"], false);
  const chosen = answerOf(line, "preferred_output", "preferred_completion");
  const rejected = answerOf(line, "non_preferred_output", "non_preferred_completion");
  // PromptChosenRejected: earlier turns {user, assistant}, the last {user, chosen, rejected}.
  const turns: Array<Record<string, string>> = [];
  messages.forEach((m, i) => {
    const path = ["input", "messages", i, "role"];
    if (m.role === "system") fail(path, "a system message is not supported in preference data (its Sailfin format has no system prompt)");
    const want = i % 2 === 0 ? "user" : "assistant";
    if (m.role !== want) fail(path, `must be ${want}: the input alternates user and assistant messages, starting with user`);
    if (want === "user") turns.push({ user: m.content });
    else turns[turns.length - 1]!.assistant = m.content;
  });
  if (messages.length % 2 === 0) fail(["input", "messages"], "must end with a user message (the prompt the outputs answer)");
  // Identical answers carry no preference signal: almost always a copy-paste slip.
  if (chosen === rejected) fail([line.non_preferred_output !== undefined ? "non_preferred_output" : "non_preferred_completion"], "must differ from the preferred output");
  const last = turns[turns.length - 1]!;
  last.chosen = chosen;
  last.rejected = rejected;
  return turns;
}

interface PlainMessage {
  role: string;
  content: string;
  weight?: 0 | 1;
}

/** The messages' roles and text; `weights`: whether assistant messages may carry `weight`. */
function messagesOf(value: unknown, path: JsonPath, weights: boolean): PlainMessage[] {
  if (value === undefined) fail(path, "is required");
  if (!Array.isArray(value)) fail(path, `must be an array of messages, got ${describeType(value)}`);
  if (value.length === 0) fail(path, "must hold at least one message");
  return value.map((message, i) => {
    const at = [...path, i];
    if (!isObject(message)) fail(at, `must be a message object, got ${describeType(message)}`);
    const role = message.role;
    if (role === "tool" || role === "function") fail([...at, "role"], `${JSON.stringify(role)} is not supported (no tool or function calls)`);
    if (role !== "system" && role !== "user" && role !== "assistant") {
      fail([...at, "role"], `must be system, user or assistant; got ${JSON.stringify(role)}`);
    }
    for (const key of ["tool_calls", "function_call", "name"]) {
      if (message[key] !== undefined && message[key] !== null) fail([...at, key], "is not supported");
    }
    allowOnly(message, at, ["role", "content", "weight", "tool_calls", "function_call", "name", "refusal"]);
    if (message.refusal !== undefined && message.refusal !== null) fail([...at, "refusal"], "is not supported");
    const out: PlainMessage = { role, content: textOf(message.content, [...at, "content"]) };
    if (message.weight !== undefined) {
      if (!weights) fail([...at, "weight"], "is not supported in preference data");
      if (role !== "assistant") fail([...at, "weight"], "is allowed on assistant messages only");
      if (message.weight !== 0 && message.weight !== 1) fail([...at, "weight"], `must be 0 or 1; got ${JSON.stringify(message.weight)}`);
      out.weight = message.weight;
    }
    return out;
  });
}

/** A preferred or non-preferred answer: one assistant message (`…_output`) or its legacy `…_completion` name. */
function answerOf(line: Record<string, unknown>, name: string, legacy: string): string {
  const key = line[name] !== undefined ? name : line[legacy] !== undefined ? legacy : null;
  if (key === null) fail([name], "is required");
  if (line[name] !== undefined && line[legacy] !== undefined) fail([legacy], `give either ${name} or ${legacy}, not both`);
  const value = line[key];
  if (!Array.isArray(value) || value.length !== 1) fail([key], `must be an array holding one assistant message, got ${describeType(value)}${Array.isArray(value) ? ` of ${value.length}` : ""}`);
  const [message] = messagesOf(value, [key], false);
  if (message!.role !== "assistant") fail([key, 0, "role"], "must be assistant");
  return message!.content;
}

/** A message's text: a string, or text parts (joined); any other part is not supported. */
function textOf(value: unknown, path: JsonPath): string {
  if (typeof value === "string") {
    if (value.trim() === "") fail(path, "must be a non-empty string");
    return value;
  }
  if (value === undefined || value === null) fail(path, "is required (a message without text is not supported)");
  if (!Array.isArray(value)) fail(path, `must be a string or an array of text parts, got ${describeType(value)}`);
  const text = value.map((part, i) => {
    if (!isObject(part)) fail([...path, i], `must be a content part object, got ${describeType(part)}`);
    if (part.type !== "text") fail([...path, i, "type"], `${JSON.stringify(part.type)} content is not supported (text only)`);
    if (typeof part.text !== "string") fail([...path, i, "text"], "must be a string");
    return part.text;
  }).join("");
  if (text.trim() === "") fail(path, "must hold some text");
  return text;
}

function refuseTools(object: Record<string, unknown>, path: JsonPath): void {
  for (const key of ["tools", "functions"]) {
    const value = object[key];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) fail([...path, key], "is not supported (no tool or function calls)");
  }
}

function allowOnly(object: Record<string, unknown>, path: JsonPath, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) fail([...path, key], `unknown field; expected only ${allowed.join(", ")}`);
  }
}
