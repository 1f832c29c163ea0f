import { createInterface } from "node:readline/promises";
import type { ChatMessage, ChatUsage, SailfinClient } from "@sailfin/sdk";
import { int, num, str, type FlagValues } from "../args.js";
import type { Command, Context } from "../command.js";
import { UsageError } from "../errors.js";
import { json } from "../output.js";

/**
 * `sailfin chat ENDPOINT`: talks to a deployed service over V2 `/v2/chat/completions` (the SDK
 * gets and keeps the bearer token). One question with --message (or on stdin), or, on a
 * terminal, a conversation: each answer streams to stdout as it is generated and the history
 * is sent again with every turn. Token counts and speed go to stderr.
 */

export const chatCommand: Command = {
  name: "chat",
  usage: "ENDPOINT [--message TEXT] [--system TEXT] [--max-tokens N] [--temperature T] [--json]",
  summary: "chat with a deployed service (its endpoint or svco- id); no --message on a terminal: a conversation",
  flags: { message: { type: "string" }, system: { type: "string" }, "max-tokens": { type: "string" }, temperature: { type: "string" } },
  positionals: { names: ["ENDPOINT"], min: 1 },
  run: (ctx, [endpoint], flags) => chat(ctx, endpoint!, flags),
};

interface Settings {
  readonly model: string;
  readonly maxTokens: number | undefined;
  readonly temperature: number | undefined;
}

async function chat(ctx: Context, model: string, flags: FlagValues): Promise<number> {
  const settings: Settings = { model, maxTokens: int(flags, "max-tokens", { min: 1 }), temperature: num(flags, "temperature", { min: 0, max: 2 }) };
  const system = str(flags, "system");
  const history: ChatMessage[] = system === undefined ? [] : [{ role: "system", content: system }];
  let message = str(flags, "message");
  const conversation = message === undefined && process.stdin.isTTY === true;
  if (conversation && ctx.json) throw new UsageError("--json answers one --message; a conversation is for people");
  const client = await ctx.client();
  if (!conversation) {
    // A piped question: `echo "Hi" | sailfin chat my-endpoint`.
    message ??= (await readStdin()).trim();
    if (message === "") throw new UsageError("`chat` needs --message TEXT (or the question on stdin, or a terminal for a conversation)");
    history.push({ role: "user", content: message });
    if (ctx.json) {
      ctx.out(json(await client.chat.completions(request(settings, history))));
      return 0;
    }
    await streamAnswer(client, settings, history);
    return 0;
  }
  process.stderr.write(`chatting with ${model}; an empty line or Ctrl-D ends\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    for (;;) {
      const line = await rl.question("> ").catch(() => "");
      if (line.trim() === "") return 0;
      history.push({ role: "user", content: line });
      history.push({ role: "assistant", content: await streamAnswer(client, settings, history) });
    }
  } finally {
    rl.close();
  }
}

function request(settings: Settings, messages: readonly ChatMessage[]) {
  return {
    model: settings.model, messages,
    ...(settings.maxTokens === undefined ? {} : { max_completion_tokens: settings.maxTokens }),
    ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
  };
}

/** Streams one answer to stdout; returns its text. Ctrl-C stops the answer (and the request). */
async function streamAnswer(client: SailfinClient, settings: Settings, history: readonly ChatMessage[]): Promise<string> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", onInterrupt);
  const started = performance.now();
  let firstAt: number | undefined;
  let text = "";
  let usage: ChatUsage | null = null;
  let finish: string | null = null;
  try {
    for await (const event of client.chat.stream(request(settings, history), { signal: controller.signal })) {
      if (event.type === "delta") {
        firstAt ??= performance.now();
        text += event.content;
        process.stdout.write(event.content);
      } else {
        usage = event.usage;
        finish = event.finishReason;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    finish = "interrupted";
  } finally {
    process.off("SIGINT", onInterrupt);
  }
  process.stdout.write("\n");
  process.stderr.write(`${stats(usage, finish, started, firstAt)}\n`);
  return text;
}

/** `(12 tokens in 0.8 s, 15.0 tokens/s, stop)`: speed counted from the first token. */
function stats(usage: ChatUsage | null, finish: string | null, started: number, firstAt: number | undefined): string {
  const seconds = (performance.now() - started) / 1000;
  const tokens = usage?.completion_tokens;
  if (tokens === undefined) return `(${seconds.toFixed(1)} s${finish === null ? "" : `, ${finish}`})`;
  const generating = firstAt === undefined ? seconds : (performance.now() - firstAt) / 1000;
  const speed = tokens > 1 && generating > 0 ? `, ${((tokens - 1) / generating).toFixed(1)} tokens/s` : "";
  return `(${tokens} tokens in ${seconds.toFixed(1)} s${speed}${finish === null ? "" : `, ${finish}`})`;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY === true) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
