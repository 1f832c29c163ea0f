import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import type { Worker } from "@sailfin/worker";
import { ADMIN, pollUntil, startTestServer, testDialects, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { startTestWorker } from "./fixtures/worker-fixtures.js";
import { PageProblems, launchChromium, newWatchedPage, screenshot, submitSignIn } from "./fixtures/browser.js";

/**
 * The console's scoring page of a manual evaluation, in Debian's chromium against a real server
 * and worker: a manual evaluation over an answers dataset (no generation, so it is quick) waits
 * for people; one answer is scored from its card, the evaluation page links to the scoring, the
 * last answer's score finishes it, and the report shows the mean per dimension. The page reads
 * only the API, so one dialect is enough.
 */

const DIST = new URL("../../apps/console/dist/", import.meta.url).pathname;

describe("console: scoring a manual evaluation (chromium)", { timeout: 180_000 }, () => {
  let server: TestServer;
  let worker: Worker;
  let browser: Browser;
  let page: Page;
  let taskId = "";
  const problems = new PageProblems();

  before(async () => {
    assert.ok(existsSync(join(DIST, "index.html")), `${DIST}index.html is missing: run \`npm run build\` (it builds the console)`);
    server = await startTestServer(testDialects()[0]!, { SAILFIN_CONSOLE_DIR: DIST });
    worker = await startTestWorker(server, "console-scoring");
    const answers = await releasedDataset(server, {
      name: "to-score", format: "PromptResponse",
      lines: [["say red", "red red", "red red"], ["say blue", "blue blue", "green"]].map(([prompt, reference, completion]) => JSON.stringify([{ prompt, response: [[reference]], completion }])),
    });
    taskId = await server.admin.v2<string>("eval", "CreateEvalTask", {
      taskName: "people-score", evalObjectType: "inferDataset",
      evalObjectConfig: { evalInferDatasetConfig: { evalInferDatasetConfigList: [{ inferDatasetVersionId: answers.versionId }] } },
      evalConfig: { evalMode: "manual", manualEvalConfig: { evaluationDimension: [{ dimension: "满意度" }, { dimension: "fluency", scoreRange: [0, 10] }] } },
    });
    await pollUntil(() => server.admin.v2<any>("eval", "DescribeEvalTask", { taskId }), (t) => t.state !== "Queued" && t.state !== "Running", "answers");
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(20_000);
    page = await newWatchedPage(context, problems);
  });
  after(async () => {
    await browser?.close();
    await worker?.stop();
    await server?.close();
  });

  test("score from the cards; the last score finishes; the report shows the means", async () => {
    await page.goto(`${server.url}/console/evaluations/${taskId}`);
    await page.getByLabel("Access key").waitFor();
    problems.forgiveRefusals("/sailfin/v1/session"); // the probe for a session while there is none
    await submitSignIn(page, ADMIN);
    await page.locator(".page-title-row .badge", { hasText: "RunningWithManualBegin" }).waitFor();
    await page.getByRole("link", { name: "Score the answers" }).click();
    await page.waitForURL(/\/score$/);
    await page.getByText("0 of 4 scores given.").waitFor();

    const first = page.getByRole("form", { name: "Scores of answer 1" });
    await first.getByLabel(/^满意度/).fill("5");
    await first.getByLabel(/^fluency/).fill("9");
    await first.getByRole("button", { name: "Save scores" }).click();
    await page.getByText("2 of 4 scores given.").waitFor();
    assert.equal(await first.getByLabel(/^满意度/).isDisabled(), true, "a saved score is shown, not editable");
    await screenshot(page, "manual-scoring/01-half-scored");

    const second = page.getByRole("form", { name: "Scores of answer 2" });
    await second.getByLabel(/^满意度/).fill("6");
    await second.getByRole("button", { name: "Save scores" }).click();
    // The field's own range stops it in the browser (the server refuses it too: eval-manual.test.ts).
    assert.equal(await second.getByLabel(/^满意度/).evaluate((input) => (input as unknown as { validity: { rangeOverflow: boolean } }).validity.rangeOverflow), true);
    await page.getByText("2 of 4 scores given.").waitFor();
    await second.getByLabel(/^满意度/).fill("2");
    await second.getByLabel(/^fluency/).fill("4");
    await second.getByRole("button", { name: "Save scores" }).click();
    await page.getByText("Scoring has finished").waitFor();

    await page.getByRole("link", { name: "see the report" }).click();
    await page.locator(".page-title-row .badge", { hasText: "Successed" }).waitFor();
    const report = page.getByRole("region", { name: "Report: versions side by side" });
    await report.getByRole("row", { name: /满意度 \(people, mean\)\s*3\.5/ }).waitFor();
    await report.getByRole("row", { name: /fluency \(people, mean\)\s*6\.5/ }).waitFor();
    await screenshot(page, "manual-scoring/02-report");
    assert.deepEqual(problems.take(), [], "the console logged errors");
  });
});
