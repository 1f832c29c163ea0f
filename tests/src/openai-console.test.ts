import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import type { Browser, Page } from "playwright-core";
import { ADMIN, startTestServer, v2Ok, type TestServer } from "./harness.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { PageProblems, launchChromium, newWatchedPage, screenshot, submitSignIn } from "./fixtures/browser.js";

/**
 * One store, seen in the console: a job created through OpenAI's API (the official Node SDK) is a
 * V2 task whose describe names it (`openAiJob`), and the console's task page shows its `ftjob-` id
 * and, until it succeeded, no fine-tuned model yet (the succeeded case's describe is checked by
 * openai-sdk-e2e.test.ts). No worker: the job stays queued. Chromium as console-e2e.test.ts.
 */

const DIST = new URL("../../apps/console/dist/", import.meta.url).pathname;

describe("an OpenAI job in the console", { timeout: 120_000 }, () => {
  let server: TestServer;
  let tiny: TinyModelFolders;
  let dir: string;
  let browser: Browser;
  let page: Page;
  const problems = new PageProblems();

  before(async () => {
    assert.ok(existsSync(join(DIST, "index.html")), `${DIST}index.html is missing: run \`npm run build\` (it builds the console)`);
    server = await startTestServer("sqlite", { SAILFIN_CONSOLE_DIR: DIST });
    tiny = await writeTinyModels({ llama: TINY });
    await stageFolder(server, tiny.dir("llama"), "hub", "tiny-console");
    await importBaseModel(server, "tiny-console", { bucket: "hub", objectPath: "tiny-console" });
    dir = await mkdtemp(join(tmpdir(), "sailfin-openai-console-"));
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(20_000);
    page = await newWatchedPage(context, problems);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await tiny?.remove();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test("the task page names the ftjob- and says the fine-tuned model comes once it succeeded", async () => {
    const apiKey = (await v2Ok(server, "iam", "CreateApiKey", { description: "console" })).apiKey as string;
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey });
    const path = join(dir, "train.jsonl");
    await writeFile(path, `${JSON.stringify({ messages: [{ role: "user", content: "say red" }, { role: "assistant", content: "red" }] })}\n`);
    const file = await client.files.create({ file: createReadStream(path), purpose: "fine-tune" });
    const job = await client.fineTuning.jobs.create({ model: "tiny-console", training_file: file.id, suffix: "console" });
    assert.equal(job.status, "queued");

    const run = await server.server.res.db.selectFrom("openai_jobs").innerJoin("runs", "runs.num", "openai_jobs.run_num")
      .select("runs.id as id").where("openai_jobs.id", "=", job.id).executeTakeFirstOrThrow();
    const task = await v2Ok(server, "finetuning", "DescribeFineTuningTask", { taskId: run.id });
    assert.deepEqual(task.openAiJob, { id: job.id, fineTunedModel: null });

    await page.goto(`${server.url}/console/`);
    await page.getByLabel("Access key").waitFor();
    problems.forgiveRefusals("/sailfin/v1/session"); // the probe for a session while there is none
    await submitSignIn(page, ADMIN);
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await page.goto(`${server.url}/console/tasks/${run.id}`);
    await page.getByTestId("openai-job").waitFor();
    assert.equal(await page.getByTestId("openai-job").textContent(), job.id);
    await page.getByText("— (once it succeeded)").waitFor();
    await screenshot(page, "openai/task-page-openai-job");
    assert.deepEqual(problems.take(), [], "the console logged errors");
  });
});
