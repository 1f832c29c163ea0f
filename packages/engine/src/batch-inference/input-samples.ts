import type { ChatMessage } from "@sailfin/data";

/**
 * What batch inference asks of one input line: the conversation up to the user turn to answer,
 * and the reference answer when the line has one. Every Sailfin dataset format with prompts is
 * read (Text has none), so the same reader serves a dataset version and a `bos:/` file:
 * - PromptResponse / PromptSortedResponses / a bare prompt: `[{"prompt", "response"?}, …]`
 *   (earlier turns are history; the last turn's first response is the reference);
 * - PromptChosenRejected: `[{"user", "assistant"}, …, {"user", "chosen", …}]` (reference: chosen);
 * - Messages: `{"messages": [...]}` answered after its last user message (reference: the
 *   assistant message that follows it, if any);
 * - `{"prompt": "…"}`: one user turn.
 */
export interface InputSample {
  readonly messages: ChatMessage[];
  readonly reference: string | null;
  /** The line as read, echoed into the result. */
  readonly input: unknown;
}

/** A line that is none of the shapes above; `line` is 1-based. */
export class InputLineError extends Error {
  constructor(line: number, detail: string) {
    super(`line ${line}: ${detail}`);
  }
}

const text = (value: unknown): value is string => typeof value === "string";
const firstAnswer = (response: unknown): string | null =>
  Array.isArray(response) && Array.isArray(response[0]) && text(response[0][0]) ? response[0][0] : null;

/** Reads one parsed line; throws a plain Error saying what is wrong. */
function sampleOf(value: unknown): InputSample {
  if (Array.isArray(value)) {
    if (value.length === 0) throw new Error("an empty conversation");
    const history: ChatMessage[] = [];
    for (const [i, turn] of value.entries()) {
      const t = turn as Record<string, unknown> | null;
      if (t === null || typeof t !== "object") throw new Error(`turn ${i} is not an object`);
      const user = text(t.prompt) ? t.prompt : text(t.user) ? t.user : null;
      if (user === null) throw new Error(`turn ${i} has no "prompt" (or "user") text`);
      if (i === value.length - 1) {
        const reference = text(t.chosen) ? t.chosen : firstAnswer(t.response);
        return { messages: [...history, { role: "user", content: user }], reference, input: value };
      }
      const answer = text(t.assistant) ? t.assistant : firstAnswer(t.response);
      if (answer === null) throw new Error(`turn ${i} (an earlier turn) has no answer`);
      history.push({ role: "user", content: user }, { role: "assistant", content: answer });
    }
  }
  const object = value as Record<string, unknown> | null;
  if (object !== null && typeof object === "object" && Array.isArray(object.messages)) {
    const messages = object.messages as Array<{ role?: unknown; content?: unknown }>;
    const lastUser = messages.map((m) => m.role).lastIndexOf("user");
    if (lastUser < 0) throw new Error("messages hold no user message");
    for (const [i, m] of messages.entries()) {
      if (!text(m.role) || !text(m.content)) throw new Error(`messages[${i}] needs a role and a text content`);
    }
    const next = messages[lastUser + 1];
    return {
      messages: messages.slice(0, lastUser + 1).map((m) => ({ role: m.role as string, content: m.content as string })),
      reference: next?.role === "assistant" ? next.content as string : null, input: value,
    };
  }
  if (object !== null && typeof object === "object" && text(object.prompt)) {
    return { messages: [{ role: "user", content: object.prompt }], reference: null, input: value };
  }
  throw new Error('expected a conversation ([{"prompt": …}]), {"messages": […]} or {"prompt": "…"}');
}

/**
 * The samples of a JSONL text, in order; blank lines are skipped. Throws InputLineError at the
 * first line that is not JSON or has no prompt.
 *
 * @example readInputSamples('[{"prompt":"hi","response":[["hello"]]}]\n') // [{ messages: [{ role: "user", content: "hi" }], reference: "hello", … }]
 */
export function readInputSamples(jsonl: string, firstLine = 1): InputSample[] {
  const out: InputSample[] = [];
  for (const [i, line] of jsonl.split("\n").entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new InputLineError(firstLine + i, "not JSON");
    }
    try {
      out.push(sampleOf(value));
    } catch (error) {
      throw new InputLineError(firstLine + i, (error as Error).message);
    }
  }
  return out;
}
