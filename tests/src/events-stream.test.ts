import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { newId } from "@sailfin/contract";
import { claimRun, completeRun, enqueueRun, recordProgress, type Lease, type MetricPoint } from "@sailfin/engine";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { SseReader, type SseMessage } from "./fixtures/sse.js";

/**
 * Live events (`GET /sailfin/v1/events/:objectId`, SSE) over both dialects. The run's history is
 * written by the engine's own queue functions (claim, fenced progress writes, complete), as a
 * worker would, without a runtime: what is tested is that a reader who drops and resumes with
 * Last-Event-ID gets every state change, metric point and eval loss exactly once, in order, and
 * an `end` after the terminal state.
 */

const POLL_MS = "30";

const point = (step: number): MetricPoint => ({
  step, epoch: step / 100, loss: 3 - step / 1000, lr: 1e-4, gradNorm: 1, tokensPerSecond: 1000 + step,
});

/** A queued run row with its first event, written by the engine's one INSERT (enqueueRun). */
async function insertQueuedRun(server: TestServer, kind: "finetune" | "compress", id: string): Promise<void> {
  await server.server.res.db.transaction().execute((trx) => enqueueRun(trx, ADMIN, {
    id, kind, spec: {}, ...(kind === "finetune" ? { trainMode: "SFT", parameterScale: "LoRA" } : {}),
  }));
}

/** Reads messages until `stop` says so (progress snapshots are collected apart: they carry no id). */
async function readUntil(
  reader: SseReader, into: SseMessage[], stop: (message: SseMessage) => boolean, progress: number[] = [],
): Promise<void> {
  for (;;) {
    const message = await reader.next();
    assert.ok(message, "the stream ended early");
    if (message.event === "progress") {
      assert.equal(message.id, undefined);
      progress.push(message.data.progress);
      continue;
    }
    into.push(message);
    if (stop(message)) return;
  }
}

const lastId = (messages: SseMessage[]) => [...messages].reverse().find((m) => m.id !== undefined)!.id!;

/** Every id is the cursor after its item: components never go back, the triple always moves. */
function assertMonotoneIds(messages: SseMessage[]): void {
  let prev = [0, 0, 0];
  for (const message of messages.filter((m) => m.id !== undefined)) {
    const parts = message.id!.split("-").map(Number);
    assert.equal(parts.length, 3, message.id);
    assert.ok(parts.every((p, i) => p >= prev[i]!), `${message.id} goes back from ${prev.join("-")}`);
    assert.ok(parts.some((p, i) => p > prev[i]!), `${message.id} repeats ${prev.join("-")}`);
    prev = parts;
  }
}

for (const dialect of testDialects()) {
  describe(`live events (${dialect})`, () => {
    let server: TestServer;
    const db = () => server.server.res.db;
    const stream = (id: string, options: Parameters<typeof SseReader.open>[2] = {}) =>
      SseReader.open(server.url, `/sailfin/v1/events/${id}`, options);
    const claim = async (id: string): Promise<Lease> => {
      const lease = await claimRun(db(), server.server.res.dialect, { owner: "test-worker", kinds: ["finetune"], leaseMs: 60_000 });
      assert.equal(lease?.runId, id);
      return lease!;
    };
    const record = async (lease: Lease, batch: Parameters<typeof recordProgress>[2]) => {
      assert.equal(await recordProgress(db(), lease, batch), true);
    };

    before(async () => { server = await startTestServer(dialect, { SAILFIN_EVENTS_POLL_MS: POLL_MS }); });
    after(async () => { await server.close(); });

    test("dropped twice and resumed (header, then query): every item exactly once, in order, then end", async () => {
      const id = newId("task");
      await insertQueuedRun(server, "finetune", id);
      const got: SseMessage[] = [];
      const progress: number[] = [];

      const a = await stream(id);
      assert.equal(a.status, 200);
      assert.match(a.headers.get("content-type") ?? "", /^text\/event-stream/);
      await readUntil(a, got, (m) => m.event === "state" && m.data.to === "Queued", progress);
      const lease = await claim(id);
      await record(lease, { progress: 10, metrics: [point(1), point(2)] });
      await readUntil(a, got, (m) => m.event === "metric" && m.data.step === 2, progress);
      // Step 2's eval loss lands on its row after the row was sent: it must still arrive, once.
      await record(lease, { metrics: [point(3)], evals: [{ step: 2, evalLoss: 2.5 }] });
      await readUntil(a, got, (m) => m.event === "metric" && m.data.step === 3, progress);
      // Sent to a reader that drops before taking them: the resumed stream must send them again.
      await record(lease, { metrics: [point(4), point(5)], evals: [{ step: 4, evalLoss: 2.4 }] });
      await new Promise((resolve) => setTimeout(resolve, 100));
      a.close();

      // Written while nobody listens: a late eval and an eval-only step.
      await record(lease, { evals: [{ step: 5, evalLoss: 2.3 }] });
      await record(lease, { progress: 40, evals: [{ step: 6, evalLoss: 2.2 }] });

      const b = await stream(id, { lastEventId: lastId(got) });
      assert.equal(b.status, 200);
      let seen = 0;
      await readUntil(b, got, () => ++seen === 3, progress);
      b.close();

      await record(lease, { progress: 60, metrics: [7, 8, 9, 10, 11, 12].map(point) });
      await record(lease, { evals: [{ step: 12, evalLoss: 2.1 }] });
      const c = await stream(id, { query: { lastEventId: lastId(got) } });
      assert.equal(c.status, 200);
      await readUntil(c, got, (m) => m.event === "metric" && m.data.step === 12, progress);
      assert.equal(await completeRun(db(), lease, "training finished at step 12"), true);
      await readUntil(c, got, (m) => m.event === "end", progress);
      assert.equal(await c.next(), null, "the stream closes after end");

      const end = got.at(-1)!;
      assert.deepEqual(end.data, { status: "Succeeded" });
      assert.equal(end.id, undefined);
      assert.equal(progress.at(-1), 100);
      const items = got.slice(0, -1);
      assertMonotoneIds(items);
      assert.equal(new Set(items.map((m) => m.id)).size, items.length, "no id twice");

      // The union equals exactly what the database holds, in order.
      const events = await db().selectFrom("events").selectAll().where("object_id", "=", id).orderBy("num", "asc").execute();
      assert.deepEqual(
        items.filter((m) => m.event === "state").map((m) => [m.data.from, m.data.to, m.data.reason, m.data.at]),
        events.map((e) => [e.from_state, e.to_state, e.reason, e.at]),
      );
      assert.deepEqual(events.map((e) => e.to_state), ["Queued", "Running", "Succeeded"]);
      const rows = await db().selectFrom("run_metrics").selectAll().where("run_num", "=", lease.runNum).orderBy("num", "asc").execute();
      const metrics = items.filter((m) => m.event === "metric");
      assert.deepEqual(metrics.map((m) => m.data.step), rows.map((r) => r.step));
      assert.deepEqual(metrics.map((m) => m.data.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      for (const [i, m] of metrics.entries()) {
        const row = rows[i]!;
        assert.equal(m.data.loss, row.loss === null ? null : Number(row.loss));
        assert.equal(m.data.tokensPerSecond, row.tokens_per_s === null ? null : Number(row.tokens_per_s));
      }
      // Each eval loss exactly once: inside its metric point when known then, else as an `eval` item.
      const evals = [
        ...metrics.filter((m) => m.data.evalLoss !== null).map((m) => [m.data.step, m.data.evalLoss]),
        ...items.filter((m) => m.event === "eval").map((m) => [m.data.step, m.data.evalLoss]),
      ].sort((x, y) => x[0] - y[0]);
      assert.deepEqual(evals, [[2, 2.5], [4, 2.4], [5, 2.3], [6, 2.2], [12, 2.1]]);
      assert.ok(items.some((m) => m.event === "eval"), "some eval arrived after its row was sent");

      // Resuming after the end: nothing left, and 204 tells an EventSource to stop reconnecting.
      const d = await stream(id, { lastEventId: lastId(items) });
      assert.equal(d.status, 204);
    });

    test("a long history is caught up in pages, across a drop, without loss or repeats", async () => {
      const id = newId("task");
      await insertQueuedRun(server, "finetune", id);
      const lease = await claim(id);
      const steps = Array.from({ length: 1_300 }, (_, i) => i + 1);
      await record(lease, { metrics: steps.map(point) });
      assert.equal(await completeRun(db(), lease, "done"), true);

      const got: SseMessage[] = [];
      const a = await stream(id);
      let seen = 0;
      await readUntil(a, got, () => ++seen === 700);
      a.close();
      const b = await stream(id, { lastEventId: lastId(got) });
      await readUntil(b, got, (m) => m.event === "end");
      const items = got.slice(0, -1);
      assertMonotoneIds(items);
      assert.deepEqual(items.filter((m) => m.event === "metric").map((m) => m.data.step), steps);
      assert.deepEqual(items.filter((m) => m.event === "state").map((m) => m.data.to), ["Queued", "Running", "Succeeded"]);
    });

    test("who may watch: a read-only key and an access token can; others are refused in the gateway's style", async () => {
      const id = newId("compTask");
      await insertQueuedRun(server, "compress", id);

      const readOnly = (await server.clientWith("QianfanReadAccessPolicy")).config;
      const r = await stream(id, { credentials: readOnly });
      assert.equal(r.status, 200);
      const first = await r.next();
      assert.equal(first?.event, "state");
      assert.equal(first?.data.to, "Queued");
      r.close();

      // A browser's EventSource cannot sign: the legacy bearer token in the query works.
      const grant = await fetch(`${server.url}/oauth/2.0/token?grant_type=client_credentials&client_id=${ADMIN.accessKey}&client_secret=${ADMIN.secretKey}`, { method: "POST" });
      const token = (await grant.json() as { access_token: string }).access_token;
      const t = await stream(id, { credentials: null, query: { access_token: token } });
      assert.equal(t.status, 200);
      assert.equal((await t.next())?.data.to, "Queued");
      t.close();

      const badToken = await stream(id, { credentials: null, query: { access_token: "24.nope" } });
      assert.equal(badToken.status, 401);
      assert.equal((await badToken.json()).code, "AccessTokenInvalid");

      const unknownKey = await stream(id, { credentials: { accessKey: "nosuchkey0000001", secretKey: "x" } });
      assert.equal(unknownKey.status, 403);
      assert.equal((await unknownKey.json()).code, "InvalidAccessKeyId");

      const dataOnly = (await server.clientWith("QianfanDataReadAccessPolicy")).config;
      const denied = await stream(id, { credentials: dataOnly });
      assert.equal(denied.status, 403);
      const body = await denied.json();
      assert.equal(body.code, "AccessDenied");
      assert.match(body.requestId, /^[0-9a-f-]{36}$/);

      const missing = await stream(newId("task"));
      assert.equal(missing.status, 404);
      assert.equal((await missing.json()).code, "NotFound");

      const badCursor = await stream(id, { query: { lastEventId: "yesterday" } });
      assert.equal(badCursor.status, 400);
      const bad = await badCursor.json();
      assert.equal(bad.code, "InappropriateJSON");
      assert.match(bad.message, /param\[lastEventId\] invalid/);
    });
  });
}

describe("live events and shutdown", () => {
  test("an open stream neither keeps the server from closing nor outlives it", async () => {
    const server = await startTestServer(testDialects()[0]!, { SAILFIN_EVENTS_POLL_MS: POLL_MS });
    const id = newId("compTask");
    try {
      await insertQueuedRun(server, "compress", id);
      const reader = await SseReader.open(server.url, `/sailfin/v1/events/${id}`);
      assert.equal((await reader.next())?.data.to, "Queued");
      const started = Date.now();
      await server.close();
      assert.ok(Date.now() - started < 5_000, `closing took ${Date.now() - started} ms`);
      for (;;) {
        const message = await reader.next();
        if (message === null) break;
        assert.equal(message.event, "progress", "nothing but the progress snapshot was left to read");
      }
    } catch (error) {
      await server.close().catch(() => {});
      throw error;
    }
  });
});
