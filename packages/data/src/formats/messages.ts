import { describeType, expectObject, expectText, fail } from "./checks.js";

const ROLES = ["system", "user", "assistant"] as const;

/**
 * OpenAI chat fine-tuning lines (Sailfin extension; V1 template 2010, V2 `Messages`):
 * `{"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}`. A system
 * message may only come first, there must be a user message, and the last message is the
 * assistant's (the answer trained on). An assistant message may carry OpenAI's `weight`: 1
 * (the default) trains on it, 0 keeps it as context only; at least one answer must be trained.
 *
 * @example checkMessages({ messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }] })
 */
export function checkMessages(value: unknown): number {
  const object = expectObject(value, [], ["messages"], '{"messages": [...]}');
  const messages = object.messages;
  if (messages === undefined) fail(["messages"], "is required");
  if (!Array.isArray(messages)) fail(["messages"], `must be an array of messages; got ${describeType(messages)}`);
  if (messages.length === 0) fail(["messages"], "must hold at least one user and one assistant message");
  let characters = 0;
  let users = 0;
  let trained = 0;
  messages.forEach((message, i) => {
    const m = expectObject(message, ["messages", i], ["role", "content", "weight"], '{"role": "...", "content": "..."}');
    const role = m.role;
    if (role === undefined) fail(["messages", i, "role"], "is required");
    if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
      fail(["messages", i, "role"], `must be one of ${ROLES.join(", ")}; got ${JSON.stringify(role)}`);
    }
    if (role === "system" && i !== 0) fail(["messages", i, "role"], "a system message may only be the first message");
    if (role === "user") users++;
    if (m.weight !== undefined) {
      if (role !== "assistant") fail(["messages", i, "weight"], "is allowed on assistant messages only");
      if (m.weight !== 0 && m.weight !== 1) fail(["messages", i, "weight"], `must be 0 or 1; got ${JSON.stringify(m.weight)}`);
    }
    if (role === "assistant" && m.weight !== 0) trained++;
    characters += expectText(m.content, ["messages", i, "content"]);
  });
  const last = messages.length - 1;
  if ((messages[last] as { role: string }).role !== "assistant") {
    fail(["messages", last, "role"], "the last message must be from the assistant");
  }
  if (users === 0) fail(["messages"], "must hold at least one user message");
  if (trained === 0) fail(["messages"], "every assistant message has weight 0: nothing to train on");
  return characters;
}
