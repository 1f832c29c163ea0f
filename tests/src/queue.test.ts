import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { nowIso } from "@sailfin/contract";
import {
  MAX_REQUEUES_PER_STEP, claimRun, completeRun, enqueueRun, failRun, heartbeat, recordEvalResults, recordProgress, releaseRun, requeueExpired, requeueRun,
  settleEndedRun,
  type Lease, type OnRunEnded, type RunKind,
} from "@sailfin/engine";
import { PythonNotFoundError, findPythonAmong } from "@sailfin/worker";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { eventsOf } from "./fixtures/finetune-fixtures.js";

/**
 * The queue statements on their own, both dialects: concurrent claims never share a run, every
 * write is fenced by the lease token, retries back off, expired leases come back.
 */

for (const dialect of testDialects()) {
  describe(`queue (${dialect})`, () => {
    let server: TestServer;
    const db = () => server.server.res.db;
    let counter = 0;
    /** A bare queue row (the queue never reads the finetune columns). */
    const insertRun = async (kind: RunKind = "finetune", maxAttempts = 3) => {
      const id = `task-q${dialect.slice(0, 2)}${String(++counter).padStart(8, "0")}`;
      await enqueueRun(db(), ADMIN, { id, kind, spec: {}, maxAttempts });
      return id;
    };
    const claim = (owner: string, leaseMs = 60_000, kinds: Array<"finetune" | "publish"> = ["finetune"]) =>
      claimRun(db(), server.server.res.dialect, { owner, kinds, leaseMs });
    /** An end hook that records what it was called with (the catalog's is `settleEndedRun`). */
    const recordingHook = () => {
      const calls: string[] = [];
      const onEnded: OnRunEnded = async (_trx, run, ending) => { calls.push(`${run.kind} ${run.spec} ${ending.status}: ${ending.reason}`); };
      return { calls, onEnded };
    };
    const drainQueue = async () => { while ((await claim("drainer", 60_000, ["finetune", "publish"])) !== null) { /* empty */ } };

    // Every serving process runs an import worker, and any worker reaps expired leases before it
    // claims: polling once at start only, it leaves the reaping these tests do themselves to them.
    before(async () => { server = await startTestServer(dialect, { SAILFIN_POLL_MS: "600000" }); });
    after(async () => { await server.close(); });

    test("20 concurrent claims over 10 runs: each run claimed exactly once", async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 10; i++) ids.add(await insertRun());
      const leases = await Promise.all(Array.from({ length: 20 }, (_, i) => claim(`w${i}`)));
      const got = leases.filter((l): l is Lease => l !== null);
      assert.equal(got.length, 10);
      assert.deepEqual(new Set(got.map((l) => l.runId)), ids);
      assert.ok(got.every((l) => l.attempt === 1 && l.token.length === 32));
      const events = await eventsOf(server, got[0]!.runId);
      assert.equal(events.at(-1)!.to_state, "Running");
      assert.equal(events.at(-1)!.actor, got[0]!.owner);
    });

    test("claims respect kinds and priority", async () => {
      await drainQueue();
      const publish = await insertRun("publish");
      const low = await insertRun();
      const high = await insertRun();
      await db().updateTable("runs").set({ priority: 5 }).where("id", "=", high).execute();
      assert.equal((await claim("a", 60_000, ["finetune"]))!.runId, high);
      assert.equal((await claim("a", 60_000, ["finetune"]))!.runId, low);
      assert.equal(await claim("a", 60_000, ["finetune"]), null);
      assert.equal((await claim("a", 60_000, ["publish"]))!.runId, publish);
    });

    test("every write is fenced by the lease token", async () => {
      await drainQueue();
      await insertRun();
      const lease = (await claim("holder"))!;
      const forged: Lease = { ...lease, token: "0".repeat(32) };
      assert.deepEqual(await heartbeat(db(), forged, 60_000), { alive: false, cancelRequested: false, pauseRequested: false });
      assert.equal(await recordProgress(db(), forged, { progress: 50, metrics: [{ step: 1, epoch: 0, loss: 1, lr: 1, gradNorm: 1, tokensPerSecond: 1 }] }), false);
      assert.equal(await completeRun(db(), forged, "forged"), false);
      assert.equal((await failRun(db(), forged, { kind: "user", reason: "forged", onEnded: settleEndedRun })).applied, false);
      assert.equal(await releaseRun(db(), forged, "forged"), false);
      assert.equal((await requeueRun(db(), forged, { reason: "forged", step: 0, onEnded: settleEndedRun })).applied, false);
      const metrics = await db().selectFrom("run_metrics").selectAll().where("run_num", "=", lease.runNum).execute();
      assert.equal(metrics.length, 0, "a forged lease wrote nothing");
      assert.equal(await recordProgress(db(), lease, { progress: 40 }), true);
      await db().updateTable("runs").set({ cancel_requested: 1 }).where("num", "=", lease.runNum).execute();
      assert.deepEqual(await heartbeat(db(), lease, 60_000), { alive: true, cancelRequested: true, pauseRequested: false });
      assert.equal(await completeRun(db(), lease, "done"), true);
      const row = await db().selectFrom("runs").selectAll().where("num", "=", lease.runNum).executeTakeFirstOrThrow();
      assert.equal(row.status, "Succeeded");
      assert.equal(Number(row.progress), 100);
      assert.equal(row.lease_token, null);
      assert.equal(await completeRun(db(), lease, "twice"), false, "a finished run cannot be finished again");
    });

    test("an evaluation's per-sample answers are fenced by the lease like every other write", async () => {
      await drainQueue();
      await insertRun();
      const lease = (await claim("evaluator"))!;
      const sample = (i: number) => ({
        unit_index: 0, model_version_num: 1, sample_index: i, prompt: `q${i}`, prediction: `p${i}`, reference: `r${i}`,
        finish_reason: "stop", metrics: "{}", judge_score: null, judge_error: null, created_at: nowIso(),
      });
      const answers = () => db().selectFrom("eval_results").select("sample_index").where("eval_run_num", "=", lease.runNum).orderBy("sample_index").execute();
      const forged: Lease = { ...lease, token: "0".repeat(32) };
      assert.equal(await recordEvalResults(db(), forged, [sample(0)]), false);
      assert.deepEqual(await answers(), [], "a forged lease wrote nothing");
      // 450 rows: more than one INSERT's worth.
      assert.equal(await recordEvalResults(db(), lease, Array.from({ length: 450 }, (_, i) => sample(i))), true);
      assert.equal((await answers()).length, 450);
      assert.equal(await recordEvalResults(db(), forged, [], { replace: true }), false);
      assert.equal((await answers()).length, 450, "a forged lease cleared nothing");
      assert.equal(await recordEvalResults(db(), lease, [sample(7)], { replace: true }), true);
      assert.deepEqual((await answers()).map((r) => r.sample_index), [7]);
      // The run's JSON outcome is written by the fenced completion itself.
      assert.equal(await completeRun(db(), forged, "forged", { result: { forged: true } }), false);
      assert.equal((await db().selectFrom("runs").select("result").where("num", "=", lease.runNum).executeTakeFirstOrThrow()).result, null);
      assert.equal(await completeRun(db(), lease, "done", { result: { units: 1 } }), true);
      assert.equal((await db().selectFrom("runs").select("result").where("num", "=", lease.runNum).executeTakeFirstOrThrow()).result, '{"units":1}');
      assert.equal(await recordEvalResults(db(), lease, [sample(8)]), false, "a finished run takes no more answers");
    });

    test("a system error backs off and retries until max_attempts; a user error fails at once; the end hook runs when it ends", async () => {
      await drainQueue();
      const id = await insertRun("finetune", 2);
      const hook = recordingHook();
      const first = (await claim("w"))!;
      assert.deepEqual(await failRun(db(), first, { kind: "system", reason: "crash 1", backoffMs: 400, onEnded: hook.onEnded }), { applied: true, status: "Queued" });
      assert.deepEqual(hook.calls, [], "not while attempts remain");
      assert.equal(await claim("w"), null, "not before its backoff");
      await sleep(450);
      const second = (await claim("w"))!;
      assert.equal(second.runId, id);
      assert.equal(second.attempt, 2);
      assert.deepEqual(await failRun(db(), second, { kind: "system", reason: "crash 2", backoffMs: 10, onEnded: hook.onEnded }), { applied: true, status: "Failed" });
      assert.deepEqual(hook.calls, ["finetune {} Failed: crash 2"]);
      const row = await db().selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
      assert.equal(row.failure_kind, "system");
      assert.equal(row.failure_reason, "crash 2");
      await insertRun();
      const user = (await claim("w"))!;
      assert.deepEqual(await failRun(db(), user, { kind: "user", reason: "bad data", onEnded: hook.onEnded }), { applied: true, status: "Failed" });
      assert.deepEqual(hook.calls.at(-1), "finetune {} Failed: bad data");
    });

    test("a run the cluster stopped is requeued without spending an attempt, and fails once requeued MAX_REQUEUES_PER_STEP times from one checkpoint step", async () => {
      await drainQueue();
      const id = await insertRun("finetune", 2);
      const hook = recordingHook();
      const requeue = async (step: number) => {
        const lease = (await claim("w"))!;
        assert.equal(lease.runId, id);
        assert.equal(lease.attempt, 1, "no requeue spent an attempt");
        return requeueRun(db(), lease, { reason: `requeued after the Slurm time limit at step ${step}`, step, onEnded: hook.onEnded });
      };
      // Each new checkpoint step starts the count afresh; a step stays put MAX_REQUEUES_PER_STEP times.
      assert.equal(MAX_REQUEUES_PER_STEP, 3);
      for (const step of [0, 4, 4, 12, 12, 12]) assert.deepEqual(await requeue(step), { applied: true, status: "Queued" }, `at step ${step}`);
      assert.deepEqual(hook.calls, []);
      const events = await eventsOf(server, id);
      assert.equal(events.at(-1)!.to_state, "Queued");
      assert.equal(events.at(-1)!.reason, "requeued after the Slurm time limit at step 12 [resumes from step 12]");
      assert.deepEqual(await requeue(12), { applied: true, status: "Failed" });
      const row = await db().selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
      assert.equal(row.status, "Failed");
      assert.equal(row.attempt, 1);
      assert.equal(row.failure_kind, "system");
      assert.equal(row.failure_reason, "requeued after the Slurm time limit at step 12; requeued 3 times from step 12 already without a later checkpoint, so not again");
      assert.deepEqual(hook.calls, [`finetune {} Failed: ${row.failure_reason}`], "the kind settles the failed run");
    });

    test("expired leases return to the queue (Cancelled when a stop was pending, Failed when out of attempts, both settled); the old holder is fenced out", async () => {
      await drainQueue();
      const a = await insertRun();
      const b = await insertRun();
      const c = await insertRun("finetune", 1);
      const leaseA = (await claim("dead-1", 100))!;
      const leaseB = (await claim("dead-2", 100))!;
      await claim("dead-3", 100);
      await db().updateTable("runs").set({ cancel_requested: 1 }).where("id", "=", b).execute();
      await sleep(150);
      const hook = recordingHook();
      const back = await requeueExpired(db(), "reaper", hook);
      assert.deepEqual(back.map((r) => [r.id, r.to]).sort(), [[a, "Queued"], [b, "Cancelled"], [c, "Failed"]].sort());
      assert.deepEqual(hook.calls.map((call) => call.replace(/ at \S+\)$/, ")")).sort(), [
        "finetune {} Cancelled: stopped: the lease of dead-2 expired",
        "finetune {} Failed: the worker holding the task stopped heartbeating (lease expired)",
      ]);
      assert.equal(await recordProgress(db(), leaseA, { progress: 10 }), false);
      assert.equal((await heartbeat(db(), leaseB, 1000)).alive, false);
      const next = (await claim("alive"))!;
      assert.equal(next.runId, a);
      assert.equal(next.attempt, 2);
      const events = await eventsOf(server, a);
      assert.ok(events.some((e) => e.actor === "reaper" && e.to_state === "Queued" && (e.reason ?? "").includes("dead-1")));
      assert.deepEqual(await requeueExpired(db(), "reaper", { onEnded: settleEndedRun }), [], "idempotent");
    });
  });
}

test("python discovery says what to do when no candidate imports torch", async () => {
  await assert.rejects(findPythonAmong(["/nonexistent/python3"], process.env), (error: unknown) => {
    assert.ok(error instanceof PythonNotFoundError);
    assert.match(error.message, /SAILFIN_PYTHON/);
    assert.match(error.message, /\/nonexistent\/python3/);
    return true;
  });
});
