import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Worker } from "@sailfin/worker";
import { ADMIN, startTestServer, type TestServer } from "./harness.js";
import { runCli, type CliResult } from "./cli-process.js";
import { startFakeJudge, type FakeJudge } from "./fixtures/fake-judge.js";
import { TINY, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { runCliOnTty } from "./fixtures/tty.js";
import { learnableLines, startTestWorker } from "./fixtures/worker-fixtures.js";

/**
 * Every `sailfin` client command, run as a subprocess (the real bin) against a real server on a
 * real port, with a real worker training, compressing and evaluating a tiny model. Phase one runs
 * with no worker, so that queued work can be stopped and cancelled deterministically; the worker
 * starts for phase two (a real training run followed to Done by `tasks watch`).
 */

const TASK_FLAGS = ["--epoch", "3", "--batch-size", "2", "--max-seq-len", "128", "--learning-rate", "0.01", "--param", "loggingSteps=1", "--param", "warmupRatio=0"];

describe("sailfin client commands, as subprocesses against a real server", () => {
  let server: TestServer;
  let worker: Worker | undefined;
  let tiny: TinyModelFolders;
  let judge: FakeJudge;
  let work: string;
  let env: Record<string, string>;
  const ids = { trainVersion: "", evalVersion: "", base: "", baseSet: "", job: "", task: "", int8: "", eval: "" };

  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...env, ...extra });
  const ok = async (args: string[], extra: Record<string, string> = {}): Promise<string> => {
    const r = await cli(args, extra);
    assert.equal(r.code, 0, `sailfin ${args.join(" ")}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const okJson = async (args: string[]): Promise<any> => JSON.parse(await ok([...args, "--json"]));
  /** A failure the way the issue wants it: the exit code, and one line on stderr, no stack trace. */
  const fails = (r: CliResult, code: number, pattern: RegExp) => {
    assert.equal(r.code, code, `${r.stderr}${r.stdout}`);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, `one line: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at |^\s+at /m);
  };

  before(async () => {
    judge = await startFakeJudge({ behaviour: "score" });
    server = await startTestServer("sqlite", { SAILFIN_JUDGE_URL: judge.url });
    work = await mkdtemp(join(tmpdir(), "sailfin-cli-commands-"));
    tiny = await writeTinyModels({ llama: TINY });
    await writeFile(join(work, "train.jsonl"), `${learnableLines(40).join("\n")}\n`);
    await writeFile(join(work, "eval.jsonl"), `${learnableLines(4).join("\n")}\n`);
    env = {
      QIANFAN_CONSOLE_API_BASE_URL: server.url, QIANFAN_ACCESS_KEY: ADMIN.accessKey, QIANFAN_SECRET_KEY: ADMIN.secretKey,
      SAILFIN_CONFIG: join(work, "config", "config.json"), SAILFIN_PROFILE: "",
    };
  });
  after(async () => {
    await worker?.stop();
    await server.close();
    await judge.close();
    await tiny.remove();
    await rm(work, { recursive: true, force: true });
  });

  test("datasets upload (--no-release) / release / list / show", async () => {
    const [unreleased, released] = await Promise.all([
      okJson(["datasets", "upload", join(work, "train.jsonl"), "--name", "cli-train", "--format", "PromptResponse", "--no-release"]),
      ok(["datasets", "upload", join(work, "eval.jsonl"), "--name", "cli-eval", "--format", "PromptResponse"]),
    ]);
    assert.equal(unreleased.publishStatus, "Unpublished");
    assert.equal(unreleased.sampleCount, 40);
    ids.trainVersion = unreleased.versionId;
    ids.evalVersion = /released (ds-[a-z0-9]+)/.exec(released)![1]!;
    assert.match(await ok(["datasets", "release", ids.trainVersion]), new RegExp(`released ${ids.trainVersion} \\(cli-train v1, 40 records\\): Published`));
    const [table, listed, shown, versions] = await Promise.all([
      ok(["datasets", "list"]), okJson(["datasets", "list"]), ok(["datasets", "show", ids.trainVersion]), okJson(["datasets", "show", unreleased.datasetId]),
    ]);
    assert.match(table, /^datasetId\s+datasetName\s+dataFormat/);
    assert.deepEqual(listed.map((d: any) => d.datasetName).sort(), ["cli-eval", "cli-train"]);
    assert.match(shown, /^publishStatus: Published$/m);
    assert.equal(versions[0].versionId, ids.trainVersion);
  });

  test("models import / list / show", async () => {
    const imported = await ok(["models", "import", tiny.dir("llama"), "--name", "cli-base"]);
    ids.base = /(amv-[a-z0-9]+) Ready/.exec(imported)![1]!;
    ids.baseSet = /set (am-[a-z0-9]+)/.exec(imported)![1]!;
    const [list, version, set] = await Promise.all([ok(["models", "list"]), okJson(["models", "show", ids.base]), ok(["models", "show", ids.baseSet])]);
    assert.match(list, new RegExp(`${ids.baseSet}\\s+cli-base\\s+Text2Text\\s+1\\s+${ids.base}`));
    assert.equal(version.status, "Ready");
    assert.match(set, /^modelSetName: cli-base$/m);
  });

  test("exports dataset / exports model --output: wait, then download the zip and the tar", async () => {
    const zipFile = join(work, "train-export.zip");
    assert.match(await ok(["exports", "dataset", ids.trainVersion, "--output", zipFile, "--interval", "0.1"]), /^task-[a-z0-9]+ done: saved .*train-export\.zip/);
    assert.deepEqual(unzip(zipFile), { "cli-train_V1.jsonl": `${learnableLines(40).join("\n")}\n` });
    const tarFile = join(work, "base.tar");
    assert.match(await ok(["exports", "model", ids.base, "--output", tarFile, "--interval", "0.1"]), /^amexp-[a-z0-9]+ done: saved .*base\.tar/);
    const listed = spawnSync("tar", ["-tf", tarFile], { encoding: "utf8" });
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(listed.stdout.split("\n").includes(`${ids.base}/config.json`), listed.stdout);
    const inBucket = await okJson(["exports", "dataset", ids.trainVersion, "--storage", "bos:/cli-out/ds/", "--interval", "0.1"]);
    assert.match(inBucket.storagePath, /^bos:\/cli-out\/ds\/cli-train_V1_\d+\.zip$/);
    fails(await cli(["exports", "dataset", ids.trainVersion, "--storage", "bos:/cli-out/ds/", "--output", zipFile]), 2, /--output downloads an export into Sailfin's storage: leave out --storage/);
  });

  test("jobs create / list / show / delete", async () => {
    ids.job = (await okJson(["jobs", "create", "--name", "cli-job", "--model", "cli-base"])).jobId;
    const doomed = /created job (job-[a-z0-9]+)/.exec(await ok(["jobs", "create", "--name", "doomed", "--model", "cli-base"]))![1]!;
    assert.deepEqual((await okJson(["jobs", "list"])).map((j: any) => j.jobId).sort(), [ids.job, doomed].sort());
    assert.match(await ok(["jobs", "show", doomed]), /^name: doomed$[\s\S]*no tasks yet/m);
    assert.match(await ok(["jobs", "delete", doomed]), new RegExp(`deleted ${doomed}`));
    assert.doesNotMatch(await ok(["jobs", "list"]), new RegExp(doomed));
    fails(await cli(["jobs", "show", doomed]), 1, new RegExp(`^sailfin: \\w+: .*${doomed} does not exist \\(request [0-9a-f-]+\\)$`));
  });

  test("tasks create refuses to start without --yes off a terminal; quote; stop a queued task", async () => {
    const create = ["tasks", "create", "--job", ids.job, "--dataset", ids.trainVersion, ...TASK_FLAGS];
    fails(await cli(create), 2, /^sailfin: `tasks create` asks before starting, and stdin is not a terminal: pass --yes/);
    assert.equal((await okJson(["tasks", "list", "--job", ids.job])).length, 0, "nothing was started");
    const quote = await ok(["tasks", "quote", ...create.slice(2)]);
    assert.match(quote, /^trained tokens  [\d,]+ × 3 epochs = [\d,]+$/m);
    assert.match(quote, /^ETA             unknown \(no run of this model shape has finished here yet\)$/m);
    // No worker yet: the task waits in the queue, and stopping it is final at once.
    const { taskId } = await okJson([...create, "--yes"]);
    assert.match(await ok(["tasks", "stop", taskId]), new RegExp(`stopped ${taskId}`));
    const watched = await cli(["tasks", "watch", taskId, "--interval", "0.1"]);
    assert.equal(watched.code, 1, "a stopped task is not a success");
    assert.match(watched.stdout, /^Stopped$/m);
  });

  test("tasks create on a terminal shows the quote and asks; no means nothing starts", async () => {
    const r = await runCliOnTty(["tasks", "create", "--job", ids.job, "--dataset", ids.trainVersion, ...TASK_FLAGS], env, { prompt: "Start? [y/N]", answer: "n" });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /steps\s+\d+ \(\d+ per epoch\)/);
    assert.match(r.output, /Start\? \[y\/N\]/);
    assert.match(r.output, /sailfin: not started/);
    assert.equal((await okJson(["tasks", "list", "--job", ids.job])).length, 1, "only the stopped task");
  });

  test("compress create / list / show / cancel (queued, no worker)", async () => {
    const id = JSON.parse(await ok(["compress", "create", "--name", "cli-int4", "--model", ids.base, "--weight", "W4A16C16", "--json"]));
    assert.match(id, /^amva-[a-z0-9]+$/);
    assert.equal((await ok(["compress", "cancel", id])).trim(), `${id} stopped`);
    const [listed, shown] = await Promise.all([ok(["compress", "list", "--model", ids.base]), okJson(["compress", "show", id])]);
    assert.match(listed, new RegExp(`${id}\\s+cli-int4\\s+stopped`));
    assert.equal(shown.config.weight, "W4A16C16");
    assert.equal(shown.modelId, "");
  });

  test("tasks watch follows a real tiny training run to Done; list / show / metrics", async () => {
    worker = await startTestWorker(server, "cli-worker");
    const { taskId } = await okJson(["tasks", "create", "--job", ids.job, "--dataset", ids.trainVersion, ...TASK_FLAGS, "--yes"]);
    ids.task = taskId;
    const watched = await ok(["tasks", "watch", taskId, "--interval", "0.2"]);
    const progress = watched.split("\n").filter((l) => /^step \d+\/\d+ \d+%/.test(l));
    assert.ok(progress.length >= 5, `progress lines:\n${watched}`);
    const total = Number(/^step \d+\/(\d+)/.exec(progress[0]!)![1]);
    assert.match(progress.at(-1)!, new RegExp(`^step ${total}/${total} 100%`));
    assert.ok(progress.every((l) => /\d+ tok\/s {2}loss \d+(\.\d+)?$/.test(l)), watched);
    assert.match(watched.trimEnd().split("\n").at(-1)!, /^Done in \d+ s, final loss \d+(\.\d+)?$/);
    const losses = progress.map((l) => Number(/loss (\S+)$/.exec(l)![1]));
    assert.ok(losses.at(-1)! < losses[0]!, `the loss fell: ${losses.join(" ")}`);

    const [list, shown, metrics, since] = await Promise.all([
      ok(["tasks", "list", "--job", ids.job]), ok(["tasks", "show", taskId]), okJson(["tasks", "metrics", taskId]), okJson(["tasks", "metrics", taskId, "--since", String(total - 2)]),
    ]);
    assert.match(list, new RegExp(`${taskId}\\s+${ids.job}\\s+\\S+\\s+Done`));
    assert.match(shown, /^runStatus: Done$/m);
    assert.match(shown, /^resourceConfig: \{"resourceId":"local","nodeNum":1,"processesPerNode":1,"executor":"local","executorJobId":null\}$/m);
    assert.match(shown, /^step\s+trainingLoss\s+perplexity$/m);
    assert.deepEqual(metrics.filter((m: any) => m.loss !== null).map((m: any) => m.step), Array.from({ length: total }, (_, i) => i + 1));
    assert.deepEqual(since.filter((m: any) => m.loss !== null).map((m: any) => m.step), [total - 1, total]);
    assert.match(await ok(["tasks", "metrics", taskId]), /^step\s+epoch\s+loss\s+lr/);
  });

  test("tasks watch on a terminal redraws one line: bar, step/total, tok/s, loss, sparkline", async () => {
    const r = await runCliOnTty(["tasks", "watch", ids.task], env);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\r\x1b\[K\[##########\] step (\d+)\/\1 100% {2}\d+ tok\/s {2}loss \S+ {2}[▁▂▃▄▅▆▇█]{2,}/);
    assert.match(r.output, /Done in \d+ s, final loss/);
  });

  test("models publish a task's checkpoint; compress create --wait", async () => {
    const published = await ok(["models", "publish", ids.task, "--name", "cli-tuned"]);
    assert.match(published, /^(amv-[a-z0-9]+) Ready: cli-tuned-V1$/m);
    const compressed = await ok(["compress", "create", "--name", "cli-int8", "--model", ids.base, "--weight", "W8A16C16", "--wait", "--interval", "0.2"]);
    const match = /^(amva-[a-z0-9]+) succeeded: new version (amv-[a-z0-9]+), [\d.]+ KiB → [\d.]+ KiB/m.exec(compressed);
    assert.ok(match, compressed);
    ids.int8 = match[2]!;
    assert.equal((await okJson(["models", "show", ids.int8])).sourceInfo.sourceType, "Acceleration");
  });

  test("evals create --wait / list / show / report / export --output; exports show / download", async () => {
    const created = await ok([
      "evals", "create", "--name", "cli-eval", "--dataset", ids.evalVersion, "--model", ids.base, "--model", ids.int8,
      "--template", "{input}", "--mode", "rule,model", "--judge-url", judge.url, "--max-output-tokens", "4", "--wait", "--interval", "0.2",
    ]);
    ids.eval = /^(ame-[a-z0-9]+) finished/m.exec(created)![1]!;
    const [list, shown, report, reportJson] = await Promise.all([
      ok(["evals", "list", "--filter", "cli-"]), okJson(["evals", "show", ids.eval]), ok(["evals", "report", ids.eval]), okJson(["evals", "report", ids.eval]),
    ]);
    assert.match(list, new RegExp(`${ids.eval}\\s+cli-eval\\s+Successed\\s+100`));
    assert.deepEqual(shown.models.map((m: any) => m.modelId), [ids.base, ids.int8]);
    assert.match(report, /^model\s+modelId\s+samples\s+failed\s+.*rouge_l.*avgJudgeScore/m);
    assert.equal(reportJson.reports.length, 2);
    assert.ok(judge.requests.length >= 8, "the judge scored every answer");

    const zip = join(work, "results.zip");
    assert.match(await ok(["evals", "export", ids.eval, "--content", "prompt,prediction", "--output", zip, "--interval", "0.2"]), /^amemt-[a-z0-9]+ Done: saved .*results\.zip/m);
    assert.deepEqual(Object.keys(unzip(zip)).sort(), ["data.jsonl", "results.csv", "results.jsonl"]);

    const exported = await okJson(["evals", "export", ids.eval, "--wait", "--interval", "0.2"]);
    assert.equal(exported.state, "Done");
    assert.match((await ok(["exports", "show", exported.exportTaskId])), /^downloadUrl: http:\/\/.*signature=/m);
    const second = join(work, "again.zip");
    assert.match(await ok(["exports", "download", exported.exportTaskId, "--output", second]), /^saved .*again\.zip \(\d/);
    const rows = unzip(second)["results.jsonl"]!.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(rows.length, 8, "2 versions × 4 samples");
    assert.ok(rows.every((r) => typeof r.prompt === "string" && typeof r.prediction === "string"));
  });

  test("keys create / list / delete", async () => {
    const key = await okJson(["keys", "create", "--policy", "QianfanReadAccessPolicy", "--description", "cli"]);
    assert.match(await ok(["keys", "list"]), new RegExp(`${key.accessKey}\\s+QianfanReadAccessPolicy\\s+cli`));
    assert.match(await ok(["keys", "delete", key.accessKey]), /deleted/);
  });

  test("bad input: one line saying what happened and how to fix it, never a stack trace", async () => {
    const closedPort = await freePort();
    const [wrong, down, flag, command, missing, server4xx, debug] = await Promise.all([
      cli(["jobs", "list"], { QIANFAN_SECRET_KEY: "not-the-secret" }),
      cli(["jobs", "list"], { QIANFAN_CONSOLE_API_BASE_URL: `http://127.0.0.1:${closedPort}` }),
      cli(["tasks", "create", "--job", ids.job, "--epoc", "3"]),
      cli(["tasks", "wach", ids.task]),
      cli(["datasets", "upload", join(work, "nope.jsonl"), "--name", "x", "--format", "Text"]),
      cli(["tasks", "create", "--job", ids.job, "--dataset", ids.trainVersion, "--epoch", "3", "--param", "learningRate=7", "--yes"]),
      cli(["tasks", "show", "task-nope00000000", "--debug"]),
    ]);
    fails(wrong, 1, /^sailfin: the server rejected the access key\/secret key \(SignatureDoesNotMatch\): check QIANFAN_SECRET_KEY or run `sailfin login`$/);
    fails(down, 1, new RegExp(`^sailfin: cannot reach the Sailfin server at http://127\\.0\\.0\\.1:${closedPort}: connection refused; is \`sailfin serve\` running\\? \\(set QIANFAN_CONSOLE_API_BASE_URL\\)$`));
    fails(flag, 2, /^sailfin: unknown option '--epoc' for `tasks create` \(did you mean --epoch\?\)$/);
    fails(command, 2, /^sailfin: unknown command `tasks wach` \(did you mean `tasks watch`\?\)/);
    fails(missing, 1, /^sailfin: no such file: .*nope\.jsonl$/);
    fails(server4xx, 1, /^sailfin: \w+: .*learningRate.* \(request [0-9a-f-]+\)$/);
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /\n\s+at /, "--debug shows the stack");
    assert.match(debug.stderr.trimEnd().split("\n").at(-1)!, /^sailfin: \w+: .*task-nope00000000 does not exist/);
  });

  test("profiles: login with flags writes a 0600 config; --profile alone connects; logout removes it", async () => {
    const noEnv = { QIANFAN_CONSOLE_API_BASE_URL: "", QIANFAN_ACCESS_KEY: "", QIANFAN_SECRET_KEY: "" };
    fails(await cli(["jobs", "list"], noEnv), 1, /^sailfin: no credentials: set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY .*`sailfin login`$/);
    fails(await cli(["login", "--profile", "ci", "--base-url", server.url, "--access-key", ADMIN.accessKey, "--secret-key", "wrong"], noEnv), 1, /rejected this access key\/secret key \(SignatureDoesNotMatch\); nothing was saved/);
    fails(await cli(["login", "--profile", "ci"], noEnv), 2, /needs --access-key and --secret-key when stdin is not a terminal/);
    assert.match(await ok(["login", "--profile", "ci", "--base-url", server.url, "--access-key", ADMIN.accessKey, "--secret-key", ADMIN.secretKey], noEnv), /saved profile "ci"/);
    assert.equal((await stat(env.SAILFIN_CONFIG!)).mode & 0o777, 0o600);
    assert.equal(JSON.parse(await readFile(env.SAILFIN_CONFIG!, "utf8")).profiles.ci.secretKey, ADMIN.secretKey);
    assert.match(await ok(["jobs", "list", "--profile", "ci"], noEnv), new RegExp(ids.job));
    assert.match(await ok(["--profile", "ci", "tasks", "list"], { ...noEnv, QIANFAN_SECRET_KEY: "an explicit --profile beats the variables" }), new RegExp(ids.task));
    assert.match(await ok(["jobs", "list"], { ...noEnv, SAILFIN_PROFILE: "ci" }), new RegExp(ids.job));
    fails(await cli(["jobs", "list"], { ...noEnv, SAILFIN_PROFILE: "ci", QIANFAN_SECRET_KEY: "wrong" }), 1, /\(SignatureDoesNotMatch\): check QIANFAN_SECRET_KEY/);
    assert.match(await ok(["logout", "--profile", "ci"], noEnv), /removed profile "ci"/);
    fails(await cli(["jobs", "list", "--profile", "ci"], noEnv), 1, /^sailfin: no profile "ci" in .*config\.json: run `sailfin login --profile ci`$/);
  });
});

/** A port nothing listens on (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The files of a zip, read by Python's zipfile (an independent reader). */
function unzip(path: string): Record<string, string> {
  const r = spawnSync("/usr/bin/python3", ["-c", "import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print(json.dumps({n: z.read(n).decode('utf-8') for n in z.namelist()}))", path], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}
