import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chatCompletionsUrl, judgeSample, type JudgeSampleInput } from "./judge.js";
import { judgeEndpointsFromEnv, resolveJudgeTarget } from "./judge-endpoints.js";
import { parseJudgeScore, renderJudgePrompt } from "./judge-prompt.js";
import { judgeSummary } from "./judge-summary.js";

// A minimal OpenAI-compatible server (packages cannot import tests/src/fixtures/fake-judge.ts,
// the fixture the end-to-end tests use). `reply` returns the answer text, or a raw HTTP reply.
type Reply = string | { status: number; body: string; headers?: Record<string, string> } | "hang";
interface Seen { path: string; headers: IncomingHttpHeaders; body: { model: string; temperature: number; messages: { role: string; content: string }[] } }
const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function fakeJudge(reply: (prompt: string) => Reply): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8").on("data", (c: string) => (text += c));
    req.on("end", () => {
      const body = JSON.parse(text) as Seen["body"];
      seen.push({ path: req.url ?? "", headers: req.headers, body });
      const r = reply(body.messages.at(-1)!.content);
      if (r === "hang") return;
      if (typeof r === "string") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: r } }] }));
      } else res.writeHead(r.status, r.headers).end(r.body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen };
}

const sample = (url: string, extra: Partial<JudgeSampleInput> = {}): JudgeSampleInput => ({
  url, apiKey: "sk-test", model: "judge-7b", question: "中国的首都是哪里？", prediction: "北京", reference: "北京。", ...extra,
});

describe("judge prompt and score parsing", () => {
  test("the default prompt carries the sample, the metric, the steps and the 1..10 scale", () => {
    const p = renderJudgePrompt({}, { question: "Q?", prediction: "P!", reference: "R." });
    for (const part of ["Q?", "P!", "R.", "综合得分", "1. 仔细阅读问题", "给出 1 到 10 之间的整数评分", '{"score": <整数 integer>']) {
      assert.ok(p.includes(part), `missing ${part}`);
    }
  });

  test("templates take both placeholder spellings and never re-expand substituted text", () => {
    const template = "{src}|{question}|{prediction}|{reference}|{target}|{tgt}|{metric}|{steps}|{minScore}-{max_score}|{unknown}";
    const p = renderJudgePrompt(
      { templateContent: template, metric: "准确性", steps: "看一看", minScore: 0, maxScore: 5 },
      { question: "q", prediction: "I say {reference}", reference: "r" },
    );
    assert.equal(p, "q|q|I say {reference}|r|r|r|准确性|看一看|0-5|{unknown}");
  });

  test("scores are read from JSON, labels, n/max and lone numbers; anything else is no score", () => {
    const cases: [string, number | undefined][] = [
      ['{"score": 8, "reason": "好"}', 8],
      ['```json\n{"score": "6"}\n```', 6],
      ['分析如下……最终结果：{"评分": 9}', 9],
      ["评分：7\n原因：基本正确，满分10分", 7],
      ["评分: 3", 3],
      ["**Score**: 4.5\nReason: partly right", 4.5],
      ["The answer is fine. Rating = 8", 8],
      ["I would give it 7/10.", 7],
      ["8 out of 10", 8],
      ["7/5", undefined],
      ["7", 7],
      ["  9分。", 9],
      ["<think>score 2? no, the answer is right</think>\nScore: 10", 10],
      ["这个回答不错", undefined],
      ["It mentions 3 facts and 2 errors.", undefined],
      ["", undefined],
    ];
    for (const [answer, expected] of cases) assert.equal(parseJudgeScore(answer, 10), expected, answer);
  });

  test("chat completions URL", () => {
    assert.equal(chatCompletionsUrl("http://h/v1"), "http://h/v1/chat/completions");
    assert.equal(chatCompletionsUrl("http://h/v1/"), "http://h/v1/chat/completions");
    assert.equal(chatCompletionsUrl("http://h/api/chat/completions"), "http://h/api/chat/completions");
  });
});

describe("judgeSample against a live fake judge", () => {
  test("sends an OpenAI chat request at temperature 0 and returns the score", async () => {
    const judge = await fakeJudge(() => '{"score": 9, "reason": "对"}');
    const result = await judgeSample(sample(judge.url));
    assert.deepEqual(result, { ok: true, score: 9, raw: '{"score": 9, "reason": "对"}' });
    const [req] = judge.seen;
    assert.equal(req!.path, "/v1/chat/completions");
    assert.equal(req!.headers.authorization, "Bearer sk-test");
    assert.equal(req!.body.model, "judge-7b");
    assert.equal(req!.body.temperature, 0);
    assert.equal(req!.body.messages.length, 1);
    assert.ok(req!.body.messages[0]!.content.includes("中国的首都是哪里？"));
    const full = await judgeSample(sample(`${judge.url}/chat/completions`, { apiKey: "" }));
    assert.equal(full.ok, true);
    assert.equal(judge.seen[1]!.path, "/v1/chat/completions", "a full endpoint URL is used as given");
    assert.equal(judge.seen[1]!.headers.authorization, undefined, "no key, no header");
  });

  test("a custom scale: in-range scores pass, out-of-range and missing scores fail with the answer kept", async () => {
    let answer = "评分：5\n原因：完全一致";
    const judge = await fakeJudge(() => answer);
    const prompt = { templateContent: "问题:{src} 回答:{prediction} 参考:{tgt} 范围 {minScore}-{maxScore}", minScore: 0, maxScore: 5 };
    assert.deepEqual(await judgeSample(sample(judge.url, { prompt })), { ok: true, score: 5, raw: answer });
    assert.equal(judge.seen[0]!.body.messages[0]!.content, "问题:中国的首都是哪里？ 回答:北京 参考:北京。 范围 0-5");
    answer = "评分：8";
    const out = await judgeSample(sample(judge.url, { prompt }));
    assert.deepEqual(out, { ok: false, error: "judge score 8 is outside 0..5", raw: "评分：8" });
    answer = "我无法评价";
    assert.deepEqual(await judgeSample(sample(judge.url, { prompt })), { ok: false, error: "no score found in the judge's answer", raw: "我无法评价" });
  });

  test("timeouts, aborts, HTTP errors, non-JSON bodies and unreachable servers are results, not throws", async () => {
    const slow = await fakeJudge(() => "hang");
    const started = Date.now();
    const timedOut = await judgeSample(sample(slow.url, { timeoutMs: 150 }));
    assert.deepEqual(timedOut, { ok: false, error: "judge did not answer within 150 ms" });
    assert.ok(Date.now() - started < 2000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    assert.deepEqual(await judgeSample(sample(slow.url, { signal: controller.signal })), { ok: false, error: "judge call aborted" });

    // The endpoint's body is never part of the error: it could be an internal service's answer.
    const failing = await fakeJudge(() => ({ status: 500, body: '{"error":{"message":"overloaded secret-123"}}' }));
    assert.deepEqual(await judgeSample(sample(failing.url)), { ok: false, error: "judge answered HTTP 500" });

    const html = await fakeJudge(() => ({ status: 200, body: "<html>internal admin secret-123</html>" }));
    assert.deepEqual(await judgeSample(sample(html.url)), { ok: false, error: "judge answered with a body that is not JSON" });

    const empty = await fakeJudge(() => ({ status: 200, body: '{"choices": [], "secret": "secret-123"}' }));
    assert.deepEqual(await judgeSample(sample(empty.url)), { ok: false, error: "judge answer has no choices[0].message.content" });

    const closed = await fakeJudge(() => "7");
    const url = closed.url;
    const server = servers.at(-1)!;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const refused = await judgeSample(sample(url));
    assert.equal(refused.ok, false);
    assert.deepEqual(refused, { ok: false, error: "judge unreachable (ECONNREFUSED)" });
  });
});

describe("judge endpoints (the operator's allow-list)", () => {
  test("a request may name only an operator endpoint, or a host the operator allows; a caller URL gets no key", async () => {
    const operator = await fakeJudge(() => "8");
    const caller = await fakeJudge(() => "6");
    const elsewhere = await fakeJudge(() => "7");
    const none = judgeEndpointsFromEnv({});
    assert.match((resolveJudgeTarget(none, undefined) as { refused: string }).refused, /SAILFIN_JUDGE_URL/);
    assert.ok("refused" in resolveJudgeTarget(none, operator.url), "no configuration: nothing is called");

    const policy = judgeEndpointsFromEnv({
      SAILFIN_JUDGE_URL: operator.url, SAILFIN_JUDGE_API_KEY: "sk-operator",
      SAILFIN_JUDGE_ENDPOINTS: JSON.stringify({ big: { url: "http://judge.internal:8000/v1", apiKeyEnv: "BIG_KEY" } }), BIG_KEY: "sk-big",
      SAILFIN_JUDGE_ALLOW_CALLER_URLS: new URL(caller.url).host,
    });
    assert.deepEqual(resolveJudgeTarget(policy, undefined), { url: operator.url, apiKey: "sk-operator", endpoint: "default" });
    assert.deepEqual(resolveJudgeTarget(policy, `${operator.url}/chat/completions`), { url: operator.url, apiKey: "sk-operator", endpoint: "default" });
    assert.deepEqual(resolveJudgeTarget(policy, "http://judge.internal:8000/v1/"), { url: "http://judge.internal:8000/v1", apiKey: "sk-big", endpoint: "big" });
    // Same host as an operator endpoint, other path (or a path that climbs out of it): refused.
    for (const url of [`${operator.url}/../admin?x=`, new URL("/admin?x=", operator.url).href, "http://judge.internal:8000/admin", elsewhere.url, "ftp://x/v1", "http://u:p@judge.internal:8000/v1"]) {
      assert.ok("refused" in resolveJudgeTarget(policy, url), url);
    }
    const callerTarget = resolveJudgeTarget(policy, caller.url);
    assert.deepEqual(callerTarget, { url: caller.url, apiKey: "", endpoint: null });

    for (const url of [operator.url, caller.url]) {
      const t = resolveJudgeTarget(policy, url);
      if ("refused" in t) throw new Error(t.refused);
      assert.equal((await judgeSample(sample(t.url, { apiKey: t.apiKey }))).ok, true);
    }
    assert.equal(operator.seen[0]!.headers.authorization, "Bearer sk-operator");
    assert.equal(caller.seen[0]!.headers.authorization, undefined, "the operator's key never goes to a caller's URL");
    assert.equal(elsewhere.seen.length, 0);
    assert.deepEqual(judgeEndpointsFromEnv({ SAILFIN_JUDGE_ALLOW_CALLER_URLS: "true" }).callerHosts, ["*"]);
  });

  test("configuration mistakes are reported together", () => {
    assert.throws(() => judgeEndpointsFromEnv({
      SAILFIN_JUDGE_API_KEY: "sk", SAILFIN_JUDGE_ENDPOINTS: JSON.stringify({ a: { url: "file:///etc/passwd" }, b: { url: "http://h/v1", apiKeyEnv: "MISSING" } }),
    }), (e: Error) => /without SAILFIN_JUDGE_URL/.test(e.message) && /ENDPOINTS\.a/.test(e.message) && /MISSING/.test(e.message));
  });

  test("a redirect is not followed (it would leave the allowed endpoint, key and all)", async () => {
    const target = await fakeJudge(() => "9");
    const redirecting = await fakeJudge(() => ({ status: 307, body: "", headers: { location: `${target.url}/chat/completions` } }));
    assert.deepEqual(await judgeSample(sample(redirecting.url)), { ok: false, error: "judge answered HTTP 307" });
    assert.equal(target.seen.length, 0);
  });
});

describe("judgeSummary", () => {
  test("population statistics over scored samples; -1 counts failures", () => {
    // Scored 8, 6, 10: mean 8, variance (0 + 4 + 4) / 3, median 8. Failed: null, -1, NaN, 11.
    const s = judgeSummary([8, 6, null, 10, -1, Number.NaN, 11], 1, 10);
    assert.equal(s.avgJudgeScore, 8);
    assert.ok(Math.abs(s.stdJudgeScore - Math.sqrt(8 / 3)) < 1e-12);
    assert.equal(s.medianJudgeScore, 8);
    assert.deepEqual(s.scoreDistribution, { "1": 0, "2": 0, "3": 0, "4": 0, "5": 0, "6": 1, "7": 0, "8": 1, "9": 0, "10": 1, "-1": 4 });
    // Even count: median is the mean of the middle two; fractional scores go to the nearest bucket.
    const even = judgeSummary([0, 5, 2.5, 4], 0, 5);
    assert.equal(even.medianJudgeScore, 3.25);
    assert.deepEqual(even.scoreDistribution, { "0": 1, "1": 0, "2": 0, "3": 1, "4": 1, "5": 1, "-1": 0 });
    assert.deepEqual(judgeSummary([null], 1, 3), { avgJudgeScore: 0, stdJudgeScore: 0, medianJudgeScore: 0, scoreDistribution: { "1": 0, "2": 0, "3": 0, "-1": 1 } });
  });
});
