import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newId, nowIso } from "@sailfin/contract";
import { enqueueRun, listBaseModels, resolveBaseModel, writeTinyModel } from "@sailfin/engine";
import { runCli } from "./cli-process.js";
import { ADMIN, startTestServer, testAxes, v1Raw, v2Ok, v2Raw, type TestServer } from "./harness.js";
import { importModel, stageFolder } from "./fixtures/model-imports.js";
import { settleImports } from "./fixtures/settle-imports.js";

/**
 * Model repository over both dialects (reference §7, seed 004): Hugging Face folder imports with
 * their checks, publishing a run's checkpoint, the V1 and V2 routes and their shapes, deletion
 * guards, paging bounds, and the `sailfin models` CLI.
 *
 * Runs cannot succeed yet (the worker is a later issue): the publish tests insert a Succeeded run
 * and its checkpoint rows directly into the database. That fixture is temporary.
 */

const ISO_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;
const V1_VERSION_KEYS = [
  "modelId", "modelIdStr", "modelName", "modelVersionId", "modelVersionIdStr", "version", "description", "sourceType",
  "sourceExtra", "framework", "algorithm", "modelNet", "state", "ioMode", "ioLength", "copyright", "property",
  "createTime", "modifyTime", "deployResource", "supportOptions", "trainType",
];

for (const { dialect, artifacts, label } of testAxes()) {
  describe(`model repository (${label})`, () => {
    let server: TestServer;
    let work: string;
    const ids: Record<string, string> = {};

    const v2 = (action: string, body: unknown) => v2Raw(server, "model", action, body);
    const v1 = (op: string, body: unknown) => v1Raw(server, `/wenxinworkshop/modelrepo/${op}`, body);
    const ok2 = (action: string, body: unknown) => v2Ok(server, "model", action, body);
    async function ok1(op: string, body: unknown): Promise<any> {
      const r = await v1(op, body);
      assert.equal(r.status, 200);
      assert.equal(r.body.error_code, undefined, `${op}: ${r.text}`);
      return r.body.result;
    }
    async function fails2(action: string, body: unknown, field: string, code = "InappropriateJSON", status = 400): Promise<string> {
      const r = await v2(action, body);
      assert.equal(r.status, status, `${action} ${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.code, code, r.text);
      if (field !== "") assert.ok(r.body.message.includes(`param[${field}] invalid`), `expected param[${field}]: ${r.body.message}`);
      return r.body.message as string;
    }
    async function fails1(op: string, body: unknown, field: string, code = 500001): Promise<string> {
      const r = await v1(op, body);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.error_code, code, r.text);
      if (field !== "") assert.ok(r.body.error_msg.startsWith(`param[${field}] invalid`), `expected param[${field}]: ${r.body.error_msg}`);
      return r.body.error_msg as string;
    }
    const res = () => server.server.res;
    const drain = () => settleImports(server);

    const stage = (dir: string, bucket: string, path: string) => stageFolder(server, dir, bucket, path);
    async function newSet(name: string): Promise<string> {
      return ok2("CreateCustomModelSet", { modelSetName: name, modelType: "Text2Text" });
    }
    /** Imports a staged folder into a new set; returns the finished version (after the background check). */
    async function importFolder(setName: string, bucket: string, path: string): Promise<any> {
      const { created, version } = await importModel(server, setName, { bucket, objectPath: path });
      assert.match(created.modelId, /^amv-[a-z0-9]{12}$/);
      assert.equal(created.status, "Creating");
      return version;
    }
    async function tinyFolder(name: string, options: Parameters<typeof writeTinyModel>[1]): Promise<string> {
      const dir = join(work, name);
      await writeTinyModel(dir, options);
      return dir;
    }
    async function eventsOf(objectId: string): Promise<string[]> {
      const rows = await res().db.selectFrom("events").select("to_state").where("object_id", "=", objectId).orderBy("num", "asc").execute();
      return rows.map((r) => r.to_state);
    }

    /** Temporary fixture (no worker yet): a job and a run in `status`, with checkpoint rows and files. */
    async function insertRun(status: string, baseVersionId: string, steps: number[], trainMode = "SFT"): Promise<{ jobId: string; jobNum: number; taskId: string; runNum: number }> {
      const db = res().db;
      const now = nowIso();
      const jobId = newId("job");
      await db.insertInto("finetune_jobs").values({
        id: jobId, name: "tune-tiny", description: "", model: "tiny-llama", train_mode: trainMode, parameter_scale: "LoRA",
        base_train_type: "tiny-llama", created_at: now, modified_at: now,
      }).execute();
      const job = await db.selectFrom("finetune_jobs").select("num").where("id", "=", jobId).executeTakeFirstOrThrow();
      const base = await db.selectFrom("model_versions").select("num").where("id", "=", baseVersionId).executeTakeFirstOrThrow();
      const taskId = newId("task");
      const runNum = await enqueueRun(db, ADMIN, {
        id: taskId, kind: "finetune", jobNum: job.num, trainMode, parameterScale: "LoRA", modelVersionNum: base.num, spec: {},
      });
      // Where a worker would have left it.
      await db.updateTable("runs").set({
        status, progress: status === "Succeeded" ? 100 : 0, attempt: 1, started_at: now, finished_at: status === "Succeeded" ? now : null,
      }).where("num", "=", runNum).execute();
      for (const step of steps) {
        const path = `runs/${taskId}/checkpoints/step-${step}/`;
        await res().artifacts.put(`${path}adapter_model.safetensors`, Buffer.from(`weights at ${step}`));
        await res().artifacts.put(`${path}adapter_config.json`, JSON.stringify({ r: 8 }));
        await db.insertInto("run_checkpoints").values({ run_num: runNum, step, path, train_loss: 1.5, eval_loss: null, created_at: now }).execute();
      }
      return { jobId, jobNum: job.num, taskId, runNum };
    }

    before(async () => {
      server = await startTestServer(dialect, {}, artifacts);
      work = await mkdtemp(join(tmpdir(), "sailfin-models-"));
      await stage(await tinyFolder("llama", { architecture: "llama", seed: 1, shards: 2 }), "hub", "tiny-llama");
      await stage(await tinyFolder("qwen2", { architecture: "qwen2", seed: 2, dtype: "BF16" }), "hub", "org/tiny-qwen2");
    });
    after(async () => {
      await server.close();
      await rm(work, { recursive: true, force: true });
    });

    test("a tiny llama (sharded) imports to Ready with its summary, files and events", async () => {
      const version = await importFolder("tiny-llama", "hub", "tiny-llama/");
      assert.equal(version.status, "Ready", JSON.stringify(version));
      ids.llamaVersion = version.modelId;
      ids.llamaSet = version.modelSetId;
      assert.deepEqual(version.sourceInfo, { sourceType: "Import", importBosUri: "bos:/hub/tiny-llama/" });
      assert.equal(version.isSupportModelComp, true);
      assert.equal(version.modelApplicationType, "chat");
      assert.equal(version.model, "tiny-llama");
      assert.match(version.createTime, ISO_OFFSET);
      const row = await res().db.selectFrom("model_versions").selectAll().where("id", "=", version.modelId).executeTakeFirstOrThrow();
      const files = await res().artifacts.list(`models/${version.modelId}/`);
      assert.deepEqual(files.map((f) => f.key.split("/").pop()).sort(), (await readdir(join(work, "llama"))).sort());
      assert.equal(row.size_bytes, files.reduce((a, f) => a + f.size, 0));
      assert.equal(row.artifact_path, `models/${version.modelId}/`);
      assert.equal(row.architecture, "LlamaForCausalLM");
      assert.deepEqual(await eventsOf(version.modelId), ["Creating", "Ready"]);
    });

    test("a tiny qwen2 with tied embeddings imports to Ready and is a base model", async () => {
      const version = await importFolder("tiny-qwen2", "hub", "org/tiny-qwen2");
      assert.equal(version.status, "Ready", JSON.stringify(version));
      ids.qwenVersion = version.modelId;
      const base = await resolveBaseModel(res(), "tiny-qwen2");
      assert.ok(base !== null);
      assert.equal(base.versionId, version.modelId);
      assert.equal(base.architecture, "Qwen2ForCausalLM");
      assert.deepEqual(
        { ...base.config, dtype: undefined, parameterCount: undefined, intermediateSize: undefined, headDim: undefined, modelType: undefined },
        { hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, vocabSize: 288, maxPositionEmbeddings: 512, tieWordEmbeddings: true,
          slidingWindow: null, ropeScaling: null, hasChatTemplate: true, dtype: undefined, parameterCount: undefined, intermediateSize: undefined, headDim: undefined, modelType: undefined },
      );
      assert.equal(base.artifactPath, `models/${version.modelId}/`);
      const names = (await listBaseModels(res())).map((b) => b.setName);
      assert.ok(names.includes("tiny-qwen2") && names.includes("tiny-llama"));
    });

    test("broken folders end in Fail with the file and the problem, and leave no files", async () => {
      const cases: Array<{ name: string; breakIt: (dir: string) => Promise<void>; expect: RegExp }> = [
        { name: "bad-config", breakIt: (d) => writeFile(join(d, "config.json"), "{not json"), expect: /^config\.json: is not valid JSON/ },
        {
          name: "wrong-arch",
          breakIt: async (d) => {
            const c = JSON.parse(await readFile(join(d, "config.json"), "utf8"));
            await writeFile(join(d, "config.json"), JSON.stringify({ ...c, architectures: ["GemmaForCausalLM"], model_type: "gemma" }));
          },
          expect: /^config\.json: architectures \["GemmaForCausalLM"\] is not supported/,
        },
        {
          name: "shape-mismatch",
          breakIt: async (d) => {
            const c = JSON.parse(await readFile(join(d, "config.json"), "utf8"));
            await writeFile(join(d, "config.json"), JSON.stringify({ ...c, intermediate_size: 96 }));
          },
          expect: /^model\.safetensors: tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[128,64\], but config\.json implies \[96,64\]/,
        },
        { name: "truncated", breakIt: (d) => truncate(join(d, "model.safetensors"), 5000), expect: /^model\.safetensors: .*truncated/ },
        { name: "no-tokenizer", breakIt: (d) => unlink(join(d, "tokenizer.json")), expect: /^tokenizer\.json: is missing$/ },
        {
          name: "small-vocab",
          breakIt: async (d) => {
            const c = JSON.parse(await readFile(join(d, "config.json"), "utf8"));
            await writeFile(join(d, "config.json"), JSON.stringify({ ...c, vocab_size: 200 }));
          },
          expect: /^model\.safetensors: tensor model\.embed_tokens\.weight has shape \[288,64\], but config\.json implies \[200,64\]/,
        },
      ];
      for (const c of cases) {
        const dir = await tinyFolder(c.name, { architecture: "llama", seed: 3 });
        await c.breakIt(dir);
        await stage(dir, "broken", c.name);
        const version = await importFolder(`broken-${c.name}`, "broken", c.name);
        assert.equal(version.status, "Fail", c.name);
        assert.match(version.failReason, c.expect, c.name);
        assert.equal(version.isSupportModelComp, false);
        assert.deepEqual(await res().artifacts.list(`models/${version.modelId}/`), [], c.name);
        assert.deepEqual(await eventsOf(version.modelId), ["Creating", "Fail"]);
        const detail = await ok1("modelVersionDetail", { modelVersionId: version.modelId });
        assert.equal(detail.state, "Fail");
        ids[`fail-${c.name}`] = version.modelId;
      }
      assert.equal(await resolveBaseModel(res(), "broken-truncated"), null);
    });

    test("12 concurrent imports into one set all succeed, numbered 1..12", async () => {
      const modelSetId = await newSet("concurrent-imports");
      const answers = await Promise.all(Array.from({ length: 12 }, () =>
        v2("CreateCustomModel", { modelSetId, sourceType: "Import", importMeta: { bucket: "hub", objectPath: "tiny-llama" } })));
      assert.deepEqual(answers.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`), []);
      await drain();
      const rows = await res().db.selectFrom("model_versions").select(["version", "status"]).where("id", "in", answers.map((r) => r.body.result.modelId as string)).execute();
      assert.deepEqual(rows.map((v) => Number(v.version)).sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i + 1));
      assert.ok(rows.every((v) => v.status === "Ready"), JSON.stringify(rows));
    });

    test("import requests are validated before anything is recorded", async () => {
      const modelSetId = await newSet("validation-target");
      const body = (importMeta: unknown) => ({ modelSetId, sourceType: "Import", importMeta });
      await fails2("CreateCustomModel", body({ bucket: "hub", objectPath: "tiny-llama/../../etc" }), "importMeta.objectPath");
      await fails2("CreateCustomModel", body({ bucket: "hub", objectPath: "/abs" }), "importMeta.objectPath");
      await fails2("CreateCustomModel", body({ bucket: "../hub", objectPath: "x" }), "importMeta.bucket");
      await fails2("CreateCustomModel", body({ bucket: "hub", objectPath: "nothing-here" }), "importMeta.objectPath");
      await fails2("CreateCustomModel", body({ bucket: "hub", objectPath: "x", modelFormat: "GGUF" }), "importMeta.modelFormat");
      await fails2("CreateCustomModel", { modelSetId, sourceType: "Import" }, "importMeta");
      await fails2("CreateCustomModel", { modelSetId, sourceType: "Copy" }, "sourceType");
      await fails2("CreateCustomModel", { modelSetId: "am-doesnotexist", sourceType: "Import", importMeta: { bucket: "hub", objectPath: "tiny-llama" } }, "modelSetId");
      const set = await ok2("DescribeModelSet", { modelSetId });
      assert.deepEqual(set.modelIds, []);
    });

    test("model sets: create, duplicate name, describe by id and by name, V2 shapes", async () => {
      const id = await ok2("CreateCustomModelSet", { modelSetName: "shape-set", modelType: "Text2Text", labels: ["a", "b"], description: "d" });
      assert.match(id, /^am-[a-z0-9]{12}$/);
      await fails2("CreateCustomModelSet", { modelSetName: "shape-set", modelType: "Text2Text" }, "modelSetName", "ResourceInUse", 409);
      await fails2("CreateCustomModelSet", { modelSetName: "x", modelType: "Text2Text" }, "modelSetName");
      await fails2("CreateCustomModelSet", { modelSetName: "ok-name", modelType: "Text2Video" }, "modelType");
      await fails2("CreateCustomModelSet", { modelType: "Text2Text" }, "modelSetName");
      const byId = await ok2("DescribeModelSet", { modelSetId: id });
      assert.deepEqual(Object.keys(byId).sort(), ["createTime", "description", "labels", "modelIds", "modelNames", "modelSetId", "modelSetName", "modelType", "modifyTime", "source"]);
      assert.deepEqual(byId.labels, ["a", "b"]);
      assert.equal(byId.source, "UserCreate");
      assert.deepEqual(await ok2("DescribeModelSet", { modelSetName: "shape-set" }), byId);
      const llama = await ok2("DescribeModelSet", { modelSetName: "tiny-llama" });
      assert.deepEqual(llama.modelIds, [ids.llamaVersion]);
      assert.deepEqual(llama.modelNames, ["tiny-llama-V1"]);
      await fails2("DescribeModelSet", { modelSetName: "no-such-set" }, "modelSetName");
      await fails2("DescribeModelSet", {}, "modelSetId");
      const sys = await ok2("DescribeSystemModelSets", {});
      assert.deepEqual(sys, { systemModelSetList: [], pageInfo: { marker: "", maxKeys: 10, isTruncated: false } });
      await fails2("DescribeSystemModelSets", { marker: "am-whatever" }, "marker", "InvalidMarker");
    });

    test("DescribeCustomModelSets pages by marker, newest first", async () => {
      const all: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const page = await ok2("DescribeCustomModelSets", { maxKeys: 3, ...(marker === undefined ? {} : { marker }) });
        assert.ok(page.customModelSetList.length <= 3);
        assert.equal(page.pageInfo.maxKeys, 3);
        for (const item of page.customModelSetList) {
          all.push(item.modelSetId);
          assert.equal(item.modelCount, item.modelIds.length);
        }
        marker = page.pageInfo.isTruncated ? page.pageInfo.nextMarker : undefined;
        pages++;
      } while (marker !== undefined);
      const total = Number((await res().db.selectFrom("model_sets").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
      assert.equal(all.length, total);
      assert.equal(new Set(all).size, total);
      assert.equal(pages, Math.ceil(total / 3));
      const nums = await res().db.selectFrom("model_sets").select(["id"]).orderBy("num", "desc").execute();
      assert.deepEqual(all, nums.map((r) => r.id));
      const reversed = await ok2("DescribeCustomModelSets", { maxKeys: 100, pageReverse: true });
      assert.deepEqual(reversed.customModelSetList.map((s: any) => s.modelSetId), [...all].reverse());
      await fails2("DescribeCustomModelSets", { marker: "am-nosuchmarker" }, "marker", "InvalidMarker");
    });

    test("V1 modelDetail and modelVersionDetail (seed 004 fields, ids as number or string)", async () => {
      const byStr = await ok1("modelVersionDetail", { modelVersionId: ids.llamaVersion });
      for (const key of [...V1_VERSION_KEYS, "params"]) assert.ok(key in byStr, `missing ${key}`);
      assert.equal(byStr.modelVersionIdStr, ids.llamaVersion);
      assert.equal(byStr.modelIdStr, ids.llamaSet);
      assert.equal(byStr.modelName, "tiny-llama");
      assert.equal(byStr.version, "1");
      assert.equal(byStr.sourceType, "Import");
      assert.deepEqual(byStr.sourceExtra, { sourceType: "Import", importModelVersionSourceExtra: { bucket: "hub", object: "tiny-llama" } });
      assert.equal(byStr.state, "Ready");
      assert.equal(byStr.algorithm, "LlamaForCausalLM");
      assert.equal(byStr.ioLength, "512");
      assert.match(byStr.createTime, ISO_OFFSET);
      assert.equal(typeof byStr.modelVersionId, "number");
      assert.deepEqual(await ok1("modelVersionDetail", { modelVersionId: byStr.modelVersionId }), byStr);
      assert.deepEqual(await ok1("modelVersionDetail", { modelVersionId: String(byStr.modelVersionId) }), byStr);
      const missing = await v1("modelVersionDetail", { modelVersionId: 987654 });
      assert.equal(missing.body.error_code, 70102);
      assert.equal(missing.body.error_msg, "AI模型版本记录不存在");
      assert.equal((await v1("modelVersionDetail", { modelVersionId: "amv-nosuchversion" })).body.error_code, 70102);
      await fails1("modelVersionDetail", {}, "modelVersionId");

      const set = await ok1("modelDetail", { modelId: ids.llamaSet });
      assert.equal(set.modelIdStr, ids.llamaSet);
      assert.equal(set.source, "UserCreate");
      assert.equal(set.modelType, 0);
      assert.equal(set.createUser, ADMIN.accessKey);
      assert.equal(set.trainType, "tiny-llama");
      assert.equal(set.modelVersionList.length, 1);
      assert.deepEqual(Object.keys(set.modelVersionList[0]).sort(), [...V1_VERSION_KEYS].sort());
      assert.deepEqual(await ok1("modelDetail", { modelId: set.modelId }), set);
      await fails1("modelDetail", { modelId: "am-nosuchmodel" }, "modelId");
    });

    test("publishing an unfinished task is refused, naming the field", async () => {
      const running = await insertRun("Running", ids.llamaVersion!, [10]);
      const noCkpt = await insertRun("Succeeded", ids.llamaVersion!, []);
      const modelSetId = await newSet("tuned-refused");
      const msg = await fails2("CreateCustomModel", { modelSetId, sourceType: "Train", trainMeta: { taskId: running.taskId } }, "trainMeta.taskId");
      assert.match(msg, /has not finished with checkpoints \(Running\)/);
      const msg2 = await fails2("CreateCustomModel", { modelSetId, sourceType: "Train", trainMeta: { taskId: noCkpt.taskId } }, "trainMeta.taskId");
      assert.match(msg2, /has not finished with checkpoints \(Done, no checkpoint saved\)/);
      await fails2("CreateCustomModel", { modelSetId, sourceType: "Train", trainMeta: { taskId: "task-nosuchtask0" } }, "trainMeta.taskId");
      await fails2("CreateCustomModel", { modelSetId, sourceType: "Train" }, "trainMeta");
      const v1msg = await fails1("publishTrainModel", {
        isNewModel: true, modelName: "tuned-v1-refused", versionMeta: { taskId: running.jobId, iterationId: running.taskId },
      }, "versionMeta.iterationId");
      assert.match(v1msg, /has not finished with checkpoints \(RUNNING\)/, "V1 names the state with trainStatus");
      // Nothing half-written: the new set of the refused V1 call does not exist.
      await fails2("DescribeModelSet", { modelSetName: "tuned-v1-refused" }, "modelSetName");
      assert.deepEqual((await ok2("DescribeModelSet", { modelSetId })).modelIds, []);
    });

    test("publishing a Succeeded task's checkpoint gives a version with Train lineage (seed 004)", async () => {
      // Temporary fixture: no worker can finish a run yet.
      const run = await insertRun("Succeeded", ids.llamaVersion!, [8, 16]);
      ids.tunedTask = run.taskId;
      const modelSetId = await newSet("tuned-tiny");
      await fails2("CreateCustomModel", { modelSetId, sourceType: "Train", trainMeta: { taskId: run.taskId, checkpointStep: 12 } }, "trainMeta.checkpointStep");
      const created = await ok2("CreateCustomModel", { modelSetId, sourceType: "Train", trainMeta: { taskId: run.taskId, checkpointStep: 8 } });
      await drain();
      // The export itself is the worker's (worker.test.ts publishes a really trained task): here
      // the version waits Creating, its `publish` run queued in the same transaction.
      const v2v = await ok2("DescribeModel", { modelId: created.modelId });
      assert.equal(v2v.status, "Creating");
      assert.deepEqual(v2v.sourceInfo, { sourceType: "Train", trainTaskId: run.taskId, trainJobId: run.jobId, checkpointStep: 8 });
      assert.equal(v2v.model, "tiny-llama");
      const queued = await res().db.selectFrom("runs").selectAll().where("id", "=", `publish-${created.modelId}`).executeTakeFirstOrThrow();
      assert.equal(queued.kind, "publish");
      assert.equal(queued.status, "Queued");
      assert.equal(JSON.parse(queued.spec).step, 8);

      const detail = await ok1("modelVersionDetail", { modelVersionId: created.modelId });
      assert.equal(detail.sourceType, "Train");
      assert.deepEqual(detail.sourceExtra, {
        sourceType: "Train",
        trainSourceExtra: {
          taskId: run.jobNum, taskIdStr: run.jobId, taskName: "tune-tiny", iterationVersion: 1,
          runId: run.runNum, runIdStr: run.taskId, devType: 1, modelType: 20, templateType: 2000,
        },
      });
      assert.equal(detail.trainType, "tiny-llama");
      assert.equal(detail.modelNet, "pytorch-LlamaForCausalLM_LORA");

      // V1 publishTrainModel: new model, last checkpoint by default, ids in V2 string form (as the Python SDK sends).
      const published = await ok1("publishTrainModel", {
        isNewModel: true, modelName: "tuned-via-v1", tags: ["sft"], versionMeta: { taskId: run.jobId, iterationId: run.taskId },
      });
      assert.deepEqual(Object.keys(published).sort(), ["modelIDStr", "modelId", "version", "versionId", "versionIdStr"]);
      assert.equal(published.version, "1");
      assert.match(published.modelIDStr, /^am-/);
      assert.match(published.versionIdStr, /^amv-/);
      await drain();
      const setV2 = await ok2("DescribeModelSet", { modelSetId: published.modelIDStr });
      assert.deepEqual(setV2.modelIds, [published.versionIdStr]);
      assert.deepEqual(setV2.labels, ["sft"]);
      const pv = await ok1("modelVersionDetail", { modelVersionId: published.versionId });
      assert.equal(pv.state, "Creating");
      const row = await res().db.selectFrom("model_versions").selectAll().where("id", "=", published.versionIdStr).executeTakeFirstOrThrow();
      assert.equal(row.source_step, 16);
      // Numeric ids, a second version in the same set, and a step that does not exist.
      const second = await ok1("publishTrainModel", {
        isNewModel: false, modelId: published.modelId, versionMeta: { taskId: run.jobNum, iterationId: run.runNum, step: 8 },
      });
      assert.equal(second.version, "2");
      await fails1("publishTrainModel", { isNewModel: false, modelId: published.modelId, versionMeta: { iterationId: run.taskId, step: 3 } }, "versionMeta.step");
      await fails1("publishTrainModel", { isNewModel: true, modelName: "tuned-via-v1", versionMeta: { iterationId: run.taskId } }, "modelName");
      await fails1("publishTrainModel", { isNewModel: true, versionMeta: { iterationId: run.taskId } }, "modelName");
      const other = await insertRun("Succeeded", ids.llamaVersion!, [4]);
      await fails1("publishTrainModel", { isNewModel: true, modelName: "wrong-job", versionMeta: { taskId: other.jobId, iterationId: run.taskId } }, "versionMeta.taskId");
      await drain();
    });

    test("deleting a version a fine-tuning task depends on is refused; free ones go with their files", async () => {
      // tiny-llama is the base of the fixture runs above.
      const msg = await fails2("DeleteModel", { modelId: ids.llamaVersion }, "modelId", "ResourceInUse", 409);
      assert.match(msg, /is the base model of fine-tuning task task-[a-z0-9]{12} \(Running\)/);
      await fails2("DeleteModelSet", { modelSetId: ids.llamaSet }, "modelSetId", "ResourceInUse", 409);
      const v1r = await v1("model/version/batchDelete", { modelVersionIds: [ids.llamaVersion] });
      assert.equal(v1r.body.error_code, 500001);
      assert.match(v1r.body.error_msg, /base model of fine-tuning task task-[a-z0-9]{12} \(RUNNING\)/);
      assert.equal((await ok2("DescribeModel", { modelId: ids.llamaVersion })).status, "Ready");
      assert.ok((await res().artifacts.list(`models/${ids.llamaVersion}/`)).length > 0);

      // A version nothing depends on: V2 DeleteModel.
      const qwen = ids.qwenVersion!;
      assert.equal(await ok2("DeleteModel", { modelId: qwen }), true);
      assert.deepEqual(await res().artifacts.list(`models/${qwen}/`), []);
      await fails2("DescribeModel", { modelId: qwen }, "modelId");
      assert.deepEqual((await eventsOf(qwen)).at(-1), "Deleted");
      // V1 batch deletes, numeric and string ids; an unknown id deletes nothing.
      const a = (await ok1("modelVersionDetail", { modelVersionId: ids["fail-bad-config"] })).modelVersionId;
      await fails1("model/version/batchDelete", { modelVersionIds: [a, "amv-nosuchversion"] }, "modelVersionIds[1]");
      assert.equal(await ok1("model/version/batchDelete", { modelVersionIds: [a, ids["fail-truncated"]] }), true);
      await fails2("DescribeModel", { modelId: ids["fail-truncated"] }, "modelId");
      const set = await ok1("modelDetail", { modelId: (await ok2("DescribeModelSet", { modelSetName: "broken-shape-mismatch" })).modelSetId });
      assert.equal(await ok1("model/batchDelete", { modelIDs: [set.modelId] }), true);
      await fails2("DescribeModelSet", { modelSetName: "broken-shape-mismatch" }, "modelSetName");
      await fails2("DescribeModel", { modelId: ids["fail-shape-mismatch"] }, "modelId");
      await fails1("model/batchDelete", { modelIDs: [] }, "modelIDs");
      // V2 DeleteModelSet takes the set's versions and their files with it.
      const doomed = await importFolder("doomed-set", "hub", "org/tiny-qwen2");
      assert.equal(doomed.status, "Ready");
      assert.equal(await ok2("DeleteModelSet", { modelSetId: doomed.modelSetId }), true);
      assert.deepEqual(await res().artifacts.list(`models/${doomed.modelId}/`), []);
      await fails2("DescribeModelSet", { modelSetId: doomed.modelSetId }, "modelSetId");
      await fails2("DescribeModel", { modelId: doomed.modelId }, "modelId");
      assert.deepEqual(await eventsOf(doomed.modelSetId), ["Created", "Deleted"]);
      await fails2("DeleteModelSet", { modelSetId: doomed.modelSetId }, "modelSetId");
    });

    test("V1 model/user/list: page numbers without OFFSET, bounded, filtered", async () => {
      const total = Number((await res().db.selectFrom("model_sets").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
      const first = await ok1("model/user/list", { pageNo: 1, pageSize: 2 });
      assert.equal(first.total, total);
      assert.equal(first.items.length, 2);
      const second = await ok1("model/user/list", { pageNo: 2, pageSize: 2 });
      assert.notDeepEqual(second.items[0].modelIdStr, first.items[0].modelIdStr);
      const all = await ok1("model/user/list", { pageNo: 1, pageSize: 1000 });
      assert.equal(all.items.length, Math.min(total, 100));
      assert.deepEqual([...first.items, ...second.items].map((i: any) => i.modelIdStr), all.items.slice(0, 4).map((i: any) => i.modelIdStr));
      const asc = await ok1("model/user/list", { pageNo: 1, pageSize: 100, order: "asc", orderBy: "create_time" });
      assert.deepEqual(asc.items.map((i: any) => i.modelIdStr), [...all.items].reverse().map((i: any) => i.modelIdStr));
      const past = await ok1("model/user/list", { pageNo: 50, pageSize: 100 });
      assert.deepEqual(past, { total, items: [] });
      await fails1("model/user/list", { pageNo: 101, pageSize: 100 }, "pageNo");
      await fails1("model/user/list", { pageNo: 10001, pageSize: 1 }, "pageNo");
      await fails1("model/user/list", { pageNo: 0 }, "pageNo");
      await fails1("model/user/list", { orderBy: "name" }, "orderBy");
      const clamped = await ok1("model/user/list", { pageNo: 1, pageSize: 0 });
      assert.equal(clamped.items.length, 1);

      const llama = await ok1("model/user/list", { nameFilter: "TINY-LL" });
      assert.equal(llama.total, 1);
      const item = llama.items[0];
      assert.deepEqual(Object.keys(item).sort(), ["createTime", "latestVersionInfo", "modelId", "modelIdStr", "modelName", "modelType", "tags", "trainType", "versionCount"]);
      assert.equal(item.versionCount, 1);
      assert.equal(item.trainType, "tiny-llama");
      assert.deepEqual(item.latestVersionInfo, {
        state: "Ready", version: "1", sourceType: "Import",
        sourceExtra: { sourceType: "Import", importModelVersionSourceExtra: { bucket: "hub", object: "tiny-llama" } },
        versionId: (await ok1("modelVersionDetail", { modelVersionId: ids.llamaVersion })).modelVersionId, versionIdStr: ids.llamaVersion,
      });
      // LIKE wildcards in the filter are literal characters.
      assert.equal((await ok1("model/user/list", { nameFilter: "tiny%" })).total, 0);
      assert.equal((await ok1("model/user/list", { modelType: [1] })).total, 0);
      assert.equal((await ok1("model/user/list", { modelType: [0] })).total, total);
      assert.deepEqual(await ok1("model/preset/list", { pageNo: 1, pageSize: 20 }), { total: 0, items: [] });
    });

    test("read-only keys read but cannot write", async () => {
      const reader = await server.clientWith("QianfanModelTuningReadAccessPolicy");
      const sets = await reader.v2<any>("model", "DescribeCustomModelSets", {});
      assert.ok(Array.isArray(sets.customModelSetList));
      await assert.rejects(reader.v2("model", "CreateCustomModelSet", { modelSetName: "nope-set", modelType: "Text2Text" }), (e: any) => e.code === "AccessDenied");
      await assert.rejects(reader.v1("/wenxinworkshop/modelrepo/model/batchDelete", { modelIDs: [1] }), (e: any) => e.code === "500002");
    });

    test("a version whose importing worker died is imported by the next worker after the lease expired", async () => {
      const set = await res().db.selectFrom("model_sets").selectAll().where("name", "=", "validation-target").executeTakeFirstOrThrow();
      const id = newId("modelVersion");
      const now = nowIso();
      // What a crash leaves behind: the version Creating, its run Running under a lease that expired.
      await res().db.transaction().execute(async (trx) => {
        const row = await trx.insertInto("model_versions").values({
          id, set_num: set.num, version: 1, description: "", source_type: "Import", source_run_num: null, source_step: null,
          source_comp_num: null, import_bucket: "hub", import_object: "org/tiny-qwen2", status: "Creating", fail_reason: null,
          architecture: null, config_summary: null, artifact_path: null, size_bytes: 0, created_at: now, modified_at: now,
        }).returning("num").executeTakeFirstOrThrow();
        await enqueueRun(trx, ADMIN, { id: `import-${id}`, kind: "model-import", name: "resume", description: "", spec: { versionNum: Number(row.num) } });
        await trx.updateTable("runs").set({
          status: "Running", attempt: 1, lease_owner: "dead-worker", lease_token: "lost", lease_expires_at: new Date(Date.now() - 1_000).toISOString(), started_at: now,
        }).where("id", "=", `import-${id}`).execute();
      });
      await fails2("DeleteModel", { modelId: id }, "modelId", "ResourceInUse", 409);
      await drain();
      assert.deepEqual(await res().db.selectFrom("runs").select(["status", "attempt"]).where("id", "=", `import-${id}`).executeTakeFirstOrThrow(), { status: "Succeeded", attempt: 2 });
      const version = await ok2("DescribeModel", { modelId: id });
      assert.equal(version.status, "Ready");
    });

    test("sailfin models create-tiny, import, list and show", async () => {
      const env = { QIANFAN_CONSOLE_API_BASE_URL: server.url, QIANFAN_ACCESS_KEY: ADMIN.accessKey, QIANFAN_SECRET_KEY: ADMIN.secretKey };
      const dir = join(work, "cli-tiny");
      const made = await runCli(["models", "create-tiny", dir, "--arch", "llama"], env);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /RANDOM weights/);
      const qwen3 = await runCli(["models", "create-tiny", join(work, "cli-qwen3"), "--arch", "qwen3"], env);
      assert.equal(qwen3.code, 0, qwen3.stderr);
      assert.match(qwen3.stdout, /tiny qwen3 model/);
      const gemma = await runCli(["models", "create-tiny", join(work, "cli-gemma"), "--arch", "gemma"], env);
      assert.notEqual(gemma.code, 0);
      assert.match(gemma.stderr, /--arch must be one of llama, qwen2, qwen3, ernie4_5, mistral, gemma2, gemma3_text, got 'gemma'/);
      const imported = await runCli(["models", "import", dir, "--name", "cli-llama"], env);
      assert.equal(imported.code, 0, imported.stdout + imported.stderr);
      const versionId = /(amv-[a-z0-9]{12}) Ready/.exec(imported.stdout)?.[1];
      assert.ok(versionId, imported.stdout);
      const shown = await runCli(["models", "show", versionId, "--json"], env);
      assert.equal(JSON.parse(shown.stdout).status, "Ready");
      const listed = await runCli(["models", "list"], env);
      assert.match(listed.stdout, /cli-llama/);
      // A second import into the same name adds version 2; a broken folder exits 1 with the reason.
      await unlink(join(dir, "tokenizer.json"));
      const broken = await runCli(["models", "import", dir, "--name", "cli-llama"], env);
      assert.equal(broken.code, 1);
      assert.match(broken.stdout, /Fail: tokenizer\.json: is missing/);
      assert.equal((await ok2("DescribeModelSet", { modelSetName: "cli-llama" })).modelIds.length, 2);
    });
  });
}
