import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { startTestServer, testAxes, v1Raw, v2Raw, type TestServer } from "./harness.js";
import { releasedDataset, type ReleasedDataset } from "./fixtures/dataset-imports.js";
import { addCheckpoints, eventsOf, insertPublishedVersion, runRow, setRunState } from "./fixtures/finetune-fixtures.js";
import { TINY, importBaseModel, importModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";

/**
 * Fine-tuning objects over both dialects (reference §6): V2 jobs/tasks, V1 tasks/jobs, the
 * support-models table and hyper-parameter validation, and the create-vs-delete races with the
 * model repository and datasets. Base models and datasets are imported through the real APIs;
 * no worker exists yet, so runs stay Queued unless a fixture moves them (standing in for it).
 */

const MODEL = "tiny-llama";
const OTHER_MODEL = "tiny-qwen";
const PAGE_MODEL = "page-model";
/** Not trainable: a set whose only import failed its checks, and a set with no version at all. */
const FAILED_MODEL = "import-failed";
const EMPTY_MODEL = "no-versions";
const RACE_ROUNDS = 20;
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const SQL_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;
const JOB_DETAIL_KEYS = [
  "id", "description", "taskId", "taskName", "version", "jobRunType", "trainType", "trainMode", "peftType",
  "trainStatus", "startTime", "finishTime", "runTime", "trainTime", "progress", "vdlLink", "resourceConfig",
];
// This file's server runs no worker: a queued run's detail ends with Sailfin's waitingReason (docs/api.md).
const QUEUED_DETAIL_KEYS = [...JOB_DETAIL_KEYS, "waitingReason"];

// One tiny model per context length, written once for the whole file (both dialects) and
// imported as often as the tests need.
let tiny: TinyModelFolders;
before(async () => {
  tiny = await writeTinyModels({ llama: { ...TINY, maxPositions: 4096 }, qwen: { ...TINY, architecture: "qwen2", maxPositions: 512 } });
});
after(async () => { await tiny.remove(); });

for (const { dialect, artifacts, label } of testAxes()) {
  describe(`fine-tuning (${label})`, () => {
    let server: TestServer;
    const ds: Record<string, ReleasedDataset> = {};
    let baseVersionId = "";

    const v2 = (action: string, body: unknown) => v2Raw(server, "finetuning", action, body);
    const v1 = (op: string, body: unknown) => v1Raw(server, `/wenxinworkshop/finetune/${op}`, body);
    async function ok2(action: string, body: unknown): Promise<any> {
      const r = await v2(action, body);
      assert.equal(r.status, 200, `${action}: ${r.text}`);
      assert.match(r.body.requestId, /^[0-9a-f-]{36}$/);
      return r.body.result;
    }
    async function ok1(op: string, body: unknown): Promise<any> {
      const r = await v1(op, body);
      assert.equal(r.status, 200);
      assert.equal(r.body.error_code, undefined, `${op}: ${r.text}`);
      assert.ok(r.body.log_id);
      return r.body.result;
    }
    /** A V2 error naming `field` (InappropriateJSON 400 unless told). */
    async function fails2(action: string, body: unknown, field: string, code = "InappropriateJSON", status = 400) {
      const r = await v2(action, body);
      assert.equal(r.status, status, `${action} ${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.code, code, r.text);
      if (field !== "") assert.ok(r.body.message.includes(`param[${field}] invalid`), `expected param[${field}]: ${r.body.message}`);
      return r.body.message as string;
    }
    /** A V1 error (HTTP 200, error_code) naming `field`. */
    async function fails1(op: string, body: unknown, field: string, code = 500001) {
      const r = await v1(op, body);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.error_code, code, r.text);
      if (field !== "") assert.ok(r.body.error_msg.startsWith(`param[${field}] invalid`), `expected param[${field}]: ${r.body.error_msg}`);
      return r.body.error_msg as string;
    }
    const newJob = async (trainMode = "SFT", model = MODEL, name = "job") =>
      (await ok2("CreateFineTuningJob", { name, description: "d", model, trainMode })).jobId as string;
    const taskBody = (jobId: string, versionId: string, extra: Record<string, unknown> = {}) => ({
      jobId, parameterScale: "FullFineTuning", hyperParameterConfig: { epoch: 1 },
      datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 }, ...extra,
    });
    const newTask = async (jobId: string, versionId = ds.sft!.versionId, extra: Record<string, unknown> = {}) =>
      (await ok2("CreateFineTuningTask", taskBody(jobId, versionId, extra))).taskId as string;
    const jobNum = async (jobId: string) =>
      (await server.server.res.db.selectFrom("finetune_jobs").select("num").where("id", "=", jobId).executeTakeFirstOrThrow()).num;
    const runCount = async () =>
      Number((await server.server.res.db.selectFrom("runs").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);

    before(async () => {
      server = await startTestServer(dialect, {}, artifacts);
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      await stageFolder(server, tiny.dir("qwen"), "hub", "qwen");
      await stageFolder(server, tiny.dir("llama"), "hub", "no-tokenizer", ["tokenizer.json"]);
      baseVersionId = (await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "llama" })).versionId;
      await importBaseModel(server, OTHER_MODEL, { bucket: "hub", objectPath: "qwen" });
      await importBaseModel(server, PAGE_MODEL, { bucket: "hub", objectPath: "llama" });
      assert.equal((await importModel(server, FAILED_MODEL, { bucket: "hub", objectPath: "no-tokenizer" })).version.status, "Fail");
      await server.admin.v2("model", "CreateCustomModelSet", { modelSetName: EMPTY_MODEL, modelType: "Text2Text" });
      ds.sft = await releasedDataset(server, { name: "sft", format: "PromptResponse" });
      ds.messages = await releasedDataset(server, { name: "messages", format: "Messages" });
      ds.text = await releasedDataset(server, { name: "text", format: "Text" });
      ds.pcr = await releasedDataset(server, { name: "pcr", format: "DPO_PromptChosenRejected" });
      ds.unreleased = await releasedDataset(server, { name: "unreleased", format: "PromptResponse", released: false });
    });
    after(async () => { await server.close(); });

    test("DescribeFineTuningSupportModels lists Ready imported base models with their hyper-parameter tables", async () => {
      const models: any[] = await ok2("DescribeFineTuningSupportModels", {});
      assert.ok(Array.isArray(models));
      const names = models.map((m) => m.model);
      assert.ok(names.includes(MODEL) && names.includes(OTHER_MODEL));
      assert.ok(!names.includes(FAILED_MODEL), "a model whose import failed is not trainable");
      assert.ok(!names.includes(EMPTY_MODEL), "a model set without a Ready version is not trainable");
      const llama = models.find((m) => m.model === MODEL);
      assert.equal(llama.modelType, "text2text");
      assert.deepEqual(llama.supportTrainMode.map((t: any) => t.trainMode), ["SFT", "PostPretrain", "DPO", "KTO"]);
      for (const mode of llama.supportTrainMode) {
        assert.deepEqual(mode.supportParameterScale.map((s: any) => s.parameterScale), ["FullFineTuning", "LoRA"]);
        for (const scale of mode.supportParameterScale) {
          const keys = scale.supportHyperParameterConfig.map((d: any) => d.key);
          for (const d of scale.supportHyperParameterConfig) {
            for (const field of ["key", "name", "description", "type", "checkType", "checkValue", "default"]) assert.ok(field in d, `${d.key}.${field}`);
            assert.ok(["int", "float", "boolean", "string"].includes(d.type));
            assert.ok(["range", "choice", "mult_choice"].includes(d.checkType));
          }
          assert.equal(keys.includes("loraRank"), scale.parameterScale === "LoRA");
          assert.equal(keys.includes("loraBaseQuantization"), scale.parameterScale === "LoRA");
          assert.equal(keys.includes("dpoBeta"), mode.trainMode === "DPO");
          assert.equal(keys.includes("ktoBeta"), mode.trainMode === "KTO");
          const byKey = Object.fromEntries(scale.supportHyperParameterConfig.map((d: any) => [d.key, d]));
          assert.deepEqual(byKey.epoch, { ...byKey.epoch, type: "int", checkType: "range", checkValue: [1, 50], default: 1 });
          assert.equal(byKey.learningRate.default, scale.parameterScale === "LoRA" ? 3e-4 : 3e-5);
          assert.deepEqual(byKey.maxSeqLen.checkValue, [128, 256, 512, 1024, 2048, 4096]);
          assert.equal(byKey.maxSeqLen.default, 2048);
          assert.deepEqual(byKey.schedulerName.checkValue, ["cosine", "linear", "constant"]);
          if (scale.parameterScale === "LoRA") {
            assert.deepEqual(byKey.loraBaseQuantization, { ...byKey.loraBaseQuantization, type: "string", checkType: "choice", checkValue: ["None", "NF4"], default: "None" });
          }
        }
      }
      const qwen = models.find((m) => m.model === OTHER_MODEL);
      const seq = qwen.supportTrainMode[0].supportParameterScale[0].supportHyperParameterConfig.find((d: any) => d.key === "maxSeqLen");
      assert.deepEqual(seq.checkValue, [128, 256, 512]);
      assert.equal(seq.default, 512);
    });

    test("CreateFineTuningJob answers {jobId}; bad input names the field", async () => {
      const created = await ok2("CreateFineTuningJob", { name: "my-job", model: MODEL, trainMode: "SFT" });
      assert.deepEqual(Object.keys(created), ["jobId"]);
      assert.match(created.jobId, /^job-[a-z0-9]{12}$/);
      const events = await eventsOf(server, created.jobId);
      assert.equal(events.length, 1);
      await fails2("CreateFineTuningJob", { name: "x", model: MODEL, trainMode: "SFT" }, "name");
      await fails2("CreateFineTuningJob", { name: "a".repeat(21), model: MODEL, trainMode: "SFT" }, "name");
      await fails2("CreateFineTuningJob", { name: "ok-name", model: "no-such-model", trainMode: "SFT" }, "model");
      await fails2("CreateFineTuningJob", { name: "ok-name", model: FAILED_MODEL, trainMode: "SFT" }, "model");
      await fails2("CreateFineTuningJob", { name: "ok-name", model: EMPTY_MODEL, trainMode: "SFT" }, "model");
      await fails2("CreateFineTuningJob", { name: "ok-name", model: MODEL, trainMode: "RLHF" }, "trainMode");
      await fails2("CreateFineTuningJob", { name: "ok-name", model: MODEL }, "trainMode");
      const msg = await fails2("CreateFineTuningJob", { name: "ok-name", model: MODEL, trainMode: "SFT", parameterScale: "PromptTuning" }, "parameterScale");
      assert.match(msg, /not supported/);
    });

    test("DescribeFineTuningJobs: items and pageInfo as seed 001; filters trainMode, trainModel (Python's typo) and model", async () => {
      const dpoJob = await newJob("DPO", OTHER_MODEL, "dpo-job");
      const list = await ok2("DescribeFineTuningJobs", { trainMode: "DPO" });
      assert.deepEqual(Object.keys(list), ["jobList", "pageInfo"]);
      assert.equal(list.jobList.length, 1);
      const item = list.jobList[0];
      assert.deepEqual(Object.keys(item), ["jobId", "name", "description", "model", "trainMode", "createTime", "createDate"]);
      assert.deepEqual({ ...item, createTime: "", createDate: "" },
        { jobId: dpoJob, name: "dpo-job", description: "d", model: OTHER_MODEL, trainMode: "DPO", createTime: "", createDate: "" });
      assert.match(item.createTime, ISO_Z);
      assert.deepEqual(list.pageInfo, { marker: "", maxKeys: 10, isTruncated: false });
      assert.deepEqual((await ok2("DescribeFineTuningJobs", { trainModel: "DPO" })).jobList.map((j: any) => j.jobId), [dpoJob]);
      assert.deepEqual((await ok2("DescribeFineTuningJobs", { model: OTHER_MODEL })).jobList.map((j: any) => j.jobId), [dpoJob]);
      assert.deepEqual((await ok2("DescribeFineTuningJobs", { model: OTHER_MODEL, trainMode: "SFT" })).jobList, []);
    });

    test("DescribeFineTuningJobs keyset pagination: 25 jobs, maxKeys 10, forward and reverse", async () => {
      const created: string[] = [];
      for (let i = 0; i < 25; i++) created.push(await newJob("SFT", PAGE_MODEL, `page-${i}`));
      const walk = async (pageReverse: boolean) => {
        const seen: string[] = [];
        let marker: string | undefined;
        const sizes: number[] = [];
        for (;;) {
          const page = await ok2("DescribeFineTuningJobs", { model: PAGE_MODEL, maxKeys: 10, pageReverse, ...(marker ? { marker } : {}) });
          sizes.push(page.jobList.length);
          seen.push(...page.jobList.map((j: any) => j.jobId));
          assert.equal(page.pageInfo.marker, marker ?? "");
          assert.equal(page.pageInfo.maxKeys, 10);
          if (!page.pageInfo.isTruncated) {
            assert.ok(!("nextMarker" in page.pageInfo), "nextMarker only when truncated");
            break;
          }
          assert.equal(typeof page.pageInfo.nextMarker, "string");
          marker = page.pageInfo.nextMarker;
        }
        assert.deepEqual(sizes, [10, 10, 5]);
        return seen;
      };
      assert.deepEqual(await walk(false), [...created].reverse(), "newest first");
      assert.deepEqual(await walk(true), created, "oldest first when reversed");
      // Python sends the marker as `maker`.
      const viaTypo = await ok2("DescribeFineTuningJobs", { model: PAGE_MODEL, maxKeys: 2, maker: created[5] });
      assert.deepEqual(viaTypo.jobList.map((j: any) => j.jobId), [created[5], created[4]]);
      const clamped = await ok2("DescribeFineTuningJobs", { model: PAGE_MODEL, maxKeys: 1000 });
      assert.equal(clamped.pageInfo.maxKeys, 100);
      await fails2("DescribeFineTuningJobs", { marker: "job-doesnotexist" }, "", "InvalidMarker");
      await fails2("DescribeFineTuningJobs", { maxKeys: 0 }, "maxKeys");
    });

    test("CreateFineTuningTask queues a run: Waiting in V2, RUNNING with progress 0 in V1, frozen spec", async () => {
      const jobId = await newJob();
      const created = await ok2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { hyperParameterConfig: { epoch: 3, learningRate: 0.0001 } }));
      assert.deepEqual(Object.keys(created).sort(), ["jobId", "taskId"]);
      assert.equal(created.jobId, jobId);
      assert.match(created.taskId, /^task-[a-z0-9]{12}$/);

      const task = await ok2("DescribeFineTuningTask", { taskId: created.taskId });
      assert.equal(task.taskId, created.taskId);
      assert.equal(task.jobId, jobId);
      assert.equal(task.jobName, "job");
      assert.equal(task.jobDescription, "d");
      assert.equal(task.model, MODEL);
      assert.equal(task.trainMode, "SFT");
      assert.equal(task.parameterScale, "FullFineTuning");
      assert.equal(task.runStatus, "Waiting");
      assert.ok(!("runProgress" in task), "runProgress only while Running");
      assert.equal(task.vdlLink, `${server.url}/console/tasks/${created.taskId}`);
      assert.deepEqual(task.checkpointList, []);
      assert.match(task.createDate, ISO_Z);
      assert.equal(task.finishDate, "0000-00-00T00:00:00Z");
      assert.equal(task.hyperParameterConfig.epoch, 3);
      assert.equal(task.hyperParameterConfig.learningRate, 0.0001);
      assert.equal(task.hyperParameterConfig.batchSize, 8);
      assert.equal(task.hyperParameterConfig.maxSeqLen, 2048);
      assert.equal(task.hyperParameterConfig.schedulerName, "cosine");
      assert.ok(!("loraRank" in task.hyperParameterConfig));
      assert.deepEqual(task.datasetConfig, { sourceType: "Platform", versions: [{ versionId: ds.sft!.versionId, samplingRate: 1 }], splitRatio: 20 });

      const row = (await runRow(server, created.taskId))!;
      assert.equal(row.status, "Queued");
      assert.equal(Number(row.progress), 0);
      assert.equal(row.attempt, 0);
      assert.equal(row.max_attempts, 3);
      assert.equal(row.priority, 0);
      assert.equal(row.cancel_requested, 0);
      assert.equal(row.kind, "finetune");
      const spec = JSON.parse(row.spec);
      assert.equal(spec.baseModel.versionId, baseVersionId);
      assert.equal(spec.trainMode, "SFT");
      assert.equal(spec.parameterScale, "FullFineTuning");
      assert.equal(spec.dataset.splitRatio, 20);
      assert.equal(spec.dataset.versions[0].contentHash, ds.sft!.contentHash);
      assert.equal(spec.hyperParameters.seed, 42);
      assert.deepEqual(JSON.parse(row.dataset_hashes), { [ds.sft!.versionId]: ds.sft!.contentHash });
      const events = await eventsOf(server, created.taskId);
      assert.deepEqual(events.map((e) => [e.from_state, e.to_state]), [[null, "Queued"]]);

      // The same run through V1: the numeric ids of the container and the run.
      const detail = await ok1("jobDetail", { taskId: await jobNum(jobId), jobId: row.num });
      assert.deepEqual(Object.keys(detail), QUEUED_DETAIL_KEYS);
      assert.equal(detail.waitingReason, "no worker online");
      assert.equal(detail.trainStatus, "RUNNING");
      assert.equal(detail.progress, 0);
      assert.equal(detail.runTime, 0);
      assert.equal(detail.trainTime, 0);
      assert.equal(detail.startTime, "0000-00-00 00:00:00");
      assert.equal(detail.finishTime, "0000-00-00 00:00:00");
      assert.equal(detail.peftType, "ALL");
      assert.equal(detail.jobRunType, 0);
      assert.equal(detail.version, 1);
      assert.equal(detail.trainType, MODEL);
    });

    test("LoRA tasks get LoRA defaults; DPO, PostPretrain and Messages SFT take their formats", async () => {
      const sft = await newJob();
      const lora = await ok2("DescribeFineTuningTask", {
        taskId: await newTask(sft, ds.messages!.versionId, { parameterScale: "LoRA", hyperParameterConfig: { loraAllLinear: false } }),
      });
      assert.equal(lora.parameterScale, "LoRA");
      assert.equal(lora.hyperParameterConfig.learningRate, 3e-4);
      assert.equal(lora.hyperParameterConfig.loraRank, 8);
      assert.equal(lora.hyperParameterConfig.loraAllLinear, "False");
      assert.deepEqual(lora.hyperParameterConfig.loraTargetModules, ["q_proj", "v_proj"]);
      assert.equal(lora.hyperParameterConfig.loraBaseQuantization, "None");
      const qlora = await ok2("DescribeFineTuningTask", {
        taskId: await newTask(sft, ds.messages!.versionId, { parameterScale: "LoRA", hyperParameterConfig: { loraBaseQuantization: "NF4" } }),
      });
      assert.equal(qlora.hyperParameterConfig.loraBaseQuantization, "NF4", "QLoRA: the NF4 base is accepted and kept");
      const dpo = await ok2("DescribeFineTuningTask", { taskId: await newTask(await newJob("DPO"), ds.pcr!.versionId) });
      assert.equal(dpo.hyperParameterConfig.dpoBeta, 0.1);
      await newTask(await newJob("KTO"), ds.pcr!.versionId);
      await newTask(await newJob("PostPretrain"), ds.text!.versionId);
    });

    test("every hyper-parameter violation names hyperParameterConfig.<key>, and writes nothing", async () => {
      const jobId = await newJob();
      const before = await runCount();
      const cases: Array<[string, Record<string, unknown>, string, string?]> = [
        ["out of range (low)", { epoch: 0 }, "epoch"],
        ["out of range (high)", { epoch: 51 }, "epoch"],
        ["wrong type (string for int)", { epoch: "3" }, "epoch"],
        ["wrong type (fraction for int)", { batchSize: 1.5 }, "batchSize"],
        ["float out of range", { learningRate: 1 }, "learningRate"],
        ["float wrong type", { learningRate: "fast" }, "learningRate"],
        ["not in choice", { maxSeqLen: 1000 }, "maxSeqLen"],
        ["above the model's context", { maxSeqLen: 8192 }, "maxSeqLen"],
        ["string not in choice", { schedulerName: "step" }, "schedulerName"],
        ["string wrong type", { schedulerName: 1 }, "schedulerName"],
        ["warm-up out of range", { warmupRatio: 0.6 }, "warmupRatio"],
        ["negative seed", { seed: -1 }, "seed"],
        ["unknown key", { foo: 1 }, "foo"],
        ["LoRA key on FullFineTuning", { loraRank: 8 }, "loraRank"],
        ["DPO key on SFT", { dpoBeta: 0.1 }, "dpoBeta"],
        ["LoRA rank not in choice", { loraRank: 5 }, "loraRank", "LoRA"],
        ["mult_choice item not in choice", { loraTargetModules: ["q_proj", "x_proj"] }, "loraTargetModules", "LoRA"],
        ["mult_choice wrong type", { loraTargetModules: "q_proj" }, "loraTargetModules", "LoRA"],
        ["mult_choice empty", { loraTargetModules: [] }, "loraTargetModules", "LoRA"],
        ["LoRA alpha out of range", { loraAlpha: 300 }, "loraAlpha", "LoRA"],
        ["base quantization not in choice", { loraBaseQuantization: "int4" }, "loraBaseQuantization", "LoRA"],
        ["base quantization on FullFineTuning", { loraBaseQuantization: "NF4" }, "loraBaseQuantization"],
      ];
      for (const [label, config, key, scale] of cases) {
        const msg = await fails2("CreateFineTuningTask",
          taskBody(jobId, ds.sft!.versionId, { parameterScale: scale ?? "FullFineTuning", hyperParameterConfig: config }),
          `hyperParameterConfig.${key}`);
        assert.ok(msg.length > 0, label);
      }
      const loraMsg = await fails2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { hyperParameterConfig: { loraRank: 8 } }), "hyperParameterConfig.loraRank");
      assert.match(loraMsg, /LoRA/);
      // V1 names the same problems under trainConfig, keys in any case.
      const taskId = await jobNum(jobId);
      const v1Body = (trainConfig: Record<string, unknown>) => ({ taskId, jobRunType: 0, trainMode: "SFT", peftType: "ALL", trainConfig, trainset: [{ type: 1, id: ds.sft!.num }], trainsetRate: 20 });
      await fails1("createJob", v1Body({ epoch: 0 }), "trainConfig.epoch");
      await fails1("createJob", v1Body({ LearningRate: 5 }), "trainConfig.LearningRate");
      await fails1("createJob", v1Body({ loraRank: 8 }), "trainConfig.loraRank");
      assert.equal(await runCount(), before, "no run written by a refused request");
    });

    test("datasets: unreleased, wrong format, unknown ids, Bos source, bad split and sampling rates are refused by field", async () => {
      const jobId = await newJob();
      const field = "datasetConfig.versions[0].versionId";
      assert.match(await fails2("CreateFineTuningTask", taskBody(jobId, ds.unreleased!.versionId), field), /not released/);
      assert.match(await fails2("CreateFineTuningTask", taskBody(jobId, ds.text!.versionId), field), /Text/);
      assert.match(await fails2("CreateFineTuningTask", taskBody(await newJob("DPO"), ds.sft!.versionId), field), /PromptChosenRejected/);
      await fails2("CreateFineTuningTask", taskBody(jobId, "ds-doesnotexist0000"), field);
      await fails2("CreateFineTuningTask", taskBody("job-doesnotexist", ds.sft!.versionId), "jobId");
      const dc = (over: Record<string, unknown>) => taskBody(jobId, "", { datasetConfig: { sourceType: "Platform", versions: [{ versionId: ds.sft!.versionId }], ...over } });
      assert.match(await fails2("CreateFineTuningTask", dc({ sourceType: "Bos", versions: [{ versionBosUri: "bos:/b/p/" }] }), "datasetConfig.sourceType"), /not supported yet/);
      await fails2("CreateFineTuningTask", dc({ splitRatio: null }), "datasetConfig.splitRatio");
      await fails2("CreateFineTuningTask", dc({ splitRatio: 21 }), "datasetConfig.splitRatio");
      await fails2("CreateFineTuningTask", dc({ splitRatio: -1 }), "datasetConfig.splitRatio");
      await fails2("CreateFineTuningTask", dc({ versions: [] }), "datasetConfig.versions");
      await fails2("CreateFineTuningTask", dc({ versions: [{}] }), field);
      await fails2("CreateFineTuningTask", dc({ versions: [{ versionId: ds.sft!.versionId, samplingRate: 0 }] }), "datasetConfig.versions[0].samplingRate");
      await fails2("CreateFineTuningTask", dc({ versions: [{ versionId: ds.sft!.versionId }, { versionId: ds.sft!.versionId }] }), "datasetConfig.versions[1].versionId");
      await fails2("CreateFineTuningTask", { jobId }, "datasetConfig");
      assert.match(await fails2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { parameterScale: "PromptTuning" }), "parameterScale"), /not supported/);
      await fails2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { parameterScale: "Half" }), "parameterScale");
      assert.match(await fails2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { corpusConfig: { copyData: false, config: [{ corpusType: 1, proportion: "1:1" }] } }), "corpusConfig"), /not supported/);
      // V1: the same checks under V1 names.
      const v1Body = (over: Record<string, unknown>) => ({ taskId: jobId, trainMode: "SFT", peftType: "ALL", trainConfig: {}, trainset: [{ type: 1, id: ds.sft!.num }], trainsetRate: 20, ...over });
      await fails1("createJob", v1Body({ trainset: [{ type: 1, id: ds.unreleased!.num }] }), "trainset[0].id");
      await fails1("createJob", v1Body({ trainset: [{ type: 1, id: ds.text!.versionId }] }), "trainset[0].id");
      await fails1("createJob", v1Body({ trainset: [{ type: 1, id: 987654 }] }), "trainset[0].id");
      assert.match(await fails1("createJob", v1Body({ trainset: [{ type: 2, id: "bos:/b/p" }] }), "trainset[0].type"), /not supported yet/);
      await fails1("createJob", v1Body({ trainset: [{ type: 3, id: 1 }] }), "trainset[0].type");
      await fails1("createJob", v1Body({ trainsetRate: 51 }), "trainsetRate");
      assert.match(await fails1("createJob", v1Body({ peftType: "P-tuning" }), "peftType"), /not supported/);
      await fails1("createJob", v1Body({ peftType: "QLoRA" }), "peftType");
      await fails1("createJob", v1Body({ trainMode: "DPO" }), "trainMode");
      await fails1("createJob", v1Body({ trainType: OTHER_MODEL }), "trainType");
      await fails1("createJob", v1Body({ taskId: 987654 }), "taskId");
      await fails1("createJob", v1Body({ jobRunType: 1 }), "increConfig");
    });

    test("V1 createTask / createJob / jobDetail: shapes, case-insensitive keys, ids as int and string", async () => {
      const task = await ok1("createTask", { name: "v1-task", description: "from v1", baseTraintype: "Llama", TRAINTYPE: MODEL });
      assert.deepEqual(Object.keys(task), ["id", "uuid", "name", "description", "createTime"]);
      assert.equal(typeof task.id, "number");
      assert.match(task.uuid, /^job-[a-z0-9]{12}$/);
      assert.equal(task.name, "v1-task");
      assert.equal(task.description, "from v1");
      assert.match(task.createTime, SQL_TIME);
      await fails1("createTask", { name: "v1-task", baseTrainType: "Llama", trainType: "nope" }, "trainType");
      await fails1("createTask", { name: "v", trainType: MODEL }, "name");

      const body = {
        taskid: task.id, jobRunType: 0, trainMode: "SFT", pefttype: "LoRA", baseTrainType: "Llama", trainType: MODEL,
        trainConfig: { epoch: 2, learningrate: 0.0001, batchSize: 4, maxSeqLen: 1024, loraRank: 16 },
        trainset: [{ type: 1, id: ds.sft!.num }], trainsetRate: 30,
      };
      const run = await ok1("createJob", body);
      assert.deepEqual(Object.keys(run), ["id", "uuid"]);
      assert.equal(typeof run.id, "number");
      assert.match(run.uuid, /^task-[a-z0-9]{12}$/);
      // The container by its string id and the dataset by id / digit string.
      const run2 = await ok1("createJob", { ...body, taskid: task.uuid, trainset: [{ type: 1, id: ds.messages!.versionId }] });
      const run3 = await ok1("createJob", { ...body, taskid: String(task.id), trainset: [{ type: 1, id: String(ds.sft!.num) }] });

      const detail = await ok1("jobDetail", { taskId: task.id, jobId: run.id });
      assert.deepEqual(Object.keys(detail), QUEUED_DETAIL_KEYS);
      assert.equal(detail.id, run.id);
      assert.equal(detail.taskId, task.id);
      assert.equal(detail.taskName, "v1-task");
      assert.equal(detail.version, 1);
      assert.equal(detail.trainType, MODEL);
      assert.equal(detail.trainMode, "SFT");
      assert.equal(detail.peftType, "LoRA");
      assert.equal(detail.trainStatus, "RUNNING");
      assert.equal(detail.progress, 0);
      assert.equal(detail.vdlLink, `${server.url}/console/tasks/${run.uuid}`);
      assert.deepEqual(await ok1("jobDetail", { taskId: task.uuid, jobId: run.uuid }), detail);
      assert.deepEqual(await ok1("jobDetail", { TaskId: String(task.id), JobId: String(run.id) }), detail);
      assert.equal((await ok1("jobDetail", { taskId: task.id, jobId: run3.id })).version, 3);
      await fails1("jobDetail", { taskId: task.id, jobId: 987654 }, "jobId");
      await fails1("jobDetail", { taskId: 987654, jobId: run.id }, "taskId");
      const other = await ok1("createTask", { name: "other-task", trainType: MODEL });
      await fails1("jobDetail", { taskId: other.id, jobId: run.id }, "jobId");
      await fails1("jobDetail", { taskId: task.id }, "jobId");
      await fails1("jobDetail", { taskId: task.id, jobId: -1 }, "jobId");

      // The V2 view of the V1 run: hyper-parameters resolved, split ratio from trainsetRate.
      const v2Task = await ok2("DescribeFineTuningTask", { taskId: run2.uuid });
      assert.equal(v2Task.jobId, task.uuid);
      assert.equal(v2Task.parameterScale, "LoRA");
      assert.equal(v2Task.hyperParameterConfig.learningRate, 0.0001);
      assert.equal(v2Task.hyperParameterConfig.loraRank, 16);
      assert.equal(v2Task.datasetConfig.splitRatio, 30);
      assert.equal(v2Task.datasetConfig.versions[0].versionId, ds.messages!.versionId);
    });

    test("the V1/V2 swap: a V2 job is a V1 task and a V1 task is a V2 job", async () => {
      const jobId = await newJob("SFT", MODEL, "swap-v2");
      const v1Run = await ok1("createJob", { taskId: jobId, trainMode: "SFT", peftType: "ALL", trainConfig: { epoch: 1 }, trainset: [{ type: 1, id: ds.sft!.num }], trainsetRate: 10 });
      const listed = await ok2("DescribeFineTuningTasks", { jobId });
      assert.deepEqual(listed.taskList.map((t: any) => t.taskId), [v1Run.uuid]);
      assert.equal((await ok1("jobDetail", { taskId: jobId, jobId: v1Run.uuid })).taskName, "swap-v2");

      const v1Task = await ok1("createTask", { name: "swap-v1", baseTrainType: "Llama", trainType: MODEL });
      const jobs = await ok2("DescribeFineTuningJobs", { model: MODEL, maxKeys: 100 });
      const asJob = jobs.jobList.find((j: any) => j.jobId === v1Task.uuid);
      assert.equal(asJob.name, "swap-v1");
      assert.equal(asJob.trainMode, "SFT");
      const v2Task = await ok2("CreateFineTuningTask", taskBody(v1Task.uuid, ds.sft!.versionId));
      assert.equal(v2Task.jobId, v1Task.uuid);
      const detail = await ok1("jobDetail", { taskId: v1Task.id, jobId: v2Task.taskId });
      assert.equal(detail.taskId, v1Task.id);
      assert.equal(detail.trainStatus, "RUNNING");
    });

    test("DescribeFineTuningTasks: jobId required, taskList + pageInfo, keyset within the job", async () => {
      await fails2("DescribeFineTuningTasks", {}, "jobId");
      await fails2("DescribeFineTuningTasks", { jobId: "job-doesnotexist" }, "jobId");
      const jobId = await newJob();
      const tasks = [await newTask(jobId), await newTask(jobId), await newTask(jobId)];
      const first = await ok2("DescribeFineTuningTasks", { jobId, maxKeys: 2 });
      assert.deepEqual(Object.keys(first), ["taskList", "pageInfo"]);
      assert.deepEqual(first.taskList.map((t: any) => t.taskId), [tasks[2], tasks[1]]);
      assert.deepEqual(first.pageInfo, { marker: "", maxKeys: 2, isTruncated: true, nextMarker: tasks[0] });
      assert.equal(first.taskList[0].runStatus, "Waiting");
      assert.equal(first.taskList[0].jobId, jobId);
      const second = await ok2("DescribeFineTuningTasks", { jobId, maxKeys: 2, marker: first.pageInfo.nextMarker });
      assert.deepEqual(second.taskList.map((t: any) => t.taskId), [tasks[0]]);
      assert.deepEqual(second.pageInfo, { marker: tasks[0], maxKeys: 2, isTruncated: false });
      const reversed = await ok2("DescribeFineTuningTasks", { jobId, pageReverse: true });
      assert.deepEqual(reversed.taskList.map((t: any) => t.taskId), tasks);
      const otherJob = await newJob();
      const foreign = await newTask(otherJob);
      await fails2("DescribeFineTuningTasks", { jobId, marker: foreign }, "", "InvalidMarker");
      await fails2("DescribeFineTuningTask", { taskId: "task-doesnotexist" }, "taskId");
      await fails2("DescribeFineTuningTask", {}, "taskId");
    });

    test("stopping: a queued task is Stopped at once (event row); a running one is asked to stop; a finished one is refused", async () => {
      const jobId = await newJob();
      const queued = await newTask(jobId);
      assert.equal(await ok2("StopFineTuningTask", { taskId: queued }), true);
      const stopped = await ok2("DescribeFineTuningTask", { taskId: queued });
      assert.equal(stopped.runStatus, "Stopped");
      assert.match(stopped.finishDate, ISO_Z);
      assert.notEqual(stopped.finishDate, "0000-00-00T00:00:00Z");
      assert.deepEqual((await eventsOf(server, queued)).map((e) => [e.from_state, e.to_state]), [[null, "Queued"], ["Queued", "Cancelled"]]);
      assert.equal(await ok2("StopFineTuningTask", { taskId: queued }), true, "stopping a stopped task is idempotent");
      assert.equal((await eventsOf(server, queued)).length, 2);
      const row = (await runRow(server, queued))!;
      assert.equal((await ok1("jobDetail", { taskId: await jobNum(jobId), jobId: row.num })).trainStatus, "STOP");

      // V1 stopJob on a queued run.
      const viaV1 = await newTask(jobId);
      const v1Row = (await runRow(server, viaV1))!;
      assert.equal(await ok1("stopJob", { taskId: jobId, jobId: v1Row.num }), true);
      assert.equal((await ok2("DescribeFineTuningTask", { taskId: viaV1 })).runStatus, "Stopped");

      // Running: the worker (a later issue) acts on cancel_requested.
      const running = await newTask(jobId);
      await setRunState(server, running, { status: "Running", progress: 40 });
      const live = await ok2("DescribeFineTuningTask", { taskId: running });
      assert.equal(live.runStatus, "Running");
      assert.equal(live.runProgress, "40%");
      const runningRow = (await runRow(server, running))!;
      const v1Live = await ok1("jobDetail", { taskId: jobId, jobId: runningRow.num });
      assert.equal(v1Live.trainStatus, "RUNNING");
      assert.equal(v1Live.progress, 40);
      assert.ok(v1Live.runTime >= 89, `runTime ${v1Live.runTime}`);
      assert.match(v1Live.startTime, SQL_TIME);
      assert.equal(await ok2("StopFineTuningTask", { taskId: running }), true);
      assert.equal((await runRow(server, running))!.cancel_requested, 1);
      assert.equal((await ok2("DescribeFineTuningTask", { taskId: running })).runStatus, "Running");

      const done = await newTask(jobId);
      await setRunState(server, done, { status: "Succeeded", progress: 100, finished: true });
      // Each dialect names the state with its own word (V2 runStatus, V1 trainStatus), not the internal Succeeded.
      assert.match(await fails2("StopFineTuningTask", { taskId: done }, "taskId", "ResourceInUse", 409), /has already finished \(Done\)/);
      const doneRow = (await runRow(server, done))!;
      assert.match(await fails1("stopJob", { taskId: jobId, jobId: doneRow.num }, "jobId"), /has already finished \(FINISH\)/);
      await fails2("StopFineTuningTask", { taskId: "task-doesnotexist" }, "taskId");
    });

    test("deleting: a job with a queued task is refused; tasks refuse while active or published from", async () => {
      const jobId = await newJob();
      const queued = await newTask(jobId);
      await fails2("DeleteFineTuningJob", { jobId }, "", "ResourceInUse", 409);
      await fails2("DeleteFineTuningTask", { taskId: queued }, "", "ResourceInUse", 409);
      await ok2("StopFineTuningTask", { taskId: queued });

      const published = await newTask(jobId);
      await setRunState(server, published, { status: "Succeeded", progress: 100, finished: true });
      await addCheckpoints(server, published, [{ step: 10, trainLoss: 0.5, evalLoss: 0.7 }]);
      const versionId = await insertPublishedVersion(server, published);
      assert.match(await fails2("DeleteFineTuningTask", { taskId: published }, "", "ResourceInUse", 409), new RegExp(versionId));
      await fails2("DeleteFineTuningJob", { jobId }, "", "ResourceInUse", 409);
      assert.equal(await server.admin.v2("model", "DeleteModel", { modelId: versionId }), true);

      assert.equal(await ok2("DeleteFineTuningTask", { taskId: queued }), true);
      await fails2("DescribeFineTuningTask", { taskId: queued }, "taskId");
      assert.deepEqual((await eventsOf(server, queued)).at(-1)!.to_state, "Deleted");
      const publishedNum = (await runRow(server, published))!.num;
      assert.equal(await ok2("DeleteFineTuningJob", { jobId }), true);
      await fails2("DescribeFineTuningTask", { taskId: published }, "taskId");
      await fails2("DescribeFineTuningTasks", { jobId }, "jobId");
      assert.equal(await runRow(server, published), undefined);
      const checkpoints = await server.server.res.db.selectFrom("run_checkpoints").select("num").where("run_num", "=", publishedNum).execute();
      assert.deepEqual(checkpoints, [], "the deleted task's checkpoints go with it");
      assert.deepEqual((await eventsOf(server, jobId)).map((e) => e.to_state), ["Created", "Deleted"]);
      await fails2("DeleteFineTuningJob", { jobId }, "jobId");
      await fails2("DeleteFineTuningTask", { taskId: "task-doesnotexist" }, "taskId");
    });

    test("incremental training: base must be a finished task of the same model with a named checkpoint", async () => {
      const jobId = await newJob();
      const queued = await newTask(jobId);
      assert.match(await fails2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { incrementTaskId: queued }), "incrementTaskId"), /finished/);
      await fails2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { incrementTaskId: "task-doesnotexist" }), "incrementTaskId");
      await fails2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { incrementCheckpointStep: 10 }), "incrementCheckpointStep");

      const base = await newTask(jobId);
      await setRunState(server, base, { status: "Succeeded", progress: 100, finished: true });
      assert.match(await fails2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { incrementTaskId: base }), "incrementTaskId"), /checkpoint/);
      await addCheckpoints(server, base, [{ step: 10, trainLoss: 0.9, evalLoss: null }, { step: 20, trainLoss: 0.5, evalLoss: 0.25 }]);
      await fails2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { incrementTaskId: base }), "incrementCheckpointStep");
      await fails2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { incrementTaskId: base, incrementCheckpointStep: 15 }), "incrementCheckpointStep");
      const otherModelJob = await newJob("SFT", OTHER_MODEL);
      await fails2("CreateFineTuningTask", taskBody(otherModelJob, ds.sft!.versionId, { incrementTaskId: base, incrementCheckpointStep: 20 }), "incrementTaskId");

      const finished = await ok2("DescribeFineTuningTask", { taskId: base });
      assert.equal(finished.runStatus, "Done");
      assert.ok(!("runProgress" in finished));
      assert.notEqual(finished.finishDate, "0000-00-00T00:00:00Z");
      assert.equal(finished.checkpointList.length, 2);
      assert.deepEqual(finished.checkpointList[0], { step: 10, perplexity: null, trainingLoss: 0.9 });
      assert.equal(finished.checkpointList[1].step, 20);
      assert.ok(Math.abs(finished.checkpointList[1].perplexity - Math.exp(0.25)) < 1e-5);
      assert.ok(Math.abs(finished.checkpointList[1].trainingLoss - 0.5) < 1e-6);

      const incr = await newTask(jobId, ds.sft!.versionId, { incrementTaskId: base, incrementCheckpointStep: 10 });
      const described = await ok2("DescribeFineTuningTask", { taskId: incr });
      assert.equal(described.incrementTaskId, base);
      assert.equal(described.incrementCheckpointStep, 10);
      const spec = JSON.parse((await runRow(server, incr))!.spec);
      assert.equal(spec.increment.step, 10);
      assert.equal(spec.increment.checkpointPath, `runs/${base}/checkpoints/step_10/`);
      // The base run cannot be deleted while the incremental one waits on its checkpoint.
      await fails2("DeleteFineTuningTask", { taskId: base }, "", "ResourceInUse", 409);

      // V1: jobRunType 1 takes the latest checkpoint; jobDetail shows increConfig.
      const baseRow = (await runRow(server, base))!;
      const num = await jobNum(jobId);
      const v1Incr = await ok1("createJob", {
        taskId: num, jobRunType: 1, increConfig: { taskid: num, jobid: baseRow.num }, trainMode: "SFT", peftType: "ALL",
        trainConfig: {}, trainset: [{ type: 1, id: ds.sft!.num }], trainsetRate: 20,
      });
      const detail = await ok1("jobDetail", { taskId: num, jobId: v1Incr.id });
      assert.deepEqual(Object.keys(detail), [...QUEUED_DETAIL_KEYS.slice(0, 6), "increConfig", ...QUEUED_DETAIL_KEYS.slice(6)]);
      assert.equal(detail.jobRunType, 1);
      assert.deepEqual(detail.increConfig, { taskId: num, jobId: baseRow.num });
      assert.equal(JSON.parse((await runRow(server, v1Incr.uuid))!.spec).increment.step, 20);
      const finishedV1 = await ok1("jobDetail", { taskId: num, jobId: baseRow.num });
      assert.equal(finishedV1.trainStatus, "FINISH");
      assert.equal(finishedV1.progress, 100);
      assert.match(finishedV1.finishTime, SQL_TIME);
      await fails1("createJob", {
        taskId: num, jobRunType: 1, increConfig: { taskId: num, jobId: (await runRow(server, queued))!.num }, trainMode: "SFT", peftType: "ALL",
        trainConfig: {}, trainset: [{ type: 1, id: ds.sft!.num }],
      }, "increConfig.jobId");
    });

    test(`creating a task races deleting its base model version and its dataset version: one side wins cleanly (${RACE_ROUNDS} rounds)`, async (t) => {
      const outcomes = { created: 0, refused: 0 };
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const model = `race-${round}`;
        const base = await importBaseModel(server, model, { bucket: "hub", objectPath: "llama" });
        const data = await releasedDataset(server, { name: `race-${round}`, format: "PromptResponse" });
        const jobId = await newJob("SFT", model, `race-${round}`);
        // All three at once, each started a few ms late by a different amount every round, so
        // the deletes land at different points of the create (before it, during, after).
        const later = <T>(ms: number, call: () => Promise<T>) => sleep(ms).then(call);
        const [create, deleteModel, deleteData] = await Promise.all([
          later((round * 3) % 5, () => v2("CreateFineTuningTask", taskBody(jobId, data.versionId))),
          later((round * 7) % 10, () => v2Raw(server, "model", "DeleteModel", { modelId: base.versionId })),
          later((round * 3) % 10, () => v2Raw(server, "dataset", "DeleteDatasetVersion", { versionId: data.versionId })),
        ]);
        const deletes = `DeleteModel ${deleteModel.status} ${deleteModel.text}; DeleteDatasetVersion ${deleteData.status} ${deleteData.text}`;
        if (create.status === 200) {
          // The task holds both: each delete is refused, naming it.
          outcomes.created++;
          assert.equal(deleteModel.status, 409, deletes);
          assert.equal(deleteModel.body.code, "ResourceInUse");
          assert.equal(deleteData.status, 409, deletes);
          assert.equal(deleteData.body.code, "ResourceInUse");
          assert.match(deleteModel.body.message, new RegExp(create.body.result.taskId));
          assert.match(deleteData.body.message, new RegExp(create.body.result.taskId));
        } else {
          // A delete got there first: the task is refused by field, and nothing holds the other delete back.
          outcomes.refused++;
          assert.equal(create.status, 400, create.text);
          assert.equal(create.body.code, "InappropriateJSON", create.text);
          assert.ok(/param\[(jobId|datasetConfig\.versions\[0\]\.versionId)\] invalid/.test(create.body.message), create.text);
          assert.equal(deleteModel.status, 200, deletes);
          assert.equal(deleteData.status, 200, deletes);
        }
      }
      // Whoever won, no task may point at a base model version or a dataset version that is gone.
      const db = server.server.res.db;
      const runs = await db.selectFrom("runs").select(["id", "base_model_version_num", "dataset_hashes"]).where("kind", "=", "finetune").execute();
      const modelNums = new Set((await db.selectFrom("model_versions").select("num").execute()).map((r) => Number(r.num)));
      const datasetIds = new Set((await db.selectFrom("dataset_versions").select("id").execute()).map((r) => r.id));
      for (const run of runs) {
        assert.ok(modelNums.has(Number(run.base_model_version_num)), `task ${run.id} lost its base model version`);
        for (const versionId of Object.keys(JSON.parse(run.dataset_hashes))) assert.ok(datasetIds.has(versionId), `task ${run.id} lost dataset version ${versionId}`);
      }
      assert.equal(outcomes.created + outcomes.refused, RACE_ROUNDS);
      t.diagnostic(`task created first in ${outcomes.created} rounds, a delete first in ${outcomes.refused}`);
    });

    test(`continuing from a task and publishing it race deleting that task: one side wins cleanly (${RACE_ROUNDS} rounds)`, async (t) => {
      const outcomes = { kept: 0, deleted: 0 };
      const jobId = await newJob("SFT", MODEL, "race-base");
      const modelSetId = await server.admin.v2<string>("model", "CreateCustomModelSet", { modelSetName: "race-published", modelType: "Text2Text" });
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const base = await newTask(jobId);
        await setRunState(server, base, { status: "Succeeded", progress: 100, finished: true });
        await addCheckpoints(server, base, [{ step: 10, trainLoss: 0.5, evalLoss: null }]);
        const later = <T>(ms: number, call: () => Promise<T>) => sleep(ms).then(call);
        const [incremental, publish, del] = await Promise.all([
          later((round * 3) % 5, () => v2("CreateFineTuningTask", taskBody(jobId, ds.sft!.versionId, { incrementTaskId: base, incrementCheckpointStep: 10 }))),
          later((round * 7) % 10, () => v2Raw(server, "model", "CreateCustomModel", { modelSetId, sourceType: "Train", trainMeta: { taskId: base } })),
          later((round * 3) % 10, () => v2("DeleteFineTuningTask", { taskId: base })),
        ]);
        const all = `create ${incremental.status} ${incremental.text}; publish ${publish.status} ${publish.text}; delete ${del.status} ${del.text}`;
        if (del.status === 200) {
          // The delete came first: both dependants are refused, naming the task field.
          outcomes.deleted++;
          assert.equal(incremental.status, 400, all);
          assert.match(incremental.body.message, /param\[incrementTaskId\] invalid/, all);
          assert.equal(publish.status, 400, all);
          assert.match(publish.body.message, /param\[trainMeta\.taskId\] invalid/, all);
        } else {
          // A dependant came first: the delete is refused, and both dependants exist.
          outcomes.kept++;
          assert.equal(del.status, 409, all);
          assert.equal(del.body.code, "ResourceInUse", all);
          assert.equal(incremental.status, 200, all);
          assert.equal(publish.status, 200, all);
        }
      }
      // Whoever won, nothing points at a task that is gone.
      const db = server.server.res.db;
      const runNums = new Set((await db.selectFrom("runs").select("num").execute()).map((r) => Number(r.num)));
      for (const run of await db.selectFrom("runs").select(["id", "increment_run_num"]).where("increment_run_num", "is not", null).execute()) {
        assert.ok(runNums.has(Number(run.increment_run_num)), `task ${run.id} continues a deleted task`);
      }
      for (const v of await db.selectFrom("model_versions").select(["id", "source_run_num"]).where("source_run_num", "is not", null).execute()) {
        assert.ok(runNums.has(Number(v.source_run_num)), `model version ${v.id} was published from a deleted task`);
      }
      t.diagnostic(`a dependant first in ${outcomes.kept} rounds, the delete first in ${outcomes.deleted}`);
    });

    test("IAM: a read-only tuning key may describe but not create or stop", async () => {
      const reader = await server.clientWith("QianfanModelTuningReadAccessPolicy");
      const list = await v2Raw(server, "finetuning", "DescribeFineTuningJobs", {}, reader.config);
      assert.equal(list.status, 200);
      const create = await v2Raw(server, "finetuning", "CreateFineTuningJob", { name: "nope", model: MODEL, trainMode: "SFT" }, reader.config);
      assert.equal(create.status, 403);
      assert.equal(create.body.code, "AccessDenied");
      const stop = await v1Raw(server, "/wenxinworkshop/finetune/stopJob", { taskId: 1, jobId: 1 }, reader.config);
      assert.equal(stop.body.error_code, 500002);
    });
  });
}
