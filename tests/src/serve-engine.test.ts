import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { RUNTIME_SPECS, RuntimeEvent } from "@sailfin/contract";
import { writeTinyModel } from "@sailfin/engine";
import { LocalExecutor, findPython } from "@sailfin/worker";

/**
 * The runtime's `serve` recipe the way the worker runs it (LocalExecutor, spec.json, events on
 * stdout), answering the official `openai` Node SDK: `ready` carries the URL, the engine takes a
 * bearer key, streams, and SIGTERM (the run's abort) ends it with `stopped` and exit 0.
 */

const KEY = "sk-serve-engine-test";
let root: string;
let modelDir: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "sailfin-serve-engine-"));
  modelDir = join(root, "tiny");
  await writeTinyModel(modelDir, { architecture: "qwen2", seed: 3 });
});

after(() => rmSync(root, { recursive: true, force: true }));

test("serve through the local executor: ready → the openai SDK's completions (whole and streamed) → abort → stopped, exit 0", async () => {
  const keyFile = join(root, "key");
  writeFileSync(keyFile, `${KEY}\n`);
  chmodSync(keyFile, 0o600);
  const spec = { version: 1, modelDir, servedModelName: "tiny-svc", host: "127.0.0.1", port: 0, apiKeyFile: keyFile, device: "cpu", maxBatchSize: 4 };
  assert.ok(RUNTIME_SPECS.serve.safeParse(spec).success);
  const specPath = join(root, "serve.json");
  writeFileSync(specPath, JSON.stringify(spec));

  const events: RuntimeEvent[] = [];
  const abort = new AbortController();
  let ready!: (url: string) => void;
  const url = new Promise<string>((resolve) => { ready = resolve; });
  const executor = new LocalExecutor({ python: await findPython(), graceMs: 20_000 });
  const ended = executor.run({
    recipe: "serve", jobKey: "svc/serve", specPath, signal: abort.signal,
    onLine: (line) => {
      const parsed = RuntimeEvent.safeParse(JSON.parse(line));
      assert.ok(parsed.success, line);
      events.push(parsed.data);
      if (parsed.data.event === "ready") ready(parsed.data.url);
    },
  });
  const base = await Promise.race([url, ended.then((r) => { throw new Error(`the engine exited before ready: ${r.stderrTail}`); })]);
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);

  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0 });
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ["tiny-svc"]);
  // ignore_eos is vLLM's extension (the SDK sends unknown keys as they are): every answer is 12 tokens.
  const body: OpenAI.CompletionCreateParamsNonStreaming & { ignore_eos: boolean } = {
    model: "tiny-svc", prompt: [5, 6, 7, 8], max_tokens: 12, temperature: 0, ignore_eos: true,
  };
  const whole = await client.completions.create(body);
  assert.equal(whole.object, "text_completion");
  assert.equal(whole.choices[0]!.finish_reason, "length");
  assert.deepEqual(whole.usage, { prompt_tokens: 4, completion_tokens: 12, total_tokens: 16 });
  const stream = await client.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.text ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, whole.choices[0]!.text);
  assert.deepEqual(usage, whole.usage);
  await assert.rejects(new OpenAI({ baseURL: `${base}/v1`, apiKey: "sk-wrong", maxRetries: 0 }).completions.create(body),
    (error: unknown) => error instanceof OpenAI.AuthenticationError && (error.error as { code?: string }).code === "invalid_api_key");
  await assert.rejects(client.completions.create({ ...body, model: "other" }),
    (error: unknown) => error instanceof OpenAI.NotFoundError);

  abort.abort();
  const result = await ended;
  assert.equal(result.exitCode, 0, result.stderrTail);
  assert.deepEqual(events.map((e) => e.event), ["ready", "stopped"]);
  assert.ok(!result.stderrTail.includes(KEY), "the key is never logged");
});
