import type { FastifyReply } from "fastify";
import { SailfinError } from "@sailfin/contract";
import { startChat, type ChatParams, type EngineDelta, type EngineResources, type EngineUsage, type FindChatTarget } from "@sailfin/engine";

/** A chat call whose engine has answered: the first delta is in hand, so no byte was sent yet. */
interface OpenedChat {
  readonly promptTokens: number;
  readonly first: IteratorResult<EngineDelta, EngineUsage>;
  readonly rest: AsyncGenerator<EngineDelta, EngineUsage>;
}

/**
 * Resolves `model`, starts the call and waits for the engine's first delta, so every refusal
 * (unknown model, not serving, engine down, prompt too long) still renders as a whole error
 * answer in the route's envelope. A caller that hangs up cancels the generation.
 */
export async function openChat(
  res: EngineResources, find: FindChatTarget, model: string, params: ChatParams, reply: FastifyReply, modelField: string | undefined,
): Promise<OpenedChat> {
  const target = await find(res, model);
  if (target === null) {
    // V1 clients compare error_msg with the platform's exact text: only V2 gets the detail.
    throw new SailfinError("ModelNotFound", modelField === undefined ? {} : { field: modelField, detail: `no service answers to ${model}` });
  }
  const controller = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  const call = await startChat(res, target, params, controller.signal);
  const first = await call.deltas.next();
  return { promptTokens: call.promptTokens, first, rest: call.deltas };
}

/** Every delta of an opened call, the first included; the return value is the usage. */
export async function* deltasOf(chat: OpenedChat): AsyncGenerator<EngineDelta, EngineUsage> {
  let step = chat.first;
  while (step.done !== true) {
    yield step.value;
    step = await chat.rest.next();
  }
  return step.value;
}

/** Starts a `text/event-stream` answer on the raw socket (Fastify steps aside). */
export function beginEventStream(reply: FastifyReply, requestId: string): void {
  reply.hijack();
  // The media type must not contain "json": Python and JS read a JSON type as an error body.
  reply.raw.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-bce-request-id": requestId });
}

/** One `data:` event; false when the caller has gone. */
export function writeEvent(reply: FastifyReply, data: unknown): boolean {
  if (reply.raw.destroyed) return false;
  reply.raw.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  return true;
}
