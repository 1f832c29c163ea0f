import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";
import { newId, nowIso, verifyWebhookSignature } from "@sailfin/contract";
import { startTestServer, testDialects, type TestServer } from "./harness.js";
import { pythonSdkMissing } from "./python-sdk.js";

/**
 * OpenAI's fine-tuning webhooks: a webhook following `fine_tuning_job` gets OpenAI's event body
 * (`fine_tuning.job.succeeded|failed|cancelled`) for the job status rows slice C's jobs write to
 * `events` (inserted here directly, as the jobs code would), signed both ways: Sailfin's
 * `X-Sailfin-Signature` and the Standard Webhooks headers that the official `openai` SDKs'
 * `webhooks.unwrap()` verify (Node in process; Python through .venv). Real server, real receiver.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
const BACKOFF_MS = 100;

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

async function startReceiver(answer: (request: Received) => number = () => 200) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(request);
      res.writeHead(answer(request)).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Runs tests/python/openai_webhook_unwrap.py over the deliveries (asynchronously: the server runs in this process). */
async function unwrapInPython(secret: string, deliveries: Received[]): Promise<any[]> {
  const child = spawn(`${root}.venv/bin/python`, [`${root}tests/python/openai_webhook_unwrap.py`, secret], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => { out += c.toString(); });
  child.stderr.on("data", (c: Buffer) => { err += c.toString(); });
  child.stdin.end(JSON.stringify(deliveries.map((d) => ({ body: d.body, headers: d.headers }))));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 0, err);
  return out.trim().split("\n").map((line) => JSON.parse(line));
}

for (const dialect of testDialects()) {
  describe(`OpenAI fine-tuning webhooks (${dialect})`, () => {
    let server: TestServer;
    const call = <T = any>(action: string, body: unknown) => server.admin.v2<T>("webhook", action, body);
    /** An `events` row as the jobs code writes one when an OpenAI job changes status. */
    const jobEvent = async (jobId: string, from: string | null, to: string) => {
      await server.server.res.db.insertInto("events").values({
        object_kind: "fine_tuning_job", object_id: jobId, at: nowIso(), actor: "system", from_state: from, to_state: to, reason: null,
      }).execute();
    };

    before(async () => {
      server = await startTestServer(dialect, {
        SAILFIN_WEBHOOK_POLL_MS: "30", SAILFIN_WEBHOOK_BACKOFF_MS: String(BACKOFF_MS), SAILFIN_WEBHOOK_TIMEOUT_MS: "2000",
      });
    });
    after(async () => { await server.close(); });

    test("succeeded, failed and cancelled arrive as OpenAI events that both official SDKs unwrap; other statuses are not sent", async () => {
      const receiver = await startReceiver();
      const tasksOnly = await startReceiver();
      try {
        const hook = await call("CreateWebhook", { url: receiver.url, objectKinds: ["fine_tuning_job"] });
        assert.deepEqual(hook.objectKinds, ["fine_tuning_job"]);
        const other = await call("CreateWebhook", { url: tasksOnly.url, objectKinds: ["task"] });
        const [ok, bad, stopped] = [newId("fineTuningJob"), newId("fineTuningJob"), newId("fineTuningJob")];
        await jobEvent(ok, null, "validating_files");
        await jobEvent(ok, "validating_files", "queued");
        await jobEvent(ok, "queued", "running");
        await jobEvent(ok, "running", "succeeded");
        await jobEvent(bad, "validating_files", "failed");
        await jobEvent(stopped, "queued", "cancelled");
        const before = Math.floor(Date.now() / 1000);

        await waitFor("three deliveries", async () => {
          const list = (await call("DescribeWebhookDeliveries", { webhookId: hook.webhookId, maxKeys: 100 })).deliveryList as any[];
          return list.length === 3 && list.every((d) => d.status === "delivered");
        });
        assert.equal(receiver.received.length, 3, "only the three statuses OpenAI sends webhooks for");
        const bodies = receiver.received.map((r) => JSON.parse(r.body));
        assert.deepEqual(bodies.map((b) => `${b.type} ${b.data.id}`).sort(), [
          `fine_tuning.job.cancelled ${stopped}`, `fine_tuning.job.failed ${bad}`, `fine_tuning.job.succeeded ${ok}`,
        ].sort());
        for (const [i, r] of receiver.received.entries()) {
          const body = bodies[i];
          assert.deepEqual(Object.keys(body), ["id", "object", "created_at", "type", "data"]);
          assert.match(body.id, /^evt_[a-z0-9]{12}$/);
          assert.equal(body.object, "event");
          assert.ok(Number.isInteger(body.created_at) && Math.abs(body.created_at - before) < 60, `unix seconds: ${body.created_at}`);
          assert.deepEqual(Object.keys(body.data), ["id"]);
          // Sailfin's own signature still comes with it.
          assert.ok(verifyWebhookSignature(hook.secret, r.headers["x-sailfin-timestamp"] as string, r.body, r.headers["x-sailfin-signature"] as string));
          assert.match(r.headers["webhook-id"] as string, /^whd-[a-z0-9]{12}$/);
          assert.equal(r.headers["webhook-timestamp"], r.headers["x-sailfin-timestamp"]);
          assert.match(r.headers["webhook-signature"] as string, /^v1,[A-Za-z0-9+/]{43}=$/);
        }

        // The official Node SDK, with the secret exactly as CreateWebhook returned it.
        const openai = new OpenAI({ apiKey: "unused", webhookSecret: hook.secret });
        for (const r of receiver.received) {
          const event = await openai.webhooks.unwrap(r.body, r.headers as Record<string, string>) as any;
          assert.equal(event.id, JSON.parse(r.body).id);
          assert.match(event.type, /^fine_tuning\.job\.(succeeded|failed|cancelled)$/);
        }
        const tampered = receiver.received[0]!;
        await assert.rejects(openai.webhooks.unwrap(tampered.body.replace("fine_tuning", "fine_tuninG"), tampered.headers as Record<string, string>),
          (error: Error) => error.constructor.name === "InvalidWebhookSignatureError");
        await assert.rejects(new OpenAI({ apiKey: "unused", webhookSecret: "0".repeat(64) }).webhooks.unwrap(tampered.body, tampered.headers as Record<string, string>),
          (error: Error) => error.constructor.name === "InvalidWebhookSignatureError");

        // The official Python SDK.
        const missing = pythonSdkMissing();
        if (missing === null) {
          const unwrapped = await unwrapInPython(hook.secret, [...receiver.received, { ...tampered, body: tampered.body.replace("event", "evenT") }]);
          assert.deepEqual(unwrapped.slice(0, 3).map((u) => `${u.ok} ${u.type} ${u.job} ${u.id}`),
            bodies.map((b) => `true ${b.type} ${b.data.id} ${b.id}`));
          assert.equal(unwrapped[3].ok, false, "a tampered body fails the Python SDK's check");
        }

        // The deliveries list names the kind and the OpenAI status.
        const list = (await call("DescribeWebhookDeliveries", { webhookId: hook.webhookId, maxKeys: 100 })).deliveryList as any[];
        assert.deepEqual(list.map((d) => `${d.event.objectKind} ${d.event.objectId} ${d.event.to}`).sort(), [
          `fine_tuning_job ${bad} failed`, `fine_tuning_job ${ok} succeeded`, `fine_tuning_job ${stopped} cancelled`,
        ].sort());
        assert.equal(tasksOnly.received.length, 0, "a webhook following tasks got fine-tuning job events");
        for (const id of [hook.webhookId, other.webhookId]) await call("DeleteWebhook", { webhookId: id });
      } finally {
        await receiver.close();
        await tasksOnly.close();
      }
    });

    test("a retried delivery keeps its event id and webhook-id", async () => {
      let calls = 0;
      const receiver = await startReceiver(() => (++calls === 1 ? 503 : 200));
      try {
        const hook = await call("CreateWebhook", { url: receiver.url, objectKinds: ["fine_tuning_job"] });
        const jobId = newId("fineTuningJob");
        await jobEvent(jobId, "running", "succeeded");
        await waitFor("the retried delivery", () => receiver.received.length === 2);
        const [first, second] = receiver.received as [Received, Received];
        assert.equal(first.body, second.body, "same body (same evt_ id) on every attempt");
        assert.equal(first.headers["webhook-id"], second.headers["webhook-id"]);
        const openai = new OpenAI({ apiKey: "unused", webhookSecret: hook.secret });
        assert.equal((await openai.webhooks.unwrap(second.body, second.headers as Record<string, string>) as any).data.id, jobId);
        await call("DeleteWebhook", { webhookId: hook.webhookId });
      } finally {
        await receiver.close();
      }
    });
  });
}
