import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { LocalExecutor, Worker, engineLauncher, findPython } from "@sailfin/worker";
import { SailfinApiError, SailfinClient } from "@sailfin/sdk";
import { ADMIN, pollUntil, startTestServer, testDialects, type TestServer } from "./harness.js";
import { SAILFIN_BIN, runCli } from "./cli-process.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { TEST_LEASE_MS } from "./fixtures/worker-fixtures.js";
import { PageProblems, launchChromium, newWatchedPage, pressableControls, screenshot, submitSignIn } from "./fixtures/browser.js";

/**
 * The clients of serving against a real server, a real worker and the runtime's engine: the CLI
 * as a subprocess (`services deploy --wait`, then `chat --message` prints a streamed answer,
 * list / show / stop / start / delete), the SDK's chat over a bearer token (key client) and over
 * the session (what the console does), and the console's playground in chromium streaming an
 * answer from the deployed tiny model into two columns side by side, each with its token count.
 */

const DIST = new URL("../../apps/console/dist/", import.meta.url).pathname;

for (const dialect of testDialects()) describe(`serving clients (${dialect})`, { timeout: 400_000 }, () => {
  let server: TestServer;
  let worker: Worker;
  let tiny: TinyModelFolders;
  let versionId = "";
  let env: Record<string, string>;
  const ids = { cli: "", second: "" };
  const cli = (args: string[], timeoutMs = 60_000) => runCli(args, env, timeoutMs);

  before(async () => {
    server = await startTestServer(dialect, { SAILFIN_CONSOLE_DIR: DIST });
    // A worker that serves with the runtime's own engine (the built-in `serve` command), three at once.
    const python = await findPython();
    worker = new Worker({
      res: server.server.res, executor: new LocalExecutor({ python, graceMs: 5_000 }), id: "serving-clients-worker", kinds: ["serve"],
      leaseMs: TEST_LEASE_MS, pollMs: 100, backoffMs: 200, slots: { serving: 3 },
      engines: { host: "127.0.0.1", ...engineLauncher({ python, graceMs: 5_000 }) },
    });
    await worker.start();
    tiny = await writeTinyModels({ qwen2: { ...TINY, architecture: "qwen2" } });
    await stageFolder(server, tiny.dir("qwen2"), "hub", "tiny-qwen2");
    versionId = (await importBaseModel(server, "tiny-chat", { bucket: "hub", objectPath: "tiny-qwen2" })).versionId;
    env = { QIANFAN_CONSOLE_API_BASE_URL: server.url, QIANFAN_ACCESS_KEY: ADMIN.accessKey, QIANFAN_SECRET_KEY: ADMIN.secretKey, SAILFIN_CONFIG: join(tiny.dir("qwen2"), "..", "no-config.json"), SAILFIN_PROFILE: "" };
  });
  after(async () => {
    await worker?.stop();
    await server?.close();
    await tiny?.remove();
  });

  test("CLI: services deploy --wait reaches Serving; chat --message streams an answer; list and show", async () => {
    const deployed = await cli(["services", "deploy", versionId, "--name", "tiny-cli", "--endpoint", "tiny-cli", "--wait", "--interval", "0.2"], 180_000);
    assert.equal(deployed.code, 0, deployed.stderr);
    const id = /(svco-[a-z0-9]+) Serving at endpoint tiny-cli/.exec(deployed.stdout)?.[1];
    assert.ok(id !== undefined, deployed.stdout);
    ids.cli = id;
    assert.match(deployed.stderr, /Deploying|Serving/, "the wait shows the status changes on stderr");

    const chat = await cli(["chat", "tiny-cli", "--message", "say red", "--system", "You repeat words.", "--max-tokens", "8", "--temperature", "0"]);
    assert.equal(chat.code, 0, chat.stderr);
    const stats = /\((\d+) tokens in [\d.]+ s/.exec(chat.stderr);
    assert.ok(stats !== null, `token count on stderr: ${chat.stderr}`);
    const tokens = Number(stats[1]);
    assert.ok(tokens >= 1 && tokens <= 8, `1..8 tokens (max-tokens 8), got ${tokens}`);
    assert.ok(chat.stdout.endsWith("\n"));

    // --json: the whole completion; greedy, so the same text as the stream.
    const json = await cli(["chat", "tiny-cli", "--message", "say red", "--system", "You repeat words.", "--max-tokens", "8", "--temperature", "0", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const completion = JSON.parse(json.stdout);
    assert.equal(completion.object, "chat.completion");
    assert.equal(completion.choices[0].message.role, "assistant");
    assert.equal(`${completion.choices[0].message.content}\n`, chat.stdout, "streamed and whole answers agree at temperature 0");
    assert.equal(completion.usage.completion_tokens, tokens);

    const listed = await cli(["services", "list", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const row = (JSON.parse(listed.stdout) as Array<{ serviceId: string; runStatus: string; endpoint: string }>).find((s) => s.serviceId === id);
    assert.deepEqual(row && { runStatus: row.runStatus, endpoint: row.endpoint }, { runStatus: "Serving", endpoint: "tiny-cli" });
    const shown = await cli(["services", "show", id]);
    assert.match(shown.stdout, /^endpoint: tiny-cli$/m);
    assert.match(shown.stdout, /^url: .*\/rpc\/2\.0\/ai_custom\/v1\/wenxinworkshop\/chat\/tiny-cli$/m);

    const unknown = await cli(["chat", "no-such-endpoint", "--message", "hi"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^sailfin: \w+: .*no-such-endpoint/m);
    const noMessage = await cli(["chat", "tiny-cli"]);
    assert.equal(noMessage.code, 2, "no --message, stdin not a terminal and empty: a usage error");
  });

  test("SDK: a key client chats over a bearer token; a session client streams through its session", async () => {
    const keys = new SailfinClient({ baseUrl: server.url, ...ADMIN });
    const whole = await keys.chat.completions({ model: "tiny-cli", messages: [{ role: "user", content: "say blue" }], max_completion_tokens: 6, temperature: 0 });
    assert.ok(whole.usage.completion_tokens >= 1 && whole.usage.completion_tokens <= 6);
    // By id too, and the token is reused (one token for both calls is what the unit test checks).
    const text: string[] = [];
    let done: { usage: { completion_tokens: number } | null } | undefined;
    for await (const event of keys.chat.stream({ model: ids.cli, messages: [{ role: "user", content: "say blue" }], max_completion_tokens: 6, temperature: 0 })) {
      if (event.type === "delta") text.push(event.content);
      else done = event;
    }
    assert.equal(text.join(""), whole.choices[0]?.message.content);
    assert.equal(done?.usage?.completion_tokens, whole.usage.completion_tokens);

    const { client: web } = await SailfinClient.signIn({ baseUrl: server.url, ...ADMIN });
    const sessionAnswer = await web.chat.completions({ model: "tiny-cli", messages: [{ role: "user", content: "say blue" }], max_completion_tokens: 6, temperature: 0 });
    assert.equal(sessionAnswer.choices[0]?.message.content, whole.choices[0]?.message.content);
    const missing = await keys.chat.completions({ model: "nope-nope", messages: [{ role: "user", content: "x" }] }).then(() => null, (e: unknown) => e);
    assert.ok(missing instanceof SailfinApiError && missing.httpStatus === 404, String(missing));
  });

  test("CLI: chat on a terminal holds a conversation, each answer streamed, until an empty line", async () => {
    // util-linux `script` gives the command a pseudo-terminal, as a person's shell would.
    const command = [process.execPath, SAILFIN_BIN, "chat", "tiny-cli", "--max-tokens", "4", "--temperature", "0"].map((w) => `'${w}'`).join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const turns = () => (out.match(/\(\d+ tokens in /g) ?? []).length;
    const waitFor = async (done: () => boolean, what: string) => {
      const deadline = Date.now() + 60_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`waiting for ${what}; the terminal shows:\n${out}`);
        await sleep(50);
      }
    };
    try {
      await waitFor(() => out.includes("chatting with tiny-cli") && out.includes("> "), "the prompt");
      child.stdin.write("say red\r");
      await waitFor(() => turns() === 1, "the first answer");
      child.stdin.write("say it again\r");
      await waitFor(() => turns() === 2, "the second answer (the history sent along)");
      child.stdin.write("\r");
      assert.equal(await exited, 0, out);
    } finally {
      child.kill();
    }
  });

  describe("console", () => {
    let browser: Browser;
    let page: Page;
    const problems = new PageProblems();

    before(async () => {
      assert.ok(existsSync(join(DIST, "index.html")), `${DIST}index.html is missing: run \`npm run build\``);
      // A second service of the same version, to compare side by side.
      ids.second = (await new SailfinClient({ baseUrl: server.url, ...ADMIN }).services.create({ modelId: versionId, name: "tiny-two", urlSuffix: "tiny-two" })).serviceId;
      browser = await launchChromium();
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(30_000);
      page = await newWatchedPage(context, problems);
      await page.goto(`${server.url}/console/`);
      await page.getByLabel("Access key").waitFor();
      problems.forgiveRefusals("/sailfin/v1/session"); // the probe for a session while there is none
      await submitSignIn(page, ADMIN);
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    });
    after(async () => { await browser?.close(); });

    test("services page lists both; the service page's playground streams two answers side by side", async () => {
      await page.getByRole("link", { name: "Services", exact: true }).click();
      await page.getByRole("link", { name: "tiny-cli" }).waitFor();
      await page.getByRole("link", { name: "tiny-two" }).waitFor();
      await page.getByRole("link", { name: "tiny-cli" }).click();
      await page.getByRole("heading", { level: 2, name: "Playground" }).waitFor();
      await pollUntil(() => new SailfinClient({ baseUrl: server.url, ...ADMIN }).services.describe({ serviceId: ids.second }), (s) => s.runStatus === "Serving", "tiny-two serving", 180_000);
      await page.reload();
      await page.getByLabel("Compare with").selectOption([ids.second]);
      await page.getByLabel("Prompt", { exact: true }).fill("say gold");
      await page.getByLabel("Max tokens").fill("8");
      await page.getByRole("button", { name: "Send" }).click();
      for (const column of [0, 1]) {
        await page.getByTestId(`playground-stats-${column}`).filter({ hasText: /\d+ tokens .*(stop|length)/ }).waitFor();
      }
      const answers = await Promise.all([0, 1].map((i) => page.getByTestId(`playground-answer-${i}`).textContent()));
      // Same version, greedy: the same answer in both columns (a random tiny model's text: often only spaces and newlines).
      assert.ok((answers[0] ?? "").length > 0, "an answer was streamed in");
      assert.equal(answers[0], answers[1]);
      assert.match(await page.getByTestId("playground-stats-0").textContent() ?? "", /^[1-8] tokens/);
      await screenshot(page, `${dialect}/services-playground`);
      assert.deepEqual(problems.take(), [], "the console logged errors");
    });

    test("a read-only key sees the services with nothing to press and no playground; the server refuses its chat", async () => {
      const admin = new SailfinClient({ baseUrl: server.url, ...ADMIN });
      const reader = await admin.keys.create({ policies: ["QianfanReadAccessPolicy"], description: "services reader" });
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const view = await newWatchedPage(context, problems);
        await view.goto(`${server.url}/console/`);
        await view.getByLabel("Access key").waitFor();
        problems.forgiveRefusals("/sailfin/v1/session");
        await submitSignIn(view, reader);
        await view.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
        for (const [path, text] of [["/services", "tiny-two"], [`/services/${ids.second}`, "needs service:invoke"]] as const) {
          await view.goto(`${server.url}/console${path}`);
          await view.getByText(text).first().waitFor();
          await view.waitForLoadState("networkidle");
          assert.deepEqual((await pressableControls(view)).filter((label) => label !== "Sign out"), [], `${path} offers a read-only key controls`);
        }
        // Past the UI: its session calling the chat route is refused (no service:invoke).
        const { client: web } = await SailfinClient.signIn({ baseUrl: server.url, accessKey: reader.accessKey, secretKey: reader.secretKey });
        const refused = await web.chat.completions({ model: "tiny-two", messages: [{ role: "user", content: "x" }] }).then(() => null, (e: unknown) => e);
        assert.ok(refused instanceof SailfinApiError && refused.httpStatus === 403, String(refused));
        assert.deepEqual(problems.take(), [], "the console logged errors");
      } finally {
        await context.close();
      }
    });

    test("the version's lineage shows its services; Deploy opens the form for that version", async () => {
      await page.goto(`${server.url}/console/versions/${versionId}`);
      await page.getByRole("link", { name: "service tiny-cli" }).waitFor();
      await page.getByRole("link", { name: "Deploy" }).click();
      await page.getByRole("heading", { level: 2, name: "Deploy a model version" }).waitFor();
      assert.equal(await page.getByRole("combobox", { name: "Model version" }).inputValue(), versionId);
      assert.deepEqual(problems.take(), [], "the console logged errors");
    });
  });

  test("CLI: stop → Stopped, start → Serving again, delete", async () => {
    const client = new SailfinClient({ baseUrl: server.url, ...ADMIN });
    const stop = await cli(["services", "stop", ids.cli]);
    assert.equal(stop.code, 0, stop.stderr);
    await pollUntil(() => client.services.describe({ serviceId: ids.cli }), (s) => s.runStatus === "Stopped", "stopped", 60_000);
    const start = await cli(["services", "start", ids.cli]);
    assert.equal(start.code, 0, start.stderr);
    await pollUntil(() => client.services.describe({ serviceId: ids.cli }), (s) => s.runStatus === "Serving", "serving again", 180_000);
    await cli(["services", "stop", ids.cli]);
    await pollUntil(() => client.services.describe({ serviceId: ids.cli }), (s) => s.runStatus === "Stopped", "stopped again", 60_000);
    // Stopped is read as soon as the stop is asked; delete waits for the engine to be gone (ResourceInUse until then).
    const deleted = await pollUntil(() => cli(["services", "delete", ids.cli, "--json"]), (r) => r.code === 0 || !/ResourceInUse/.test(r.stderr), "deleted", 60_000);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout.trim(), "true");
    const gone = await cli(["services", "show", ids.cli]);
    assert.equal(gone.code, 1);
    const bad = await cli(["services", "show", "amv-x"]);
    assert.equal(bad.code, 2, "not a service id: a usage error before any call");
  });
});
