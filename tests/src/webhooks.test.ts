import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { verifyWebhookSignature } from "@sailfin/contract";
import { startTestServer, testDialects, v2Raw, type TestServer } from "./harness.js";
import { TINY, importModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";

/**
 * Signed webhooks over both dialects: registrations (`/v2/webhook`), signed deliveries to a real
 * local receiver, retries with backoff and their record, and receivers that are down or hang
 * while the API keeps answering. The state changes come from real model imports (a version goes
 * Creating → Ready), the cheapest objects to make through the API.
 */

const BACKOFF_MS = 100;
const TIMEOUT_MS = 300;
const MAX_ATTEMPTS = 4;
const SOURCE = { bucket: "hub", objectPath: "llama" };

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

/** A local receiver; `answer` gives each request's status, or "hang" to never answer. */
async function startReceiver(answer: (request: Received) => number | "hang" = () => 200) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      received.push(request);
      const status = answer(request);
      if (status !== "hang") res.writeHead(status).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** Requests whose event is about `objectId`. */
    about: (objectId: string) => received.filter((r) => JSON.parse(r.body).event.objectId === objectId),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A port nothing listens on (bound, then released). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hook`;
}

async function waitFor(
  what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000, state: () => Promise<unknown> = async () => "",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${JSON.stringify(await state())}`);
    await sleep(20);
  }
}

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny.remove(); });

for (const dialect of testDialects()) {
  describe(`webhooks (${dialect})`, () => {
    let server: TestServer;
    let sets = 0;
    const call = <T = any>(action: string, body: unknown) => server.admin.v2<T>("webhook", action, body);
    const deliveries = async (webhookId: string) =>
      (await call("DescribeWebhookDeliveries", { webhookId, maxKeys: 100 })).deliveryList as any[];
    /** A new model version through the real import: two events, null → Creating → Ready. */
    const newVersion = async () => (await importModel(server, `webhook-set-${++sets}`, SOURCE)).versionId;

    before(async () => {
      server = await startTestServer(dialect, {
        SAILFIN_WEBHOOK_POLL_MS: "30", SAILFIN_WEBHOOK_BACKOFF_MS: String(BACKOFF_MS),
        SAILFIN_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS), SAILFIN_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      });
      await stageFolder(server, tiny.dir("llama"), SOURCE.bucket, SOURCE.objectPath);
    });
    after(async () => { await server.close(); });

    test("a state change arrives signed, only at the webhooks that follow its kind", async () => {
      const receiver = await startReceiver();
      const tasksOnly = await startReceiver();
      try {
        const hook = await call("CreateWebhook", { url: receiver.url, objectKinds: ["model_version"], description: "ci" });
        assert.match(hook.webhookId, /^wh-[a-z0-9]{12}$/);
        assert.match(hook.secret, /^[0-9a-f]{64}$/);
        assert.deepEqual(hook.objectKinds, ["model_version"]);
        const other = await call("CreateWebhook", { url: tasksOnly.url, objectKinds: ["task"] });
        const listed = (await call("DescribeWebhooks", {})).webhookList as any[];
        assert.deepEqual(listed.map((w) => w.webhookId).sort(), [hook.webhookId, other.webhookId].sort());
        assert.ok(listed.every((w) => w.secret === undefined && w.active === true), "the secret is shown once only");

        const versionId = await newVersion();
        await waitFor("both events of the version", () => receiver.about(versionId).length === 2);
        const seen = receiver.about(versionId).map((r) => {
          const ts = r.headers["x-sailfin-timestamp"] as string;
          const signature = r.headers["x-sailfin-signature"] as string;
          // The documented scheme, computed here by hand, and the contract's verifier.
          assert.equal(signature, `v1=${createHmac("sha256", hook.secret).update(`${ts}.${r.body}`).digest("hex")}`);
          assert.equal(verifyWebhookSignature(hook.secret, ts, r.body, signature), true);
          assert.equal(verifyWebhookSignature(hook.secret, ts, r.body.replace("Creating", "Cre4ting"), signature), false);
          assert.equal(verifyWebhookSignature("0".repeat(64), ts, r.body, signature), false);
          assert.equal(verifyWebhookSignature(hook.secret, String(Number(ts) - 3_600), r.body, signature), false, "a stale timestamp is refused");
          assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 60);
          assert.match(r.headers["content-type"] ?? "", /^application\/json/);
          const body = JSON.parse(r.body);
          assert.equal(r.headers["x-sailfin-webhook-id"], hook.webhookId);
          assert.equal(r.headers["x-sailfin-delivery-id"], body.id);
          assert.match(body.id, /^whd-[a-z0-9]{12}$/);
          assert.equal(body.webhookId, hook.webhookId);
          assert.deepEqual(Object.keys(body.event).sort(), ["at", "from", "objectId", "objectKind", "reason", "to"]);
          assert.equal(body.event.objectKind, "model_version");
          return [body.event.from, body.event.to];
        });
        const order = (pairs: unknown[][]) => pairs.map((p) => JSON.stringify(p)).sort();
        assert.deepEqual(order(seen), order([[null, "Creating"], ["Creating", "Ready"]]));

        await waitFor("delivered records", async () => (await deliveries(hook.webhookId)).filter((d) => d.status === "delivered").length >= 2);
        const records = (await deliveries(hook.webhookId)).filter((d) => d.event.objectId === versionId);
        assert.equal(records.length, 2);
        for (const d of records) {
          assert.equal(d.attempts, 1);
          assert.equal(d.lastStatusCode, 200);
          assert.equal(d.lastError, "");
          assert.match(d.deliveredTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        }
        assert.equal(tasksOnly.received.length, 0, "a webhook following tasks got model version events");

        for (const id of [hook.webhookId, other.webhookId]) assert.equal(await call("DeleteWebhook", { webhookId: id }), true);
        const gone = await v2Raw(server, "webhook", "DescribeWebhookDeliveries", { webhookId: hook.webhookId });
        assert.equal(gone.status, 400);
        assert.match(gone.body.message, /param\[webhookId\] invalid/);
      } finally {
        await receiver.close();
        await tasksOnly.close();
      }
    });

    test("a receiver answering 500 twice then 200: three attempts recorded, backing off, then delivered", async () => {
      const answered = new Map<string, number>();
      const receiver = await startReceiver((r) => {
        const id = JSON.parse(r.body).id as string;
        const n = (answered.get(id) ?? 0) + 1;
        answered.set(id, n);
        return n <= 2 ? 500 : 200;
      });
      try {
        const hook = await call("CreateWebhook", { url: receiver.url, objectKinds: ["model_version"] });
        const versionId = await newVersion();
        await waitFor("both deliveries delivered", async () => {
          const list = await deliveries(hook.webhookId);
          return list.length === 2 && list.every((d) => d.status === "delivered");
        });
        for (const d of await deliveries(hook.webhookId)) {
          assert.equal(d.event.objectId, versionId);
          assert.equal(d.attempts, 3, JSON.stringify(d));
          assert.equal(d.lastStatusCode, 200);
          const attempts = receiver.received.filter((r) => JSON.parse(r.body).id === d.deliveryId);
          assert.equal(attempts.length, 3);
          // Same body every time (the receiver can de-duplicate by id); each attempt signed anew.
          assert.equal(new Set(attempts.map((r) => r.body)).size, 1);
          for (const r of attempts) {
            assert.ok(verifyWebhookSignature(hook.secret, r.headers["x-sailfin-timestamp"] as string, r.body, r.headers["x-sailfin-signature"] as string));
          }
          assert.ok(attempts[1]!.at - attempts[0]!.at >= BACKOFF_MS * 0.9, `first retry after ${attempts[1]!.at - attempts[0]!.at} ms`);
          assert.ok(attempts[2]!.at - attempts[1]!.at >= BACKOFF_MS * 2 * 0.9, `second retry after ${attempts[2]!.at - attempts[1]!.at} ms`);
        }

        // Keyset pages over the deliveries, as every list.
        const first = await call("DescribeWebhookDeliveries", { webhookId: hook.webhookId, maxKeys: 1 });
        assert.equal(first.deliveryList.length, 1);
        assert.equal(first.pageInfo.isTruncated, true);
        const second = await call("DescribeWebhookDeliveries", { webhookId: hook.webhookId, maxKeys: 1, marker: first.pageInfo.nextMarker });
        assert.equal(second.deliveryList.length, 1);
        assert.equal(second.pageInfo.isTruncated, false);
        assert.notEqual(second.deliveryList[0].deliveryId, first.deliveryList[0].deliveryId);
        await call("DeleteWebhook", { webhookId: hook.webhookId });
      } finally {
        await receiver.close();
      }
    });

    test("receivers that are down or hang are retried, then failed, and never slow the API", async () => {
      const hanging = await startReceiver(() => "hang");
      try {
        const down = await call("CreateWebhook", { url: await closedPortUrl(), objectKinds: ["model_version"] });
        const stuck = await call("CreateWebhook", { url: hanging.url, objectKinds: ["model_version"] });
        await newVersion();
        await waitFor("retries under way", async () => {
          const d = await deliveries(down.webhookId);
          return d.length === 2 && d.every((x) => x.attempts >= 2) && hanging.received.length >= 1;
        });
        // While attempts fail and hang, requests answer as fast as ever.
        const timings: number[] = [];
        for (let i = 0; i < 10; i++) {
          const started = performance.now();
          if (i % 2 === 0) await call("DescribeWebhooks", {});
          else await server.admin.v2("model", "DescribeCustomModelSets", {});
          timings.push(performance.now() - started);
        }
        assert.ok(Math.max(...timings) < 500, `slowest request during retries: ${Math.max(...timings).toFixed(0)} ms`);

        await waitFor("both given up", async () => {
          const all = [...await deliveries(down.webhookId), ...await deliveries(stuck.webhookId)];
          return all.length === 4 && all.every((d) => d.status === "failed");
        }, 15_000, async () => [...await deliveries(down.webhookId), ...await deliveries(stuck.webhookId)]);
        for (const d of await deliveries(down.webhookId)) {
          assert.equal(d.attempts, MAX_ATTEMPTS);
          assert.equal(d.lastStatusCode, null);
          assert.match(d.lastError, /ECONNREFUSED/);
          assert.equal(d.nextAttemptTime, "");
        }
        for (const d of await deliveries(stuck.webhookId)) {
          assert.equal(d.attempts, MAX_ATTEMPTS);
          assert.equal(d.lastError, `no answer within ${TIMEOUT_MS} ms`);
        }
        assert.equal(hanging.received.length, 2 * MAX_ATTEMPTS);
        for (const id of [down.webhookId, stuck.webhookId]) await call("DeleteWebhook", { webhookId: id });
      } finally {
        await hanging.close();
      }
    });

    test("a webhook is its key's: other keys cannot see it, and it stops with its key", async () => {
      const receiver = await startReceiver();
      try {
        const tuner = await server.clientWith("QianfanModelTuningFullControlAccessPolicy");
        const hook = await tuner.v2<any>("webhook", "CreateWebhook", { url: receiver.url });
        assert.deepEqual(hook.objectKinds, ["task", "model_version", "compression", "evaluation", "export", "fine_tuning_job"]);
        assert.ok(!(await call("DescribeWebhooks", {})).webhookList.some((w: any) => w.webhookId === hook.webhookId));
        const foreign = await v2Raw(server, "webhook", "DescribeWebhookDeliveries", { webhookId: hook.webhookId });
        assert.equal(foreign.status, 400);
        assert.match(foreign.body.message, /param\[webhookId\] invalid/);
        const foreignDelete = await v2Raw(server, "webhook", "DeleteWebhook", { webhookId: hook.webhookId });
        assert.equal(foreignDelete.status, 400);

        await server.admin.v2("iam", "DeleteAccessKey", { accessKey: tuner.config.accessKey });
        await newVersion();
        const db = server.server.res.db;
        await waitFor("the webhook turned inactive", async () =>
          (await db.selectFrom("webhooks").select("active").where("id", "=", hook.webhookId).executeTakeFirstOrThrow()).active === 0);
        const queued = await db.selectFrom("webhook_deliveries").innerJoin("webhooks", "webhooks.num", "webhook_deliveries.webhook_num")
          .select("webhook_deliveries.num").where("webhooks.id", "=", hook.webhookId).execute();
        assert.deepEqual(queued, []);
        assert.equal(receiver.received.length, 0);
      } finally {
        await receiver.close();
      }
    });

    test("bad registrations are refused naming the field", async () => {
      const refused = async (body: unknown, field: string) => {
        const r = await v2Raw(server, "webhook", "CreateWebhook", body);
        assert.equal(r.status, 400, r.text);
        assert.equal(r.body.code, "InappropriateJSON");
        assert.ok(r.body.message.includes(`param[${field}] invalid`), `${JSON.stringify(body)}: ${r.body.message}`);
      };
      await refused({}, "url");
      await refused({ url: "ftp://example.com/hook" }, "url");
      await refused({ url: "not a url" }, "url");
      await refused({ url: "http://127.0.0.1:9/hook", objectKinds: ["dataset"] }, "objectKinds[0]");
      await refused({ url: "http://127.0.0.1:9/hook", objectKinds: [] }, "objectKinds");
      await refused({ url: "http://127.0.0.1:9/hook", objectKinds: "task" }, "objectKinds");
      const missing = await v2Raw(server, "webhook", "DeleteWebhook", { webhookId: "wh-000000000000" });
      assert.equal(missing.status, 400);
      assert.match(missing.body.message, /param\[webhookId\] invalid/);
    });
  });
}
