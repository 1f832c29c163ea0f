import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isSailfinError } from "@sailfin/contract";
import { streamCompletion, type EngineDelta, type EngineEndpoint, type EngineUsage } from "./engine-client.js";

/**
 * The engine client's side of the wire (interfaces §2) against scripted answers on a real port:
 * an SSE stream cut at awkward places, the engine's refusals, a dead port. The happy path against
 * the runtime's own engine is tests/src/chat-e2e.test.ts.
 */

const request = { promptIds: [5, 6, 7], maxTokens: 8, temperature: 0, topP: 1, stop: ["\n\n"], stopTokenIds: [2], repetitionPenalty: 1 };

async function withEngine(handler: (req: IncomingMessage, body: any, res: ServerResponse) => void, fn: (endpoint: EngineEndpoint) => Promise<void>): Promise<void> {
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (d: Buffer) => { text += d.toString(); });
    req.on("end", () => handler(req, JSON.parse(text || "{}"), res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await fn({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: "k", servedModelName: "m" });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function drain(it: AsyncGenerator<EngineDelta, EngineUsage>): Promise<{ deltas: EngineDelta[]; usage: EngineUsage }> {
  const deltas: EngineDelta[] = [];
  for (let step = await it.next(); ; step = await it.next()) {
    if (step.done === true) return { deltas, usage: step.value };
    deltas.push(step.value);
  }
}

test("sends token ids, the bearer key and the sampling fields; reads deltas split anywhere, the finish reason and the usage", async () => {
  await withEngine((req, body, res) => {
    assert.equal(req.headers.authorization, "Bearer k");
    assert.deepEqual(body.prompt, [5, 6, 7]);
    assert.equal(body.model, "m");
    assert.deepEqual(body.stop_token_ids, [2]);
    assert.deepEqual(body.stream_options, { include_usage: true });
    res.writeHead(200, { "content-type": "text/event-stream" });
    const wire = [
      `data: ${JSON.stringify({ choices: [{ index: 0, text: "he", finish_reason: null }] })}\n\n`,
      `data: ${JSON.stringify({ choices: [{ index: 0, text: "llo", finish_reason: "stop" }] })}\n\n`,
      `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n`,
      "data: [DONE]\n\n",
    ].join("");
    // Bytes in 7-byte pieces: lines and JSON cut mid-way.
    for (let i = 0; i < wire.length; i += 7) res.write(wire.slice(i, i + 7));
    res.end();
  }, async (endpoint) => {
    const { deltas, usage } = await drain(streamCompletion(endpoint, request, new AbortController().signal));
    assert.deepEqual(deltas, [{ text: "he", finishReason: null }, { text: "llo", finishReason: "stop" }]);
    assert.deepEqual(usage, { promptTokens: 3, completionTokens: 2 });
  });
});

test("the engine's 400 is the caller's (InvalidParameter on messages); other statuses, broken streams and a dead port are EngineUnavailable", async () => {
  const expectError = async (handler: Parameters<typeof withEngine>[0], id: string, field?: string) => withEngine(handler, async (endpoint) => {
    await assert.rejects(drain(streamCompletion(endpoint, request, new AbortController().signal)), (error: unknown) => {
      assert.ok(isSailfinError(error), String(error));
      assert.equal(error.id, id);
      if (field !== undefined) assert.equal(error.field, field);
      return true;
    });
  });
  await expectError((_q, _b, res) => { res.writeHead(400, { "content-type": "application/json" }); res.end(JSON.stringify({ error: { message: "too long", param: "prompt" } })); }, "InvalidParameter", "messages");
  await expectError((_q, _b, res) => { res.writeHead(401); res.end("{}"); }, "EngineUnavailable");
  await expectError((_q, _b, res) => { res.writeHead(503); res.end(JSON.stringify({ error: { message: "stopping", code: "engine_stopping" } })); }, "EngineUnavailable");
  await expectError((_q, _b, res) => { res.writeHead(200); res.end("data: {not json\n\n"); }, "EngineUnavailable");
  await expectError((_q, _b, res) => { res.writeHead(200); res.end(`data: ${JSON.stringify({ choices: [{ text: "x", finish_reason: null }] })}\n\n`); }, "EngineUnavailable");
  const dead = { url: "http://127.0.0.1:1", apiKey: null, servedModelName: "m" };
  await assert.rejects(drain(streamCompletion(dead, request, new AbortController().signal)), (e: unknown) => isSailfinError(e) && e.id === "EngineUnavailable");
});

test("an aborted call stops reading and says it was cancelled", async () => {
  await withEngine((_q, _b, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${JSON.stringify({ choices: [{ text: "a", finish_reason: null }] })}\n\n`);
    // Never ends: only the abort stops the client.
  }, async (endpoint) => {
    const controller = new AbortController();
    const it = streamCompletion(endpoint, request, controller.signal);
    assert.deepEqual((await it.next()).value, { text: "a", finishReason: null });
    controller.abort();
    await assert.rejects(it.next(), (e: unknown) => isSailfinError(e) && e.id === "EngineUnavailable" && /cancelled/.test(e.message));
  });
});
