import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { FINE_TUNING_JOB_KIND, autoEpochs, listFineTunedModels, resolveFineTunedModel } from "@sailfin/engine";
import type { Worker } from "@sailfin/worker";
import { pollUntil, testDialects, v2Ok, type TestServer, startTestServer } from "./harness.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { startTestWorker } from "./fixtures/worker-fixtures.js";
import { pythonSdkMissing } from "./python-sdk.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

/**
 * OpenAI's fine-tuning jobs (`/v1/fine_tuning/jobs…`) over V2 jobs and tasks: raw HTTP with an
 * API key and the official `openai` Node client. The refusals and the queue-side cases run on
 * every dialect without a worker; the training cases run a real worker and the real runtime on a
 * tiny Llama (SQLite): a supervised LoRA job and a DPO job to `succeeded`, the same job seen
 * through V2, its events, checkpoints and fine-tuned model, an incremental job from an `ft:`
 * model, and a running job cancelled.
 */

const REQUIRED = [
  "id", "object", "created_at", "error", "finished_at", "fine_tuned_model", "hyperparameters", "model", "organization_id",
  "result_files", "status", "trained_tokens", "training_file", "validation_file", "seed",
] as const;

const WORDS = ["red", "blue", "green", "gold"];
const chatLine = (i: number) => JSON.stringify({ messages: [
  { role: "system", content: "Repeat the word." }, { role: "user", content: `say ${WORDS[i % 4]}` }, { role: "assistant", content: `${WORDS[i % 4]} ${WORDS[i % 4]}` },
] });
const preferenceLine = (i: number) => JSON.stringify({
  input: { messages: [{ role: "user", content: `say ${WORDS[i % 4]}` }] },
  preferred_output: [{ role: "assistant", content: `${WORDS[i % 4]} ${WORDS[i % 4]}` }], non_preferred_output: [{ role: "assistant", content: "no" }],
});

interface Fixture {
  server: TestServer;
  apiKey: string;
  chatFile: string;
  preferenceFile: string;
}

/** A `fine-tune` file uploaded through `POST /v1/files` (processed at once: it is checked line by line there). */
async function fineTuneFile(server: TestServer, apiKey: string, lines: string[]): Promise<string> {
  const form = new FormData();
  form.append("purpose", "fine-tune");
  form.append("file", new Blob([`${lines.join("\n")}\n`]), "train.jsonl");
  const response = await fetch(`${server.url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${apiKey}` }, body: form });
  const file = await response.json() as { id: string; status: string };
  assert.equal(response.status, 200, JSON.stringify(file));
  assert.equal(file.status, "processed", JSON.stringify(file));
  return file.id;
}

async function setUp(server: TestServer, tiny: TinyModelFolders, lines = 12): Promise<Fixture> {
  await stageFolder(server, tiny.dir("llama"), "hub", "tiny-oa");
  await importBaseModel(server, "tiny-oa", { bucket: "hub", objectPath: "tiny-oa" });
  const apiKey = (await v2Ok(server, "iam", "CreateApiKey", { description: "openai-jobs" })).apiKey as string;
  const chatFile = await fineTuneFile(server, apiKey, Array.from({ length: lines }, (_, i) => chatLine(i)));
  const preferenceFile = await fineTuneFile(server, apiKey, Array.from({ length: lines }, (_, i) => preferenceLine(i)));
  return { server, apiKey, chatFile, preferenceFile };
}

async function call(f: Fixture, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${f.server.url}/v1${path}`, {
    method, headers: { authorization: `Bearer ${f.apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

/** Every event of a job, newest first, paging with `after` as the SDKs do. */
async function allEvents(f: Fixture, id: string): Promise<any[]> {
  const out: any[] = [];
  for (;;) {
    const page = (await call(f, "GET", `/fine_tuning/jobs/${id}/events?limit=100${out.length === 0 ? "" : `&after=${out.at(-1).id}`}`)).json;
    out.push(...page.data);
    if (!page.has_more) return out;
  }
}

function assertJobShape(job: any): void {
  for (const key of REQUIRED) assert.ok(key in job, `job lacks ${key}: ${JSON.stringify(job)}`);
  assert.equal(job.object, "fine_tuning.job");
  assert.match(job.id, /^ftjob-/);
  assert.equal(typeof job.created_at, "number");
  assert.ok(job.created_at > 1_600_000_000 && job.created_at < 10_000_000_000, "Unix seconds");
  assert.equal(job.organization_id, "org-sailfin");
}

async function assertRefused(f: Fixture, body: unknown, param: string | null, code?: string): Promise<void> {
  const { status, json } = await call(f, "POST", "/fine_tuning/jobs", body);
  assert.equal(status, 400, JSON.stringify(json));
  assert.equal(json.error.type, "invalid_request_error");
  assert.equal(json.error.param, param, JSON.stringify(json));
  if (code !== undefined) assert.equal(json.error.code, code);
}

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: { ...TINY, hiddenSize: 64, intermediate: 128 } }); });
after(async () => { await tiny.remove(); });

test("auto n_epochs follows OpenAI's rule", () => {
  assert.equal(autoEpochs(10), 10);
  assert.equal(autoEpochs(50), 3);
  assert.equal(autoEpochs(2), 25);
  assert.equal(autoEpochs(20_000), 1);
});

for (const dialect of testDialects()) describe(`OpenAI fine-tuning jobs without a worker (${dialect})`, () => {
  let f: Fixture;
  before(async () => { f = await setUp(await startTestServer(dialect), tiny); });
  after(async () => { await f?.server.close(); });

  test("create resolves auto, is a V2 job and task, and lists, retrieves and cancels", async () => {
    const { status, json: job } = await call(f, "POST", "/fine_tuning/jobs", {
      model: "tiny-oa", training_file: f.chatFile, suffix: "first", metadata: { team: "a" },
      method: { type: "supervised", supervised: { hyperparameters: { learning_rate_multiplier: 2 } } },
    });
    assert.equal(status, 200, JSON.stringify(job));
    assertJobShape(job);
    assert.equal(job.status, "queued");
    assert.equal(job.model, "tiny-oa");
    assert.equal(job.training_file, f.chatFile);
    assert.equal(job.fine_tuned_model, null);
    assert.equal(typeof job.seed, "number");
    assert.deepEqual(job.hyperparameters, { n_epochs: 9, batch_size: 8, learning_rate_multiplier: 2 }); // 12 examples: ceil(100/12)
    assert.deepEqual(job.method, { type: "supervised", supervised: { hyperparameters: job.hyperparameters } });
    assert.deepEqual(job.metadata, { team: "a" });
    assert.equal(job.user_provided_suffix, "first");

    // The same job through V2: one task, LoRA, the numbers resolved, 2 × the default learning rate.
    const row = await f.server.server.res.db.selectFrom("openai_jobs").innerJoin("runs", "runs.num", "openai_jobs.run_num")
      .innerJoin("finetune_jobs", "finetune_jobs.num", "openai_jobs.job_num")
      .select(["runs.id as taskId", "finetune_jobs.id as jobId", "openai_jobs.fine_tuned_model as ftm"]).where("openai_jobs.id", "=", job.id).executeTakeFirstOrThrow();
    assert.match(row.ftm, /^ft:tiny-oa:sailfin:first:[A-Za-z0-9]{8}$/);
    const task = await v2Ok(f.server, "finetuning", "DescribeFineTuningTask", { taskId: row.taskId });
    assert.equal(task.jobId, row.jobId);
    assert.equal(task.parameterScale, "LoRA");
    assert.equal(task.runStatus, "Waiting");
    assert.equal(task.hyperParameterConfig.epoch, 9);
    assert.equal(task.hyperParameterConfig.learningRate, 2 * 3e-4);
    assert.equal(task.hyperParameterConfig.seed, job.seed);
    assert.equal(task.hyperParameterConfig.checkpointCount, 3);

    const second = (await call(f, "POST", "/fine_tuning/jobs", { model: "tiny-oa", training_file: f.preferenceFile, seed: 7, method: { type: "dpo" } })).json;
    assertJobShape(second);
    assert.equal(second.hyperparameters, null);
    assert.deepEqual(second.method, { type: "dpo", dpo: { hyperparameters: { n_epochs: 9, batch_size: 8, learning_rate_multiplier: 1, beta: 0.1 } } });
    assert.equal(second.seed, 7);

    const list = (await call(f, "GET", "/fine_tuning/jobs?limit=1")).json;
    assert.equal(list.object, "list");
    assert.deepEqual(list.data.map((j: any) => j.id), [second.id]);
    assert.equal(list.has_more, true);
    const next = (await call(f, "GET", `/fine_tuning/jobs?limit=1&after=${second.id}`)).json;
    assert.deepEqual(next.data.map((j: any) => j.id), [job.id]);
    const filtered = (await call(f, "GET", "/fine_tuning/jobs?metadata[team]=a")).json;
    assert.deepEqual(filtered.data.map((j: any) => j.id), [job.id]);
    assert.equal(filtered.has_more, false);
    assert.deepEqual((await call(f, "GET", `/fine_tuning/jobs/${job.id}`)).json.id, job.id);

    const cancelled = (await call(f, "POST", `/fine_tuning/jobs/${job.id}/cancel`)).json;
    assert.equal(cancelled.status, "cancelled");
    assert.equal(typeof cancelled.finished_at, "number");
    assert.equal((await v2Ok(f.server, "finetuning", "DescribeFineTuningTask", { taskId: row.taskId })).runStatus, "Stopped");
    const events = (await call(f, "GET", `/fine_tuning/jobs/${job.id}/events`)).json;
    assert.equal(events.object, "list");
    assert.equal(events.has_more, false);
    assert.deepEqual(events.data.map((e: any) => e.message), [
      "Fine-tuning job cancelled", "Files validated, moving job to queued state", `Validating training file: ${f.chatFile}`,
    ]);
    for (const e of events.data) assert.match(e.id, /^ft-event-/);
    const page2 = (await call(f, "GET", `/fine_tuning/jobs/${job.id}/events?limit=1&after=${events.data[0].id}`)).json;
    assert.deepEqual(page2.data.map((e: any) => e.id), [events.data[1].id]);
    assert.equal(page2.has_more, true);
    // One webhook event for the ending, however often it is read.
    await call(f, "GET", `/fine_tuning/jobs/${job.id}`);
    const endings = await f.server.server.res.db.selectFrom("events").select("to_state")
      .where("object_kind", "=", FINE_TUNING_JOB_KIND).where("object_id", "=", job.id).execute();
    assert.deepEqual(endings.map((e) => e.to_state), ["cancelled"]);
    const checkpoints = (await call(f, "GET", `/fine_tuning/jobs/${job.id}/checkpoints`)).json;
    assert.deepEqual(checkpoints, { object: "list", data: [], has_more: false, first_id: null, last_id: null });
    assert.equal(await resolveFineTunedModel(f.server.server.res, row.ftm), null);

    // The official client, over the same routes.
    const client = new OpenAI({ apiKey: f.apiKey, baseURL: `${f.server.url}/v1`, maxRetries: 0 });
    // A V2 StopFineTuningTask of an OpenAI job's task ends the OpenAI job too (its webhook event), without a read.
    const viaV2 = (await call(f, "POST", "/fine_tuning/jobs", { model: "tiny-oa", training_file: f.chatFile })).json;
    const v2Task = await f.server.server.res.db.selectFrom("openai_jobs").innerJoin("runs", "runs.num", "openai_jobs.run_num")
      .select("runs.id").where("openai_jobs.id", "=", viaV2.id).executeTakeFirstOrThrow();
    await v2Ok(f.server, "finetuning", "StopFineTuningTask", { taskId: v2Task.id });
    const v2Endings = await f.server.server.res.db.selectFrom("events").select("to_state")
      .where("object_kind", "=", FINE_TUNING_JOB_KIND).where("object_id", "=", viaV2.id).execute();
    assert.deepEqual(v2Endings.map((e) => e.to_state), ["cancelled"]);

    const viaSdk = await client.fineTuning.jobs.create({ model: "tiny-oa", training_file: f.chatFile, hyperparameters: { n_epochs: 2 } });
    assert.equal(viaSdk.status, "queued");
    assert.equal(viaSdk.method?.supervised?.hyperparameters?.n_epochs, 2);
    assert.equal((await client.fineTuning.jobs.retrieve(viaSdk.id)).id, viaSdk.id);
    const seen: string[] = [];
    for await (const j of client.fineTuning.jobs.list({ limit: 2 })) seen.push(j.id);
    assert.deepEqual(seen, [viaSdk.id, viaV2.id, second.id, job.id]);
    assert.equal((await client.fineTuning.jobs.cancel(viaSdk.id)).status, "cancelled");
    await assert.rejects(client.fineTuning.jobs.retrieve("ftjob-nosuchjob000"), (e: any) => e.status === 404);
  });

  test("a queued job pauses at once, resumes to queued, and a paused job cancels", async () => {
    const job = (await call(f, "POST", "/fine_tuning/jobs", { model: "tiny-oa", training_file: f.chatFile })).json;
    const paused = await call(f, "POST", `/fine_tuning/jobs/${job.id}/pause`);
    assert.equal(paused.status, 200, JSON.stringify(paused.json));
    assert.equal(paused.json.status, "paused");
    assert.equal((await call(f, "POST", `/fine_tuning/jobs/${job.id}/pause`)).json.status, "paused");
    assert.equal((await call(f, "POST", `/fine_tuning/jobs/${job.id}/resume`)).json.status, "queued");
    const again = await call(f, "POST", `/fine_tuning/jobs/${job.id}/resume`);
    assert.equal(again.status, 400);
    assert.equal(again.json.error.param, "fine_tuning_job_id");
    assert.equal((await call(f, "POST", `/fine_tuning/jobs/${job.id}/pause`)).json.status, "paused");
    assert.equal((await call(f, "POST", `/fine_tuning/jobs/${job.id}/cancel`)).json.status, "cancelled");
    const late = await call(f, "POST", `/fine_tuning/jobs/${job.id}/pause`);
    assert.equal(late.status, 400);
    const messages = (await call(f, "GET", `/fine_tuning/jobs/${job.id}/events`)).json.data.map((e: any) => e.message);
    assert.deepEqual(messages.slice(0, 4), ["Fine-tuning job cancelled", messages[1], "Fine-tuning job resumed", messages[3]]);
    assert.match(messages[1], /^Fine-tuning job paused/);
  });

  test("the official Python client creates, filters, pages, reads events and checkpoints, and cancels", async (t) => {
    const missing = pythonSdkMissing();
    if (missing !== null) return t.skip(missing);
    const script = `
import json, openai
c = openai.OpenAI(max_retries=0)
job = c.fine_tuning.jobs.create(model="tiny-oa", training_file="${f.chatFile}", suffix="py", metadata={"via": "python"},
    method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": "auto"}}})
listed = [j.id for j in c.fine_tuning.jobs.list(metadata={"via": "python"})]
first = c.fine_tuning.jobs.list_events(job.id, limit=1)
events = [e.message for e in first.data]
pages = [e.id for e in first]  # iterating a page follows \`after\` through every page
checkpoints = [k.id for k in c.fine_tuning.jobs.checkpoints.list(job.id)]
cancelled = c.fine_tuning.jobs.cancel(job.id)
try:
    c.fine_tuning.jobs.create(model="tiny-oa", training_file="${f.chatFile}", method={"type": "reinforcement"})
    refused = None
except openai.BadRequestError as e:
    refused = [e.status_code, e.body.get("code"), e.body.get("param")]
print(json.dumps({"id": job.id, "status": job.status, "n_epochs": job.method.supervised.hyperparameters.n_epochs, "listed": listed,
    "events": events, "pages": pages, "checkpoints": checkpoints, "cancelled": cancelled.status, "refused": refused}))
`;
    const { stdout } = await run(`${root}.venv/bin/python`, ["-c", script], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", OPENAI_API_KEY: f.apiKey, OPENAI_BASE_URL: `${f.server.url}/v1` },
    });
    const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
    assert.equal(out.status, "queued");
    assert.equal(out.n_epochs, 2);
    assert.deepEqual(out.listed, [out.id]);
    assert.deepEqual(out.events, ["Files validated, moving job to queued state"]);
    assert.equal(out.pages.length, 2, "every event, one per page, through the SDK's cursor");
    assert.deepEqual(out.checkpoints, []);
    assert.equal(out.cancelled, "cancelled");
    assert.deepEqual(out.refused, [400, "unsupported_method", "method.type"]);
  });

  test("every refusal is a 400 naming the field, and leaves nothing behind", async () => {
    const count = async () => Number((await f.server.server.res.db.selectFrom("finetune_jobs").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
    const before = await count();
    await assertRefused(f, { model: "no-such-model", training_file: f.chatFile }, "model");
    await assertRefused(f, { model: "ft:tiny-oa:sailfin::nope0000", training_file: f.chatFile }, "model");
    await assertRefused(f, { model: "tiny-oa" }, "training_file");
    await assertRefused(f, { model: "tiny-oa", training_file: "file-nosuchfile00" }, "training_file");
    await assertRefused(f, { model: "tiny-oa", training_file: f.preferenceFile }, "training_file");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, method: { type: "dpo" } }, "training_file");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, validation_file: f.preferenceFile }, "validation_file");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 0 } } } },
      "method.supervised.hyperparameters.n_epochs");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, method: { type: "supervised", supervised: { hyperparameters: { n_epochs: "many" } } } },
      "method.supervised.hyperparameters.n_epochs");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, hyperparameters: { batch_size: 1000 } }, "hyperparameters.batch_size");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, hyperparameters: { learning_rate_multiplier: 1000 } }, "hyperparameters.learning_rate_multiplier");
    await assertRefused(f, { model: "tiny-oa", training_file: f.preferenceFile, method: { type: "dpo", dpo: { hyperparameters: { beta: 1.5 } } } },
      "method.dpo.hyperparameters.beta");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, method: { type: "reinforcement" } }, "method.type", "unsupported_method");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, method: { type: "magic" } }, "method.type");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, suffix: "no spaces" }, "suffix");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, suffix: "x".repeat(65) }, "suffix");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, seed: -1 }, "seed");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }, "metadata");
    await assertRefused(f, { model: "tiny-oa", training_file: f.chatFile, metadata: { sailfin_parameter_scale: "Huge" } }, "metadata.sailfin_parameter_scale");
    // Messages are one sentence naming the field, as OpenAI's.
    const message = (await call(f, "POST", "/fine_tuning/jobs", { model: "tiny-oa", hyperparameters: { n_epochs: "many" }, training_file: f.chatFile })).json.error.message;
    assert.equal(message, 'hyperparameters.n_epochs must be "auto" or an integer from 1 to 50');
    assert.equal(await count(), before);
    const missing = await call(f, "GET", "/fine_tuning/jobs/ftjob-nosuchjob000/events");
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.type, "invalid_request_error");
  });
});

describe("OpenAI fine-tuning jobs trained by a real worker (sqlite)", () => {
  let f: Fixture;
  let worker: Worker;
  before(async () => {
    f = await setUp(await startTestServer("sqlite"), tiny, 16);
    worker = await startTestWorker(f.server, "openai-jobs-worker");
  });
  after(async () => {
    await worker?.stop();
    await f?.server.close();
  });

  const settled = (f: Fixture, id: string) => pollUntil(async () => (await call(f, "GET", `/fine_tuning/jobs/${id}`)).json,
    (j) => ["succeeded", "failed", "cancelled"].includes(j.status), `job ${id}`, 240_000);

  test("a supervised LoRA job succeeds: its model, V2 view, events, checkpoints and webhooks event", async () => {
    const created = (await call(f, "POST", "/fine_tuning/jobs", {
      model: "tiny-oa", training_file: f.chatFile, validation_file: f.chatFile, suffix: "sft",
      method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 2, batch_size: 4 } } },
    })).json;
    const job = await settled(f, created.id);
    assert.equal(job.status, "succeeded", JSON.stringify(job));
    assert.equal(job.validation_file, f.chatFile);
    // The validation file is the task's evaluation set, whole, beside its training data (nothing held out of it).
    const spec = JSON.parse((await f.server.server.res.db.selectFrom("openai_jobs").innerJoin("runs", "runs.num", "openai_jobs.run_num")
      .select("runs.spec").where("openai_jobs.id", "=", job.id).executeTakeFirstOrThrow()).spec);
    assert.equal(spec.dataset.splitRatio, 0);
    assert.deepEqual(spec.dataset.versions.map((v: { role?: string }) => v.role ?? "train"), ["train", "validation"]);
    assertJobShape(job);
    assert.match(job.fine_tuned_model, /^ft:tiny-oa:sailfin:sft:[A-Za-z0-9]{8}$/);
    assert.equal(typeof job.finished_at, "number");
    assert.ok(job.trained_tokens > 0, `trained_tokens ${job.trained_tokens}`);
    assert.equal(job.error, null);

    const model = await resolveFineTunedModel(f.server.server.res, job.fine_tuned_model);
    assert.equal(model?.status, "Ready");
    assert.equal(model?.jobId, job.id);
    const described = await v2Ok(f.server, "model", "DescribeModel", { modelId: model!.modelVersionId });
    assert.equal(described.status, "Ready");
    assert.equal(described.sourceInfo.sourceType, "Train");
    assert.equal(described.sourceInfo.trainTaskId, (await f.server.server.res.db.selectFrom("openai_jobs").innerJoin("runs", "runs.num", "openai_jobs.run_num")
      .select("runs.id").where("openai_jobs.id", "=", job.id).executeTakeFirstOrThrow()).id);
    assert.ok((await listFineTunedModels(f.server.server.res)).some((m) => m.id === job.fine_tuned_model && m.ownedBy === "sailfin"));

    const events = (await call(f, "GET", `/fine_tuning/jobs/${job.id}/events?limit=100`)).json.data as any[];
    const messages = events.map((e) => e.message);
    assert.equal(messages[0], "The job has successfully completed");
    assert.equal(messages[1], `New fine-tuned model created: ${job.fine_tuned_model}`);
    assert.ok(messages.includes("Fine-tuning job started"), messages.join(" | "));
    assert.ok(messages.some((m) => /^Checkpoint created at step \d+$/.test(m)));
    const metrics = events.filter((e) => e.type === "metrics");
    assert.ok(metrics.length > 0);
    assert.equal(typeof metrics[0].data.train_loss, "number");
    assert.equal(messages.at(-1), `Validating training file: ${f.chatFile}`);

    const checkpoints = (await call(f, "GET", `/fine_tuning/jobs/${job.id}/checkpoints`)).json;
    assert.ok(checkpoints.data.length >= 1);
    const last = checkpoints.data[0];
    assert.equal(last.object, "fine_tuning.job.checkpoint");
    assert.match(last.id, /^ftckpt_/);
    assert.equal(last.fine_tuned_model_checkpoint, `${job.fine_tuned_model}:ckpt-step-${last.step_number}`);
    assert.equal(typeof last.metrics.train_loss, "number");
    assert.equal(typeof last.metrics.valid_loss, "number", JSON.stringify(last));
    assert.equal(checkpoints.first_id, last.id);
    // The final checkpoint's name answers with the job's own version; an earlier one is published on first use.
    assert.equal((await resolveFineTunedModel(f.server.server.res, last.fine_tuned_model_checkpoint))?.modelVersionId, model!.modelVersionId);
    assert.equal(await resolveFineTunedModel(f.server.server.res, `${job.fine_tuned_model}:ckpt-step-999`), null);

    const endings = await f.server.server.res.db.selectFrom("events").select("to_state")
      .where("object_kind", "=", FINE_TUNING_JOB_KIND).where("object_id", "=", job.id).execute();
    assert.deepEqual(endings.map((e) => e.to_state), ["succeeded"]);

    // The metrics CSV, a fine-tune-results file, named once however often the job is read.
    assert.equal(job.result_files.length, 1);
    assert.deepEqual((await call(f, "GET", `/fine_tuning/jobs/${job.id}`)).json.result_files, job.result_files);
    assert.equal((await call(f, "GET", `/files/${job.result_files[0]}`)).json.purpose, "fine-tune-results");
    const csv = await (await fetch(`${f.server.url}/v1/files/${job.result_files[0]}/content`, { headers: { authorization: `Bearer ${f.apiKey}` } })).text();
    const [header, ...rows] = csv.trim().split("\n");
    assert.equal(header, "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy");
    assert.ok(rows.length > 0);
    assert.match(rows[0]!, /^1,\d+(\.\d+)?(e-?\d+)?,,[^,]*,$/);
    assert.equal((await call(f, "POST", `/fine_tuning/jobs/${job.id}/cancel`)).status, 400);

    // Continuing from the fine-tuned model: an incremental task from the job's final checkpoint.
    const more = (await call(f, "POST", "/fine_tuning/jobs", { model: job.fine_tuned_model, training_file: f.chatFile, hyperparameters: { n_epochs: 1 } })).json;
    assert.equal(more.model, job.fine_tuned_model, JSON.stringify(more));
    const run = await f.server.server.res.db.selectFrom("openai_jobs").innerJoin("runs", "runs.num", "openai_jobs.run_num")
      .select(["runs.increment_step", "runs.id"]).where("openai_jobs.id", "=", more.id).executeTakeFirstOrThrow();
    assert.equal(run.increment_step, last.step_number);
    assert.match((await call(f, "GET", `/fine_tuning/jobs/${more.id}`)).json.fine_tuned_model ?? "", /^$/);
    await call(f, "POST", `/fine_tuning/jobs/${more.id}/cancel`);
    assert.equal((await settled(f, more.id)).status, "cancelled");
  });

  test("a DPO job on a preference file succeeds", async () => {
    const created = (await call(f, "POST", "/fine_tuning/jobs", {
      model: "tiny-oa", training_file: f.preferenceFile, method: { type: "dpo", dpo: { hyperparameters: { n_epochs: 1, batch_size: 4, beta: 0.2 } } },
    })).json;
    assert.equal(created.status, "queued", JSON.stringify(created));
    const job = await settled(f, created.id);
    assert.equal(job.status, "succeeded", JSON.stringify(job));
    assert.equal(job.hyperparameters, null);
    assert.equal(job.method.dpo.hyperparameters.beta, 0.2);
    assert.match(job.fine_tuned_model, /^ft:tiny-oa:sailfin::[A-Za-z0-9]{8}$/);
  });

  test("a running job pauses at a checkpoint, frees its worker, and resumes to succeeded", async () => {
    const created = (await call(f, "POST", "/fine_tuning/jobs", {
      model: "tiny-oa", training_file: f.chatFile, hyperparameters: { n_epochs: 50, batch_size: 1 },
    })).json;
    // Paused once training has logged a step, so the runtime saves a checkpoint as it stops.
    await pollUntil(async () => (await call(f, "GET", `/fine_tuning/jobs/${created.id}/events`)).json.data as any[],
      (events) => events.some((e) => e.type === "metrics"), "a training step", 60_000);
    assert.equal((await call(f, "POST", `/fine_tuning/jobs/${created.id}/pause`)).status, 200);
    const paused = await pollUntil(async () => (await call(f, "GET", `/fine_tuning/jobs/${created.id}`)).json, (j) => j.status !== "running", "paused", 60_000);
    assert.equal(paused.status, "paused", JSON.stringify(paused));
    assert.equal((await call(f, "POST", `/fine_tuning/jobs/${created.id}/resume`)).json.status, "queued");
    const job = await settled(f, created.id);
    assert.equal(job.status, "succeeded", JSON.stringify(job));
    const events = await allEvents(f, job.id);
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, "no event twice across pages");
    const messages = events.map((e: any) => e.message) as string[];
    assert.equal(messages.filter((m) => m === "Fine-tuning job started").length, 2, "once per attempt");
    assert.ok(messages.includes("Pause requested") && messages.includes("Fine-tuning job resumed"), messages.join(" | "));

    // The pause saved a checkpoint before the final one: its name is published on first use.
    const checkpoints = (await call(f, "GET", `/fine_tuning/jobs/${job.id}/checkpoints`)).json.data as any[];
    assert.ok(checkpoints.length >= 2, JSON.stringify(checkpoints));
    const final = await resolveFineTunedModel(f.server.server.res, job.fine_tuned_model);
    const earlier = await resolveFineTunedModel(f.server.server.res, checkpoints[1].fine_tuned_model_checkpoint);
    assert.equal(earlier?.status, "Creating");
    assert.notEqual(earlier?.modelVersionId, final!.modelVersionId);
    const published = await pollUntil(() => v2Ok(f.server, "model", "DescribeModel", { modelId: earlier!.modelVersionId }), (m) => m.status !== "Creating", "checkpoint publish");
    assert.equal(published.status, "Ready");
    assert.equal(published.sourceInfo.checkpointStep, checkpoints[1].step_number);
    assert.equal((await resolveFineTunedModel(f.server.server.res, checkpoints[1].fine_tuned_model_checkpoint))?.modelVersionId, earlier!.modelVersionId);
    // Deleting the models (V2 DeleteModel; DELETE /v1/models goes through the same repository delete): their names
    // answer nothing, the checkpoint is not published again, and the job stays succeeded.
    await v2Ok(f.server, "model", "DeleteModel", { modelId: earlier!.modelVersionId });
    assert.equal(await resolveFineTunedModel(f.server.server.res, checkpoints[1].fine_tuned_model_checkpoint), null);
    await v2Ok(f.server, "model", "DeleteModel", { modelId: final!.modelVersionId });
    assert.equal(await resolveFineTunedModel(f.server.server.res, job.fine_tuned_model), null);
    assert.ok(!(await listFineTunedModels(f.server.server.res)).some((m) => m.id === job.fine_tuned_model));
    const after = (await call(f, "GET", `/fine_tuning/jobs/${job.id}`)).json;
    assert.equal(after.status, "succeeded", JSON.stringify(after));
    // Publishing a checkpoint (or deleting a model) does not end the job again.
    const endings = await f.server.server.res.db.selectFrom("events").select("to_state")
      .where("object_kind", "=", FINE_TUNING_JOB_KIND).where("object_id", "=", job.id).execute();
    assert.deepEqual(endings.map((e) => e.to_state), ["succeeded"]);
  });

  test("a running job is cancelled by its worker", async () => {
    const created = (await call(f, "POST", "/fine_tuning/jobs", {
      model: "tiny-oa", training_file: f.chatFile, hyperparameters: { n_epochs: 50, batch_size: 1 },
    })).json;
    await pollUntil(async () => (await call(f, "GET", `/fine_tuning/jobs/${created.id}`)).json, (j) => j.status === "running", "running", 60_000);
    const asked = await call(f, "POST", `/fine_tuning/jobs/${created.id}/cancel`);
    assert.equal(asked.status, 200);
    const job = await settled(f, created.id);
    assert.equal(job.status, "cancelled");
    assert.equal(job.fine_tuned_model, null);
    const endings = await f.server.server.res.db.selectFrom("events").select("to_state")
      .where("object_kind", "=", FINE_TUNING_JOB_KIND).where("object_id", "=", job.id).execute();
    assert.deepEqual(endings.map((e) => e.to_state), ["cancelled"]);
  });
});
