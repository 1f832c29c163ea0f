import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import OpenAI from "openai";
import { LocalExecutor, Worker, engineLauncher, findPython } from "@sailfin/worker";
import { startTestServer, v2Ok, type TestServer } from "./harness.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { TEST_LEASE_MS } from "./fixtures/worker-fixtures.js";
import { pythonSdkMissing } from "./python-sdk.js";

/**
 * The done-when: OpenAI's cookbook fine-tuning flow, through the official `openai` npm
 * package and the official `openai` PyPI package (tests/python/openai_cookbook.py, which builds
 * its client with a bare `OpenAI()` from OPENAI_BASE_URL / OPENAI_API_KEY), unchanged but for the
 * base URL and the key: upload a file, start a job on the tiny base model, poll it to
 * `succeeded`, list its events and checkpoints, cancel a second job, pause and resume a third
 * (which still succeeds), then chat with `fine_tuned_model`, which answers what it was trained
 * on. A real server, a real worker (training and serving), the real runtime. A webhook following
 * `fine_tuning_job` gets OpenAI's `fine_tuning.job.succeeded|cancelled` events of those jobs,
 * which the Node SDK's `webhooks.unwrap()` verifies.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);
const BASE = "tiny-chat";
const WORDS = ["red", "blue", "green", "gold"];
/** Learnt by the tiny model with LoRA (the default): 480 lines in rows of 512 tokens, 30 epochs, about 1,200 steps. */
const HYPER = { n_epochs: 30, batch_size: 1, learning_rate_multiplier: 30 } as const;
/** Samples are packed into rows of the model's sequence length: enough lines make several rows (optimizer steps) an epoch. */
const LINES = 480;
const TERMINAL = ["succeeded", "failed", "cancelled"];

/** OpenAI's chat format, one example a line: the answer repeats the asked word three times. */
function trainingLines(n: number): string {
  return Array.from({ length: n }, (_, i) => {
    const w = WORDS[i % WORDS.length]!;
    return JSON.stringify({ messages: [{ role: "user", content: `say ${w}` }, { role: "assistant", content: `${w} ${w} ${w}` }] });
  }).join("\n") + "\n";
}

/** Polls a job as a cookbook script does, until its status is one of `statuses` or terminal. */
async function waitForJob(client: OpenAI, id: string, statuses: string[], timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await client.fineTuning.jobs.retrieve(id);
    if (statuses.includes(job.status) || TERMINAL.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
    await sleep(250);
  }
}

describe("the official OpenAI SDKs run the cookbook fine-tuning flow unchanged", { timeout: 1_800_000 }, () => {
  let server: TestServer;
  let worker: Worker;
  let tiny: TinyModelFolders;
  let dir: string;
  let trainingPath: string;
  let apiKey: string;
  const hook = { url: "", secret: "", received: [] as Array<{ headers: IncomingHttpHeaders; body: string }>, close: async () => {} };

  before(async () => {
    server = await startTestServer("sqlite");
    const python = await findPython();
    // One worker that trains (one job at a time) and serves what the chat calls deploy on demand.
    worker = new Worker({
      res: server.server.res, executor: new LocalExecutor({ python, graceMs: 10_000 }), id: "openai-e2e-worker",
      leaseMs: TEST_LEASE_MS, pollMs: 100, backoffMs: 200, slots: { training: 1, "file-work": 1, serving: 2 },
      engines: { host: "127.0.0.1", ...engineLauncher({ python, graceMs: 5_000 }) },
    });
    await worker.start();
    tiny = await writeTinyModels({ llama: { ...TINY, hiddenSize: 64, intermediate: 128 } });
    await stageFolder(server, tiny.dir("llama"), "hub", BASE);
    await importBaseModel(server, BASE, { bucket: "hub", objectPath: BASE });
    dir = await mkdtemp(join(tmpdir(), "sailfin-openai-e2e-"));
    trainingPath = join(dir, "train.jsonl");
    await writeFile(trainingPath, trainingLines(LINES));
    apiKey = (await v2Ok(server, "iam", "CreateApiKey", { description: "openai-e2e" })).apiKey;
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => { hook.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") }); res.end("ok"); });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    hook.close = () => new Promise<void>((resolve) => { receiver.closeAllConnections(); receiver.close(() => resolve()); });
    hook.url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    hook.secret = (await server.admin.v2<any>("webhook", "CreateWebhook", { url: hook.url, objectKinds: ["fine_tuning_job"] })).secret;
  });
  after(async () => {
    await hook.close();
    await worker?.stop();
    await server?.close();
    await tiny?.remove();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test("Node: files.create → jobs.create → poll → events, checkpoints → cancel one → pause and resume one → chat with fine_tuned_model", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey });

    const file = await client.files.create({ file: createReadStream(trainingPath), purpose: "fine-tune" });
    assert.match(file.id, /^file-/);
    assert.equal(file.purpose, "fine-tune");
    const processed = await client.files.retrieve(file.id);
    assert.equal(processed.status, "processed", JSON.stringify(processed));

    const created = await client.fineTuning.jobs.create({
      model: BASE, training_file: file.id, suffix: "cookbook",
      method: { type: "supervised", supervised: { hyperparameters: { ...HYPER } } },
    });
    assert.match(created.id, /^ftjob-/);
    assert.ok(["validating_files", "queued", "running"].includes(created.status), created.status);
    const job = await waitForJob(client, created.id, []);
    assert.equal(job.status, "succeeded", JSON.stringify(job.error));
    assert.match(job.fine_tuned_model ?? "", new RegExp(`^ft:${BASE}:[^:]+:cookbook:[A-Za-z0-9]+$`));
    assert.ok(job.finished_at !== null && job.finished_at >= job.created_at);
    assert.equal(job.method?.supervised?.hyperparameters?.n_epochs, HYPER.n_epochs);

    // One store: the job is a V2 task, which names its OpenAI id and model (and so does the console's task page).
    const run = await server.server.res.db.selectFrom("openai_jobs").innerJoin("runs", "runs.num", "openai_jobs.run_num")
      .select("runs.id as id").where("openai_jobs.id", "=", job.id).executeTakeFirstOrThrow();
    const task = await v2Ok(server, "finetuning", "DescribeFineTuningTask", { taskId: run.id });
    assert.equal(task.runStatus, "Done");
    assert.deepEqual(task.openAiJob, { id: job.id, fineTunedModel: job.fine_tuned_model });

    // Events and checkpoints, every page through the SDK's iterators.
    const events = [];
    for await (const event of client.fineTuning.jobs.listEvents(job.id, { limit: 5 })) events.push(event);
    assert.ok(events.length > 5, `events over several pages: ${events.length}`);
    assert.ok(events.every((e) => e.object === "fine_tuning.job.event" && e.id.startsWith("ft-event-")));
    assert.ok(events.some((e) => e.type === "metrics"), "step metrics among the events");
    const checkpoints = [];
    for await (const checkpoint of client.fineTuning.jobs.checkpoints.list(job.id)) checkpoints.push(checkpoint);
    assert.ok(checkpoints.length >= 1);
    for (const c of checkpoints) {
      assert.equal(c.fine_tuning_job_id, job.id);
      assert.equal(c.fine_tuned_model_checkpoint, `${job.fine_tuned_model}:ckpt-step-${c.step_number}`);
    }
    const listed = [];
    for await (const j of client.fineTuning.jobs.list({ limit: 1 })) listed.push(j.id);
    assert.ok(listed.includes(job.id));

    // Cancel a second job.
    const other = await client.fineTuning.jobs.create({ model: BASE, training_file: file.id, hyperparameters: { ...HYPER } });
    const cancelled = await client.fineTuning.jobs.cancel(other.id);
    // A running job answers `running` until its worker has stopped it (docs/openai-compatibility.md).
    assert.ok(["cancelled", "running"].includes(cancelled.status), cancelled.status);
    assert.equal((await waitForJob(client, other.id, [])).status, "cancelled");

    // Pause a third while it runs; resume it; it ends succeeded.
    // Shorter (it only has to end well), still long enough to be paused while it runs.
    const third = await client.fineTuning.jobs.create({
      model: BASE, training_file: file.id, method: { type: "supervised", supervised: { hyperparameters: { ...HYPER, n_epochs: 3 } } },
    });
    assert.equal((await waitForJob(client, third.id, ["running"])).status, "running");
    const pausing = await client.fineTuning.jobs.pause(third.id);
    assert.ok(["running", "paused"].includes(pausing.status), pausing.status);
    assert.equal((await waitForJob(client, third.id, ["paused"])).status, "paused");
    const resumed = await client.fineTuning.jobs.resume(third.id);
    assert.ok(["queued", "running"].includes(resumed.status), resumed.status);
    const finished = await waitForJob(client, third.id, []);
    assert.equal(finished.status, "succeeded", JSON.stringify(finished.error));
    const thirdEvents = [];
    for await (const event of client.fineTuning.jobs.listEvents(third.id)) thirdEvents.push(event.message);
    assert.ok(thirdEvents.some((m) => /paus/i.test(m)), `a pause among the events: ${JSON.stringify(thirdEvents)}`);

    // Use the model: it answers what it learnt.
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    assert.ok(models.includes(job.fine_tuned_model!), JSON.stringify(models));
    for (const w of WORDS) {
      const completion = await client.chat.completions.create({
        model: job.fine_tuned_model!, messages: [{ role: "user", content: `say ${w}` }], temperature: 0, max_tokens: 32,
      });
      assert.equal(completion.model, job.fine_tuned_model);
      const losses: string[] = events.filter((e) => e.type === "metrics").slice(0, 3).map((e) => JSON.stringify(e.data));
      assert.equal(completion.choices[0]!.message.content!.trim(), `${w} ${w} ${w}`,
        `trained with ${JSON.stringify(task.hyperParameterConfig)}; the last losses (newest first): ${losses.join(" ")}`);
    }
    // The webhook heard how the three jobs ended, as OpenAI's events, verifiable by the SDK.
    const expected = [`fine_tuning.job.succeeded ${job.id}`, `fine_tuning.job.cancelled ${other.id}`, `fine_tuning.job.succeeded ${third.id}`].sort();
    const heard = async () => {
      const events = [];
      for (const r of hook.received) {
        const event = await new OpenAI({ apiKey: "unused", webhookSecret: hook.secret }).webhooks.unwrap(r.body, r.headers as Record<string, string>) as any;
        events.push(`${event.type} ${event.data.id}`);
      }
      return events.sort();
    };
    const deadline = Date.now() + 30_000;
    while ((await heard()).length < 3 && Date.now() < deadline) await sleep(200);
    assert.deepEqual(await heard(), expected);
  });

  test("Python: the same cookbook script, a bare OpenAI() from OPENAI_BASE_URL and OPENAI_API_KEY", async (t) => {
    const missing = pythonSdkMissing();
    if (missing !== null) return t.skip(missing);
    const { stdout } = await run(`${root}.venv/bin/python`, [
      `${root}tests/python/openai_cookbook.py`, trainingPath, BASE, String(HYPER.n_epochs), String(HYPER.batch_size), String(HYPER.learning_rate_multiplier),
    ], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: apiKey, NO_PROXY: "*" },
      timeout: 1_200_000, maxBuffer: 16 * 1024 * 1024,
    });
    const out = JSON.parse(stdout.trim().split("\n").pop()!);
    assert.equal(out.file.status, "processed");
    assert.equal(out.job.status, "succeeded", JSON.stringify(out.job));
    assert.match(out.job.fine_tuned_model, new RegExp(`^ft:${BASE}:[^:]+:py-cookbook:[A-Za-z0-9]+$`));
    assert.ok(out.events.length > 5 && out.events.some((e: any) => e.type === "metrics"));
    assert.ok(out.checkpoints.length >= 1);
    assert.ok(out.jobs_listed.includes(out.job.id));
    assert.ok(["cancelled", "running"].includes(out.cancel.answered), out.cancel.answered);
    assert.equal(out.cancel.final, "cancelled");
    assert.equal(out.pause.settled, "paused");
    assert.equal(out.pause.final, "succeeded");
    assert.equal(out.chat.model, out.job.fine_tuned_model);
    assert.equal(out.chat.content.trim(), "blue blue blue");
  });
});
