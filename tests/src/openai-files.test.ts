import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import OpenAI, { NotFoundError } from "openai";
import { createHash } from "node:crypto";
import { bceTimestamp, newId, nowIso, signRequest } from "@sailfin/contract";
import { countTokens } from "@sailfin/data";
import { createOpenAiResultFile, enqueueRun } from "@sailfin/engine";
import { TINY, writeTinyModels } from "./fixtures/model-imports.js";
import { ADMIN, startTestServer, testAxes, v2Ok, type TestServer } from "./harness.js";
import { pythonSdkMissing } from "./python-sdk.js";

/**
 * OpenAI's Files API (`/v1/files`) over the artifact store and datasets: uploads through raw
 * multipart and the official `openai` npm client (and the PyPI one), a fine-tune file becoming a
 * Released dataset version of the matching Sailfin format, every bad line refused at once with
 * its number and field and nothing left behind, list pages, content, delete and its guard.
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const jsonl = (...lines: unknown[]) => `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`;

const chat = (q: string, a: string, extra: Record<string, unknown> = {}) =>
  ({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: q }, { role: "assistant", content: a, ...extra }] });
const pref = (q: string, good: string, bad: string) =>
  ({ input: { messages: [{ role: "user", content: q }] }, preferred_output: [{ role: "assistant", content: good }], non_preferred_output: [{ role: "assistant", content: bad }] });

for (const { dialect, artifacts: store, label } of testAxes()) {
  describe(`OpenAI files (${label})`, () => {
    let server: TestServer;
    let apiKey: string;
    let client: OpenAI;
    let dir: string;

    before(async () => {
      server = await startTestServer(dialect, {}, store);
      apiKey = (await v2Ok(server, "iam", "CreateApiKey", { description: "files" })).apiKey;
      client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
      dir = await mkdtemp(join(tmpdir(), "sailfin-openai-files-"));
    });
    after(async () => {
      await server?.close();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    const db = () => server.server.res.db;
    const artifacts = () => server.server.res.artifacts;
    /** A multipart POST /v1/files with the parts in the given order. */
    const upload = async (parts: Array<[string, string] | [string, string, string]>) => {
      const form = new FormData();
      for (const [name, value, filename] of parts) {
        if (filename === undefined) form.append(name, value);
        else form.append(name, new Blob([value]), filename);
      }
      const response = await fetch(`${server.url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${apiKey}` }, body: form });
      return { status: response.status, headers: response.headers, body: await response.json() as any };
    };
    const get = async (path: string) => {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
      return { status: response.status, headers: response.headers, text: await response.text() };
    };
    /** What an upload may leave behind: file rows, dataset rows, stored objects. */
    const footprint = async () => ({
      files: (await db().selectFrom("openai_files").select("id").execute()).length,
      versions: (await db().selectFrom("dataset_versions").select("id").execute()).length,
      groups: (await db().selectFrom("dataset_groups").select("id").execute()).length,
      objects: [...await artifacts().list("openai-files/"), ...await artifacts().list("datasets/")].map((o) => o.key).sort(),
    });
    const versionOf = async (fileId: string) => {
      const row = await db().selectFrom("openai_files").selectAll().where("id", "=", fileId).executeTakeFirstOrThrow();
      const version = await db().selectFrom("dataset_versions").selectAll().where("num", "=", Number(row.dataset_version_num)).executeTakeFirstOrThrow();
      const group = await db().selectFrom("dataset_groups").selectAll().where("num", "=", version.group_num).executeTakeFirstOrThrow();
      const stream = await artifacts().get(version.data_path!);
      let text = "";
      for await (const chunk of stream) text += String(chunk);
      return { row, version, group, records: text.trim().split("\n").map((l) => JSON.parse(l)) };
    };

    test("the npm client uploads a chat file: processed at once, a Released Messages dataset keeping weight, bytes back unchanged", async () => {
      const content = jsonl(chat("Capital of France?", "Paris."), {
        messages: [
          { role: "user", content: "Hi" }, { role: "assistant", content: "Old answer", weight: 0 },
          { role: "user", content: [{ type: "text", text: "Say " }, { type: "text", text: "hi" }] }, { role: "assistant", content: "hi", weight: 1 },
        ],
      });
      const path = join(dir, "train.jsonl");
      await writeFile(path, content);
      const file = await client.files.create({ file: createReadStream(path), purpose: "fine-tune" });
      assert.match(file.id, /^file-/);
      assert.deepEqual({ ...file, created_at: 0 }, {
        id: file.id, object: "file", bytes: Buffer.byteLength(content), created_at: 0, expires_at: null,
        filename: "train.jsonl", purpose: "fine-tune", status: "processed", status_details: null,
      });
      assert.ok(Math.abs(file.created_at - Date.now() / 1000) < 60);
      assert.deepEqual(await client.files.retrieve(file.id), file);

      const { row, version, group, records } = await versionOf(file.id);
      assert.equal(row.data_kind, "chat");
      assert.equal(Number(row.line_count), 2);
      assert.equal(group.data_format, "Messages");
      assert.equal(group.name, "train.jsonl");
      assert.equal(version.state, "Released");
      assert.equal(Number(version.record_count), 2);
      assert.match(version.description, new RegExp(file.id));
      assert.deepEqual(records[1], {
        messages: [
          { role: "user", content: "Hi" }, { role: "assistant", content: "Old answer", weight: 0 },
          { role: "user", content: "Say hi" }, { role: "assistant", content: "hi", weight: 1 },
        ],
      });
      // The same data through V2: a dataset like any other.
      const described = await v2Ok(server, "dataset", "DescribeDatasetVersion", { versionId: version.id });
      assert.deepEqual([described.dataFormat, described.publishStatus, described.sampleCount, described.storageType], ["Messages", "Published", 2, "sysStorage"]);

      const raw = await client.files.content(file.id);
      assert.equal(await raw.text(), content);
      const direct = await fetch(`${server.url}/v1/files/${file.id}/content`, { headers: { authorization: `Bearer ${apiKey}`, accept: "application/binary" } });
      assert.equal(direct.status, 200);
      assert.equal(direct.headers.get("content-type"), "application/octet-stream");
      assert.equal(await direct.text(), content);
    });

    test("a weight 0 answer is context only when the dataset is tokenized for training (fewer trained tokens, same tokens)", async () => {
      const turns = (weight: Record<string, unknown>) => ({
        messages: [{ role: "user", content: "Name a colour." }, { role: "assistant", content: "Red, like a ripe tomato.", ...weight }, { role: "user", content: "Another?" }, { role: "assistant", content: "Blue." }],
      });
      const tiny = await writeTinyModels({ llama: TINY });
      try {
        const trained = async (weight: Record<string, unknown>) => {
          const r = await upload([["purpose", "fine-tune"], ["file", jsonl(turns(weight)), "w.jsonl"]]);
          assert.equal(r.status, 200, JSON.stringify(r.body));
          const { version } = await versionOf(r.body.id);
          const path = join(dir, `${version.id}.jsonl`);
          let text = "";
          for await (const chunk of await artifacts().get(version.data_path!)) text += String(chunk);
          await writeFile(path, text);
          const { train } = await countTokens({ datasets: [{ path, format: "Messages" }], modelDir: tiny.dir("llama"), trainMode: "SFT", maxSeqLen: 256 });
          return { tokens: train.tokens, trained: train.trainedTokens };
        };
        const all = await trained({});
        const masked = await trained({ weight: 0 });
        assert.equal(masked.tokens, all.tokens);
        assert.ok(masked.trained > 0 && masked.trained < all.trained, `${JSON.stringify(masked)} vs ${JSON.stringify(all)}`);
        assert.deepEqual(await trained({ weight: 1 }), all);
      } finally {
        await tiny.remove();
      }
    });

    test("raw multipart, purpose after the file: a preference file becomes PromptChosenRejected (legacy *_completion names too)", async () => {
      const content = jsonl(
        pref("Is 2 even?", "Yes.", "No."),
        {
          input: { messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello." }, { role: "user", content: "2+2?" }] },
          preferred_completion: [{ role: "assistant", content: "4" }], non_preferred_completion: [{ role: "assistant", content: "5" }],
        },
      );
      const r = await upload([["file", content, "prefs.jsonl"], ["purpose", "fine-tune"]]);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, "processed");
      assert.ok(r.headers.get("x-request-id"));
      const { row, group, records } = await versionOf(r.body.id);
      assert.equal(row.data_kind, "preference");
      assert.equal(group.data_format, "PromptChosenRejected");
      assert.deepEqual(records, [
        [{ user: "Is 2 even?", chosen: "Yes.", rejected: "No." }],
        [{ user: "Hi", assistant: "Hello." }, { user: "2+2?", chosen: "4", rejected: "5" }],
      ]);
    });

    test("every bad line is refused at once, naming its line and field, and nothing is left behind", async () => {
      const good = chat("Q", "A");
      const cases: Array<[string, string, RegExp]> = [
        ["bad weight", jsonl(good, good, chat("Q", "A", { weight: 2 })), /^line 3: messages\[2\]\.weight must be 0 or 1; got 2$/],
        ["weight on a user", jsonl({ messages: [{ role: "user", content: "Q", weight: 1 }, { role: "assistant", content: "A" }] }), /^line 1: messages\[0\]\.weight is allowed on assistant messages only$/],
        ["nothing trained", jsonl(chat("Q", "A", { weight: 0 })), /^line 1: messages every assistant message has weight 0/],
        ["not JSON", `${JSON.stringify(good)}\n{"messages": [\n`, /^line 2: is not valid JSON/],
        ["tool message", jsonl(good, { messages: [{ role: "user", content: "Q" }, { role: "tool", content: "x" }, { role: "assistant", content: "A" }] }), /^line 2: messages\[1\]\.role "tool" is not supported/],
        ["tool calls", jsonl({ messages: [{ role: "user", content: "Q" }, { role: "assistant", content: null, tool_calls: [{ id: "1" }] }] }), /^line 1: messages\[1\]\.tool_calls is not supported/],
        ["tools", jsonl({ ...good, tools: [{ type: "function", function: { name: "f" } }] }), /^line 1: tools is not supported/],
        ["image", jsonl({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }, { role: "assistant", content: "A" }] }), /^line 1: messages\[0\]\.content\[0\]\.type "image_url" content is not supported/],
        ["last is user", jsonl({ messages: [{ role: "user", content: "Q" }] }), /^line 1: messages\[0\]\.role the last message must be from the assistant/],
        ["mixed kinds", jsonl(good, pref("Q", "A", "B")), /^line 2: is a preference example, but the file's first example is a chat example/],
        ["neither kind", jsonl({ prompt: "Q" }), /^line 1: must be a chat example/],
        ["preference system", jsonl({ ...pref("Q", "A", "B"), input: { messages: [{ role: "system", content: "S" }, { role: "user", content: "Q" }] } }), /^line 1: input\.messages\[0\]\.role a system message is not supported in preference data/],
        ["preference two outputs", jsonl({ ...pref("Q", "A", "B"), preferred_output: [{ role: "assistant", content: "A" }, { role: "assistant", content: "C" }] }), /^line 1: preferred_output must be an array holding one assistant message/],
        ["preference same answers", jsonl(pref("Q", "A", "A")), /^line 1: non_preferred_output must differ from the preferred output/],
        ["preference ends with assistant", jsonl({ ...pref("Q", "A", "B"), input: { messages: [{ role: "user", content: "Q" }, { role: "assistant", content: "A" }] } }), /^line 1: input\.messages must end with a user message/],
        ["only blank lines", "\n\n", /no training examples/],
      ];
      const before = await footprint();
      for (const [name, content, message] of cases) {
        const r = await upload([["purpose", "fine-tune"], ["file", content, `${name}.jsonl`]]);
        assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.body)}`);
        assert.deepEqual(Object.keys(r.body.error).sort(), ["code", "message", "param", "type"], name);
        assert.equal(r.body.error.type, "invalid_request_error", name);
        assert.equal(r.body.error.param, "file", name);
        assert.match(r.body.error.message, message, name);
        assert.deepEqual(await footprint(), before, `${name} left something behind`);
      }
      // Through the SDK: its BadRequestError carries the same message.
      const path = join(dir, "bad.jsonl");
      await writeFile(path, cases[0]![1]);
      await assert.rejects(client.files.create({ file: createReadStream(path), purpose: "fine-tune" }),
        (error: any) => error.status === 400 && /line 3: messages\[2\]\.weight/.test(error.message) && error.param === "file");
      assert.deepEqual(await footprint(), before);
    });

    test("bad form fields are refused by name, leaving nothing", async () => {
      const before = await footprint();
      const bad = async (parts: Array<[string, string] | [string, string, string]>, param: string, message: RegExp) => {
        const r = await upload(parts);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.error.param, param, JSON.stringify(r.body));
        assert.match(r.body.error.message, message);
      };
      await bad([["file", "x", "a.txt"]], "purpose", /must be one of/);
      await bad([["purpose", "nope"], ["file", "x", "a.txt"]], "purpose", /must be one of/);
      await bad([["purpose", "batch"]], "file", /is required/);
      await bad([["purpose", "batch"], ["file", "x", "a.txt"], ["expires_after[anchor]", "created_at"], ["expires_after[seconds]", "60"]], "expires_after[seconds]", /between 3600 and 2592000/);
      await bad([["purpose", "batch"], ["file", "x", "a.txt"], ["expires_after[anchor]", "now"], ["expires_after[seconds]", "3600"]], "expires_after[anchor]", /created_at/);
      const json = await fetch(`${server.url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: "{}" });
      assert.equal(json.status, 400);
      assert.equal(((await json.json()) as any).error.param, "file");
      assert.deepEqual(await footprint(), before);
    });

    test("an upload over SAILFIN_UPLOAD_LIMIT is refused (413) and leaves nothing", async () => {
      const small = await startTestServer(dialect, { SAILFIN_UPLOAD_LIMIT: "1024" }, store);
      try {
        const key = (await v2Ok(small, "iam", "CreateApiKey", {})).apiKey;
        const form = new FormData();
        form.append("purpose", "fine-tune");
        form.append("file", new Blob([jsonl(...Array.from({ length: 60 }, (_, i) => chat(`Q${i}`, `A${i}`)))]), "big.jsonl");
        const r = await fetch(`${small.url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: form });
        assert.equal(r.status, 413);
        assert.equal(((await r.json()) as any).error.code, "request_too_large");
        assert.deepEqual(await small.server.res.artifacts.list("openai-files/"), []);
        assert.deepEqual(await small.server.res.db.selectFrom("openai_files").select("id").execute(), []);
      } finally {
        await small.close();
      }
    });

    test("other purposes are stored as they are; expires_after sets expires_at", async () => {
      const r = await upload([["purpose", "batch"], ["expires_after[anchor]", "created_at"], ["expires_after[seconds]", "3600"], ["file", "not json at all", "notes.txt"]]);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.purpose, "batch");
      assert.equal(r.body.status, "processed");
      assert.equal(r.body.expires_at, r.body.created_at + 3600);
      const row = await db().selectFrom("openai_files").selectAll().where("id", "=", r.body.id).executeTakeFirstOrThrow();
      assert.equal(row.dataset_version_num, null);
      assert.equal((await get(`/v1/files/${r.body.id}/content`)).text, "not json at all");
      // The npm client sends expires_after in bracket notation too.
      const path = join(dir, "later.txt");
      await writeFile(path, "later");
      const sdk = await client.files.create({ file: createReadStream(path), purpose: "user_data", expires_after: { anchor: "created_at", seconds: 7200 } });
      assert.equal(sdk.expires_at, sdk.created_at + 7200);
    });

    test("an expired file is gone: retrieve and list skip it, and the next list deletes it", async () => {
      const r = await upload([["purpose", "user_data"], ["file", "old", "old.txt"]]);
      const id = r.body.id as string;
      await db().updateTable("openai_files").set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where("id", "=", id).execute();
      assert.equal((await get(`/v1/files/${id}`)).status, 404);
      const listed = await client.files.list({ purpose: "user_data" });
      assert.ok(!listed.data.some((f) => f.id === id));
      assert.equal(await db().selectFrom("openai_files").select("id").where("id", "=", id).executeTakeFirst(), undefined);
      assert.equal(await artifacts().stat(`openai-files/${id}`), null);
    });

    test("a job's result file (createOpenAiResultFile) is a processed fine-tune-results file like any other", async () => {
      const csv = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n1,2.5,,,\n";
      const made = await createOpenAiResultFile(server.server.res, { accessKey: ADMIN.accessKey }, { filename: "step_metrics.csv", purpose: "fine-tune-results", content: Buffer.from(csv) });
      assert.deepEqual(await client.files.retrieve(made.id), {
        id: made.id, object: "file", bytes: Buffer.byteLength(csv), created_at: Math.floor(Date.parse(made.createdAt) / 1000), expires_at: null,
        filename: "step_metrics.csv", purpose: "fine-tune-results", status: "processed", status_details: null,
      });
      assert.equal(await (await client.files.content(made.id)).text(), csv);
      assert.deepEqual((await client.files.list({ purpose: "fine-tune-results" })).data.map((f) => f.id), [made.id]);
    });

    test("list pages: newest first by default, order, purpose, after; the SDK walks every page", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await upload([["purpose", "evals"], ["file", `e${i}`, `e${i}.txt`]])).body.id);
      const page1 = JSON.parse((await get("/v1/files?purpose=evals&limit=2")).text);
      assert.deepEqual(Object.keys(page1).sort(), ["data", "first_id", "has_more", "last_id", "object"]);
      assert.deepEqual(page1.data.map((f: any) => f.id), [ids[4], ids[3]]);
      assert.equal(page1.has_more, true);
      assert.equal(page1.first_id, ids[4]);
      assert.equal(page1.last_id, ids[3]);
      const page3 = JSON.parse((await get(`/v1/files?purpose=evals&limit=2&after=${ids[1]}`)).text);
      assert.deepEqual(page3.data.map((f: any) => f.id), [ids[0]]);
      assert.equal(page3.has_more, false);
      const asc = JSON.parse((await get(`/v1/files?purpose=evals&order=asc&after=${ids[0]}&limit=3`)).text);
      assert.deepEqual(asc.data.map((f: any) => f.id), ids.slice(1, 4));
      const empty = JSON.parse((await get("/v1/files?purpose=assistants")).text);
      assert.deepEqual(empty, { object: "list", data: [], first_id: null, last_id: null, has_more: false });
      const walked: string[] = [];
      for await (const f of client.files.list({ purpose: "evals", limit: 2 })) walked.push(f.id);
      assert.deepEqual(walked, [...ids].reverse());
      const all = await client.files.list();
      assert.ok(all.data.length >= 5);
      const unknown = await get("/v1/files?after=file-nope");
      assert.equal(unknown.status, 400);
      assert.equal(JSON.parse(unknown.text).error.param, "after");
      for (const query of ["limit=0", "limit=x", "order=sideways"]) {
        const r = await get(`/v1/files?${query}`);
        assert.equal(r.status, 400, query);
        assert.equal(JSON.parse(r.text).error.param, query.split("=")[0], query);
      }
      assert.equal(JSON.parse((await get("/v1/files?purpose=evals&limit=99999")).text).data.length, 5);
    });

    test("an unknown id is 404 No such File object, param file_id, on every route", async () => {
      for (const path of ["/v1/files/file-nope", "/v1/files/file-nope/content"]) {
        const r = await get(path);
        assert.equal(r.status, 404, path);
        assert.deepEqual(JSON.parse(r.text).error, { code: "not_found", message: "No such File object: file-nope", param: "file_id", type: "invalid_request_error" });
      }
      await assert.rejects(client.files.retrieve("file-nope"), (error: unknown) => error instanceof NotFoundError);
      await assert.rejects(client.files.delete("file-nope"), (error: unknown) => error instanceof NotFoundError);
    });

    test("delete removes the bytes and the dataset version; refused 409 while a run trains on it", async () => {
      const r = await upload([["purpose", "fine-tune"], ["file", jsonl(chat("Q", "A")), "del.jsonl"]]);
      const id = r.body.id as string;
      const { version, group } = await versionOf(id);
      const runNum = await enqueueRun(db(), ADMIN, {
        id: newId("task"), kind: "finetune", jobNum: 1, trainMode: "SFT", parameterScale: "LoRA", modelVersionNum: 1, spec: {},
        datasetHashes: { [version.id]: "h" },
      });
      await db().updateTable("runs").set({ status: "Running", attempt: 1, started_at: nowIso() }).where("num", "=", runNum).execute();
      const refused = await fetch(`${server.url}/v1/files/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${apiKey}` } });
      assert.equal(refused.status, 409);
      const error = ((await refused.json()) as any).error;
      assert.equal(error.param, "file_id");
      assert.match(error.message, /trains on dataset version/);
      assert.equal((await client.files.retrieve(id)).id, id);

      await db().updateTable("runs").set({ status: "Succeeded", finished_at: nowIso() }).where("num", "=", runNum).execute();
      assert.deepEqual(await client.files.delete(id), { id, object: "file", deleted: true });
      assert.equal((await get(`/v1/files/${id}`)).status, 404);
      assert.equal(await artifacts().stat(`openai-files/${id}`), null);
      assert.equal(await db().selectFrom("dataset_versions").select("id").where("id", "=", version.id).executeTakeFirst(), undefined);
      assert.equal(await db().selectFrom("dataset_groups").select("id").where("id", "=", group.id).executeTakeFirst(), undefined);
      assert.deepEqual(await artifacts().list(`datasets/${version.id}/`), []);
    });

    test("IAM: an API key acts with its creator's policies (dataset:read lists, not uploads or deletes); a bad key is 401", async () => {
      const reader = await server.clientWith("QianfanDataReadAccessPolicy", "QianfanServiceOperateAccessPolicy");
      const readerKey = (await reader.v2<{ apiKey: string }>("iam", "CreateApiKey", {})).apiKey;
      const as = (key: string, init: RequestInit = {}, path = "/v1/files") =>
        fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}` } });
      assert.equal((await as(readerKey)).status, 200);
      const form = new FormData();
      form.append("purpose", "batch");
      form.append("file", new Blob(["x"]), "x.txt");
      const before = await footprint();
      const denied = await as(readerKey, { method: "POST", body: form });
      assert.equal(denied.status, 403);
      assert.equal(((await denied.json()) as any).error.code, "access_denied");
      const mine = (await upload([["purpose", "batch"], ["file", "x", "x.txt"]])).body.id;
      assert.equal((await as(readerKey, { method: "DELETE" }, `/v1/files/${mine}`)).status, 403);
      assert.equal((await get(`/v1/files/${mine}`)).status, 200);
      const unknown = await as("nope", { method: "POST", body: form });
      assert.equal(unknown.status, 401);
      assert.equal(((await unknown.json()) as any).error.code, "invalid_api_key");
      assert.equal((await footprint()).files, before.files + 1);
    });

    test("a bce-auth-v1 signed upload: the signed x-bce-content-sha256 must be the multipart body's, else nothing is stored", async () => {
      const boundary = "sailfin-boundary";
      const body = (content: string) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.txt"\r\n\r\n${content}\r\n--${boundary}--\r\n`);
      const send = (sent: Buffer, signedFor: Buffer) => {
        const url = new URL(`${server.url}/v1/files`);
        const ts = bceTimestamp();
        const headers = { host: url.host, "x-bce-date": ts, "content-type": `multipart/form-data; boundary=${boundary}`, "x-bce-content-sha256": createHash("sha256").update(signedFor).digest("hex") };
        const authorization = signRequest({ ...ADMIN, method: "POST", path: url.pathname, query: {}, headers, timestamp: ts });
        const { host: _host, ...rest } = headers;
        return fetch(url, { method: "POST", headers: { ...rest, authorization }, body: sent });
      };
      const before = await footprint();
      const swapped = await send(body("swapped"), body("signed"));
      // OpenAI's envelope answers every failed authentication 401 (render.ts).
      assert.equal(swapped.status, 401);
      assert.match(((await swapped.json()) as any).error.message, /x-bce-content-sha256 is not the sha256 of the body/);
      assert.deepEqual(await footprint(), before);
      const signed = await send(body("signed"), body("signed"));
      assert.equal(signed.status, 200);
      const id = ((await signed.json()) as any).id;
      assert.equal((await get(`/v1/files/${id}/content`)).text, "signed");
    });

    test("the openai PyPI client creates, lists and reads a file", { skip: pythonSdkMissing() ?? false }, async () => {
      const path = join(dir, "py.jsonl");
      await writeFile(path, jsonl(chat("Q", "A")));
      const script = [
        "import json, os, openai",
        "c = openai.OpenAI(base_url=os.environ['BASE'], api_key=os.environ['KEY'], max_retries=0)",
        "f = c.files.create(file=open(os.environ['FILE'], 'rb'), purpose='fine-tune')",
        "ids = [x.id for x in c.files.list(purpose='fine-tune', limit=1)]",
        "print(json.dumps({'id': f.id, 'status': f.status, 'ids': ids, 'content': c.files.content(f.id).text, 'waited': c.files.wait_for_processing(f.id).status}))",
      ].join("\n");
      const { stdout } = await run(`${root}.venv/bin/python`, ["-c", script], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", BASE: `${server.url}/v1`, KEY: apiKey, FILE: path }, timeout: 120_000,
      });
      const out = JSON.parse(stdout);
      assert.equal(out.status, "processed");
      assert.equal(out.waited, "processed");
      assert.ok(out.ids.includes(out.id), stdout);
      assert.equal(out.content, jsonl(chat("Q", "A")));
    });
  });
}
