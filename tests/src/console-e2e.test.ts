import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Worker } from "@sailfin/worker";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { TINY, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { learnableLines, startTestWorker } from "./fixtures/worker-fixtures.js";
import { PageProblems, SCREENSHOT_DIR, assertFitsWindow, launchChromium, newWatchedPage, pollPage, pressableControls, screenshot, submitSignIn } from "./fixtures/browser.js";

/**
 * The web console end to end, in Debian's chromium against a real server (serving
 * apps/console/dist under /console/) and a real worker training a tiny model: sign in, import a
 * base model, upload a dataset (its validation report, a fixed version, release), create a job,
 * fill the generated task form (a range enforced), quote, start, watch the live chart grow,
 * finish, publish, compress, evaluate, export and download; stop a second task; then a
 * read-only key sees every page with nothing it could press to change anything, and the server
 * refuses it anyway. Any console error or uncaught exception in any page fails the test.
 * Screenshots of the main pages go to test-output/console/<dialect>/.
 *
 * On every dialect under test: the console's pages read what both stores write.
 */

const DIST = new URL("../../apps/console/dist/", import.meta.url).pathname;
/** Controls a read-only key may press: none of them changes anything on the server. */
const READ_ONLY_CONTROLS = new Set(["Sign out", "Apply", "Reset", "Previous", "Next", "Retry", "Load more"]);

for (const dialect of testDialects()) describe(`web console in chromium (${dialect})`, { timeout: 300_000 }, () => {
  let server: TestServer;
  let worker: Worker;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let tiny: TinyModelFolders;
  let work: string;
  const problems = new PageProblems();
  const ids = { datasetId: "", jobId: "", taskId: "", tunedModelId: "", baseModelId: "", compressionId: "", evalId: "" };

  const go = async (path: string) => {
    await page.goto(`${server.url}/console${path}`);
  };
  const heading = (name: string | RegExp) => page.getByRole("heading", { level: 1, name });
  /** Screenshots per dialect: test-output/console/<dialect>/<name>.png. */
  const shot = (tab: Page, name: string) => screenshot(tab, `${dialect}/${name}`);
  const noProblems = () => assert.deepEqual(problems.take(), [], "the console logged errors");

  /** Every main page, with a text that shows it has loaded (after the tests above made its data). */
  const mainPages = (): Array<[string, string]> => [
    [`/tasks/${ids.taskId}`, "Checkpoints"], ["/", "Overview"], ["/datasets", "say-words"], [`/datasets/${ids.datasetId}`, "Version 2"],
    ["/jobs", "say-words"], [`/jobs/${ids.jobId}`, "Tasks"], ["/models", "say-words-sft"], [`/versions/${ids.tunedModelId}`, "Lineage"],
    ["/compression", "int8"], [`/compression/${ids.compressionId}`, "Before and after"], ["/evaluations", "say-eval"], [`/evaluations/${ids.evalId}`, "Per-sample results"],
  ];

  before(async () => {
    assert.ok(existsSync(join(DIST, "index.html")), `${DIST}index.html is missing: run \`npm run build\` (it builds the console)`);
    server = await startTestServer(dialect, { SAILFIN_CONSOLE_DIR: DIST, SAILFIN_EVENTS_POLL_MS: "100" });
    worker = await startTestWorker(server, "console-worker");
    tiny = await writeTinyModels({ llama: TINY });
    work = await mkdtemp(join(tmpdir(), "sailfin-console-"));
    const lines = learnableLines(16);
    // Line 3 is broken: the validation report must name it.
    await writeFile(join(work, "say-bad.jsonl"), `${[lines[0], lines[1], '[{"prompt": "say red"}]', ...lines.slice(3)].join("\n")}\n`);
    await writeFile(join(work, "say.jsonl"), `${lines.join("\n")}\n`);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    context.setDefaultTimeout(20_000);
    page = await newWatchedPage(context, problems);
  });
  after(async () => {
    await browser?.close();
    await worker?.stop();
    await server?.close();
    await tiny?.remove();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  test("sign in: a wrong secret is refused with what to do, the right one opens the overview", async () => {
    await go("/");
    await page.getByLabel("Access key").waitFor();
    problems.forgiveRefusals("/sailfin/v1/session"); // the probe for a session while there is none
    await shot(page, "01-sign-in");
    await page.getByLabel("Access key").fill(ADMIN.accessKey);
    await page.getByLabel("Secret key").fill("not-the-secret");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Sign-in failed" }).waitFor();
    problems.forgiveRefusals("/sailfin/v1/session");
    // The right pair by keyboard alone: the form's tab order and Enter to submit.
    await page.getByLabel("Access key").focus();
    await page.keyboard.press("Control+A");
    await page.keyboard.type(ADMIN.accessKey);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Control+A");
    await page.keyboard.type(ADMIN.secretKey);
    await page.keyboard.press("Enter");
    await heading("Overview").waitFor();
    await shot(page, "02-overview-empty");
    noProblems();
  });

  test("models: import a base model by uploading its files, with byte progress; the version becomes Ready", async () => {
    await page.getByRole("link", { name: "Models", exact: true }).click();
    await page.getByText("No models yet.").waitFor();
    await page.getByRole("button", { name: "Import a model" }).click();
    await page.getByLabel("New set name").fill("tiny-base");
    const dir = tiny.dir("llama");
    await page.getByLabel("Model files").setInputFiles((await readdir(dir)).map((name) => join(dir, name)));
    // A slow uplink (Chromium's network emulation) so the progress can be seen part way.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 64 * 1024 });
    await page.getByRole("button", { name: "Upload and import" }).click();
    const progress = page.getByTestId("upload-progress").locator("progress");
    const partWay = await pollPage(page, async () => Number(await progress.getAttribute("value", { timeout: 5_000 })), (v) => v > 0 && v < 100, "upload progress part way", 20_000);
    assert.ok(partWay > 0 && partWay < 100);
    assert.match((await page.getByTestId("upload-progress").textContent()) ?? "", /\d (B|KiB|MiB) of \d/);
    await shot(page, "02b-model-upload-progress");
    await page.waitForURL(/\/console\/versions\/amv-/, { timeout: 60_000 });
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.detach();
    ids.baseModelId = page.url().split("/").at(-1)!;
    await page.locator(".page-title-row .badge", { hasText: "Ready" }).waitFor({ timeout: 30_000 });
    noProblems();
  });

  test("datasets: upload, the line-exact validation report, a fixed version, release", async () => {
    await page.getByRole("link", { name: "Datasets", exact: true }).click();
    await page.getByText("No datasets yet.").waitFor();
    await page.getByRole("button", { name: "Upload a dataset" }).click();
    await page.getByLabel("Name", { exact: true }).fill("say-words");
    await page.getByLabel("Format").selectOption("PromptResponse");
    await page.getByLabel(/^File/).setInputFiles(join(work, "say-bad.jsonl"));
    await page.getByRole("button", { name: "Upload and import" }).click();
    await page.waitForURL(/\/console\/datasets\/ds-/);
    ids.datasetId = page.url().split("/").at(-1)!;
    const report = page.getByTestId("validation-report");
    await report.waitFor({ timeout: 30_000 });
    const row = report.locator("tbody tr").first();
    assert.equal(await row.locator("td").first().textContent(), "3", "the report names line 3");
    await shot(page, "03-dataset-validation-report");

    await page.getByRole("button", { name: "Upload a new version" }).click();
    await page.getByLabel("File (JSONL)").setInputFiles(join(work, "say.jsonl"));
    await page.getByRole("button", { name: "Upload and import" }).click();
    const v2 = page.getByTestId("dataset-version").filter({ has: page.getByRole("heading", { name: /^Version 2/ }) });
    await v2.getByRole("button", { name: "Release" }).click({ timeout: 30_000 });
    await v2.locator(".badge", { hasText: "Published" }).waitFor({ timeout: 30_000 });
    assert.match((await v2.textContent()) ?? "", /Every line is valid/);
    await shot(page, "04-dataset-released");
    noProblems();
  });

  test("fine-tuning: a job, the generated task form enforces ranges, the quote comes before start", async () => {
    await page.getByRole("link", { name: "Fine-tuning", exact: true }).click();
    await page.getByRole("button", { name: "New job" }).click();
    await page.getByLabel("Name", { exact: true }).fill("say-words");
    await page.getByLabel("Base model").selectOption("tiny-base");
    // What the model is, from DescribeFineTuningSupportModels' modelSpec extension.
    assert.match((await page.locator("#job-model-facts").textContent()) ?? "", /^LlamaForCausalLM · [\d,]+ parameters · context 512 tokens · (.* · )?chat template$/);
    await page.getByLabel("Train mode").selectOption("SFT");
    await page.getByRole("button", { name: "Create job" }).click();
    await page.waitForURL(/\/console\/jobs\//);
    ids.jobId = page.url().split("/").at(-1)!;
    await page.getByRole("button", { name: "New task" }).click();
    await page.getByLabel("Parameter scale").selectOption("FullFineTuning");
    const epoch = page.locator("#hp-epoch");
    await epoch.fill("500");
    await page.getByText("must be between 1 and 50").waitFor();
    assert.equal(await page.getByRole("button", { name: "Get quote" }).isDisabled(), true, "an out-of-range value blocks the quote");
    await epoch.fill("50");
    // Batch 1: 200 steps of a few milliseconds each, long enough to watch the chart grow.
    await page.locator("#hp-batchSize").fill("1");
    await page.locator("#hp-learningRate").fill("0.005");
    await page.locator("#hp-maxSeqLen").selectOption("128");
    await page.locator("#hp-warmupRatio").fill("0");
    await page.locator("#hp-saveStep").fill("20");
    await page.getByLabel(/Validation split/).fill("20");
    assert.equal(await page.getByRole("button", { name: "Start training" }).isDisabled(), true, "no start before a quote");
    await page.getByRole("button", { name: "Get quote" }).click();
    const quote = page.getByTestId("quote");
    await quote.waitFor();
    assert.match((await quote.textContent()) ?? "", /Steps/);
    await shot(page, "05-task-form-quote");
    await page.getByRole("button", { name: "Start training" }).click();
    await page.waitForURL(/\/console\/tasks\/task-/);
    ids.taskId = page.url().split("/").at(-1)!;
    noProblems();
  });

  test("task page: the live chart grows while training runs, then the task finishes with checkpoints", async () => {
    const points = async () => Number(await page.getByTestId("loss-chart").getAttribute("data-points", { timeout: 30_000 }));
    const first = await pollPage(page, points, (n) => n > 0, "first chart point", 60_000);
    const status = await page.locator(".page-title-row .badge").textContent();
    assert.notEqual(status, "Done", "the first points were seen while the task ran");
    const grown = await pollPage(page, points, (n) => n > first, "the chart to grow", 60_000);
    assert.ok(grown > first, `${first} → ${grown} points`);
    await shot(page, "06-task-training");
    assert.notEqual(await page.getByTestId("tokens-per-second").textContent(), "—");
    await page.locator(".page-title-row .badge", { hasText: "Done" }).waitFor({ timeout: 120_000 });
    await page.locator(".table-wrap[aria-label=Checkpoints] tbody tr").first().waitFor({ timeout: 15_000 });
    const final = await points();
    const metrics = await server.admin.v2<{ metrics: unknown[] }>("finetuning", "DescribeFineTuningTaskMetrics", { taskId: ids.taskId });
    assert.equal(final, metrics.metrics.length, "every logged step is on the chart, once");
    await shot(page, "07-task-done");
    await page.setViewportSize({ width: 390, height: 844 });
    // Usable on a narrow window: nothing wider than the window (tables scroll in their own box).
    await assertFitsWindow(page, "390 px");
    await shot(page, "08-task-done-narrow");
    await page.setViewportSize({ width: 1280, height: 800 });
    noProblems();
  });

  test("publish: the finished task becomes a model version with its lineage", async () => {
    await page.getByRole("button", { name: "Publish as model version" }).click();
    await page.getByLabel("New set name").fill("say-words-sft");
    await page.getByRole("button", { name: "Publish", exact: true }).click();
    await page.waitForURL(/\/console\/versions\/amv-/);
    ids.tunedModelId = page.url().split("/").at(-1)!;
    await page.locator(".page-title-row .badge", { hasText: "Ready" }).waitFor({ timeout: 60_000 });
    const lineage = page.getByTestId("lineage");
    await lineage.getByRole("link", { name: /fine-tuning task/ }).waitFor();
    await lineage.getByRole("link", { name: /dataset say-words V2/ }).waitFor();
    noProblems();
  });

  test("compression: int8 of the tuned version, sizes side by side", async () => {
    await page.getByRole("link", { name: "Compress", exact: true }).click();
    await page.getByRole("button", { name: "Start compression" }).click();
    await page.waitForURL(/\/console\/compression\/amva-/);
    ids.compressionId = page.url().split("/").at(-1)!;
    await page.locator(".page-title-row .badge", { hasText: "succeeded" }).waitFor({ timeout: 90_000 });
    const sizes = await page.getByRole("region", { name: "Source and compressed version" }).locator("tr", { hasText: "Size" }).locator("td").allTextContents();
    assert.equal(sizes.length, 2);
    assert.ok(sizes.every((size) => size !== "—"), `sizes before and after: ${sizes.join(", ")}`);
    await shot(page, "09-compression");
    noProblems();
  });

  test("evaluation: base, tuned and int8 side by side, per-sample results filtered, export downloaded", async () => {
    await go(`/versions/${ids.tunedModelId}`);
    await page.getByRole("link", { name: "Evaluate", exact: true }).click();
    await page.getByLabel("Name", { exact: true }).fill("say-eval");
    const versions = page.getByRole("group", { name: "Model versions to compare" });
    for (const box of await versions.getByRole("checkbox").all()) if (!(await box.isChecked())) await box.check();
    await page.getByLabel("Max output tokens").fill("8");
    await page.getByRole("button", { name: "Start evaluation" }).click();
    await page.waitForURL(/\/console\/evaluations\/ame-/);
    ids.evalId = page.url().split("/").at(-1)!;
    await page.locator(".page-title-row .badge", { hasText: "Successed" }).waitFor({ timeout: 120_000 });
    const report = page.getByRole("region", { name: "Report: versions side by side" });
    await report.waitFor();
    assert.equal(await report.locator("thead th").count(), 4, "metric column + three versions");
    await page.getByTestId("sample-results").locator("tr").first().waitFor();
    const all = await page.getByTestId("sample-results").locator("tr").count();
    await page.getByRole("form", { name: "Filter results" }).getByLabel("Version").selectOption(ids.tunedModelId);
    await page.getByRole("button", { name: "Apply" }).click();
    await pollPage(page, () => page.getByTestId("sample-results").locator("tr").count(), (n) => n > 0 && n < all, "filtered results");
    await shot(page, "10-evaluation-report");

    await page.getByRole("button", { name: "Export results" }).click();
    const link = page.getByRole("link", { name: "Download results (zip)" });
    await link.waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const saved = join(SCREENSHOT_DIR, dialect, "evaluation-results.zip");
    await download.saveAs(saved);
    const zip = await readFile(saved);
    assert.equal(zip.subarray(0, 2).toString("latin1"), "PK", "a zip file");
    assert.ok(zip.includes(Buffer.from("results.jsonl")), "with the results");
    await shot(page, "11-evaluation-exported");
    await go(`/versions/${ids.tunedModelId}`);
    const lineage = page.getByTestId("lineage");
    await lineage.getByRole("link", { name: /evaluation say-eval/ }).waitFor({ timeout: 15_000 });
    await lineage.getByRole("link", { name: /compression/ }).first().waitFor();
    await shot(page, "12-version-lineage");
    noProblems();
  });

  test("pause, resume, stop: a second task is paused, resumed and stopped from its page", async () => {
    await go(`/jobs/${ids.jobId}`);
    await page.getByRole("button", { name: "New task" }).click();
    await page.locator("#hp-epoch").fill("50");
    await page.locator("#hp-batchSize").fill("1");
    await page.locator("#hp-maxSeqLen").selectOption("128");
    await page.getByRole("button", { name: "Get quote" }).click();
    await page.getByTestId("quote").waitFor();
    await page.getByRole("button", { name: "Start training" }).click();
    await page.waitForURL(/\/console\/tasks\/task-/);
    // Waiting or Running: either way it reads Paused once its worker (if any) let go of it.
    await page.getByRole("button", { name: "Pause" }).click();
    await page.locator(".page-title-row .badge", { hasText: "Paused" }).waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByRole("button", { name: "Pause" }).waitFor({ timeout: 15_000 });
    await page.getByRole("button", { name: "Stop training" }).click();
    await page.getByRole("button", { name: "Confirm stop" }).click();
    await page.locator(".page-title-row .badge", { hasText: "Stopped" }).waitFor({ timeout: 60_000 });
    noProblems();
  });

  test("a narrow window (390 px): every main page fits, nothing sticks out sideways", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [path, text] of mainPages()) {
        await go(path);
        await page.getByText(text).first().waitFor();
        await assertFitsWindow(page, `390 px on ${path}`);
      }
      await shot(page, "15-evaluation-narrow");
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
    noProblems();
  });

  test("a read-only key sees every page and can press nothing that changes anything; the server refuses it anyway", async () => {
    const key = await server.admin.v2<{ accessKey: string; secretKey: string }>("iam", "CreateAccessKey", { policies: ["QianfanReadAccessPolicy"] });
    const reader = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    reader.setDefaultTimeout(20_000);
    try {
      const view = await newWatchedPage(reader, problems);
      await view.goto(`${server.url}/console/tasks/${ids.taskId}`);
      await submitSignIn(view, key);
      await view.getByTestId("read-only-badge").waitFor();
      problems.forgiveRefusals("/sailfin/v1/session");
      for (const [path, text] of mainPages()) {
        await view.goto(`${server.url}/console${path}`);
        await view.getByText(text).first().waitFor();
        await view.waitForLoadState("networkidle");
        const pressable = (await pressableControls(view)).filter((label) => !READ_ONLY_CONTROLS.has(label));
        assert.deepEqual(pressable, [], `${path} offers a read-only key: ${pressable.join(", ")}`);
        if (path === `/tasks/${ids.taskId}`) await shot(view, "13-read-only-task");
        if (path === `/evaluations/${ids.evalId}`) await shot(view, "14-read-only-evaluation");
      }
      // Past the UI: the same session calling a mutating action directly is refused by the server.
      const session = await (await reader.request.get(`${server.url}/sailfin/v1/session`)).json() as { result?: { csrfToken?: string }; csrfToken?: string };
      const csrfToken = session.result?.csrfToken ?? session.csrfToken ?? "";
      const refused = await reader.request.post(`${server.url}/v2/finetuning?Action=StopFineTuningTask`, {
        headers: { "content-type": "application/json", "x-sailfin-csrf": csrfToken }, data: { taskId: ids.taskId },
      });
      assert.equal(refused.status(), 403, await refused.text());
      assert.equal((await refused.json() as { code: string }).code, "AccessDenied");
      await view.getByRole("button", { name: "Sign out" }).click();
      await view.getByLabel("Access key").waitFor();
      noProblems();
    } finally {
      await reader.close();
    }
  });
  test("lists page with the server's markers: 50 at a time, then Load more", async () => {
    // 50 more jobs: with say-words, one more than a page holds.
    for (let i = 0; i < 50; i++) {
      await server.admin.v2("finetuning", "CreateFineTuningJob", { name: `bulk-${String(i).padStart(2, "0")}`, model: "tiny-base", trainMode: "SFT" });
    }
    await go("/jobs");
    await page.getByRole("heading", { name: "50+ jobs" }).waitFor();
    assert.equal(await page.getByRole("region", { name: "Fine-tuning jobs" }).locator("tbody tr").count(), 50);
    await page.getByRole("button", { name: "Load more" }).click();
    await page.getByRole("heading", { name: "51 jobs" }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Load more" }).count(), 0, "no further page");
    const names = await page.getByRole("region", { name: "Fine-tuning jobs" }).locator("tbody tr td:first-child a").allTextContents();
    assert.equal(new Set(names).size, 51, "every job once");
    assert.ok(names.includes("say-words"));
    noProblems();
  });
  test("sign-out from a tab whose session another tab replaced still ends the live session", async () => {
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    other.setDefaultTimeout(20_000);
    try {
      const signInHere = async (tab: Page) => {
        await submitSignIn(tab, ADMIN);
        await tab.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      };
      const first = await newWatchedPage(other, problems);
      await first.goto(`${server.url}/console/`);
      await signInHere(first);
      const second = await newWatchedPage(other, problems);
      await second.goto(`${server.url}/console/`);
      await second.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      // The first tab signs out and in again: a new cookie and CSRF token the second tab has not seen.
      await first.getByRole("button", { name: "Sign out" }).click();
      await signInHere(first);
      await second.getByRole("button", { name: "Sign out" }).click();
      await second.getByText("You are signed out.").waitFor();
      await first.reload();
      await first.getByLabel("Access key").waitFor();
      // The refused first attempt (403 InvalidCSRFToken) and the session probes are expected answers.
      problems.forgiveRefusals("/sailfin/v1/session");
      noProblems();
    } finally {
      await other.close();
    }
  });
});
