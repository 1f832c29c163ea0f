/**
 * LLM-as-judge: asks a chat model behind any OpenAI-compatible endpoint (vLLM, Ollama, OpenAI,
 * Qianfan's V2 chat API…) to score one prediction against its reference. Every failure (timeout,
 * refused connection, HTTP error, a body that is not a chat completion, an answer without a
 * score in range) comes back as `{ ok: false, error }`: one bad judgement must not stop an
 * evaluation, and Qianfan's report counts such samples under scoreDistribution["-1"].
 * An error is a fixed reason and at most a status code or errno, never the endpoint's body:
 * results are shown to callers, and a body could be an internal service's answer.
 */

import { parseJudgeScore, renderJudgePrompt, type JudgePrompt } from "./judge-prompt.js";

export interface JudgeSampleInput {
  /** Base URL ("http://host:8000/v1") or the full ".../chat/completions" URL. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`; omitted when empty (local servers). */
  apiKey?: string;
  model: string;
  /** Default 60 000 ms; covers the connection, the answer and reading the body. */
  timeoutMs?: number;
  prompt?: JudgePrompt;
  question: string;
  prediction: string;
  reference: string;
  /** Aborts the call (worker shutdown, cancelled evaluation). */
  signal?: AbortSignal;
}

export type JudgeResult =
  | { ok: true; score: number; raw: string }
  /** `raw` is the judge's answer when it gave one that held no usable score. */
  | { ok: false; error: string; raw?: string };

/** The endpoint for a base URL: "…/chat/completions" is kept, anything else gets it appended. */
export function chatCompletionsUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  return trimmed.endsWith("/chat/completions") ? trimmed : `${trimmed}/chat/completions`;
}

/** The text of `choices[0].message.content`, which some servers send as an array of parts. */
function answerText(body: unknown): string | undefined {
  const content = (body as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0]?.message?.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === "string" ? part : typeof part?.text === "string" ? part.text : "")).join("");
  }
  return undefined;
}

/**
 * Scores one sample with a judge model at temperature 0. Never throws.
 *
 * @example
 * const r = await judgeSample({ url: "http://127.0.0.1:8000/v1", apiKey: "sk-…", model: "qwen2.5-7b-instruct",
 *   prompt: { minScore: 1, maxScore: 10 }, question: "1+1=?", prediction: "2", reference: "2" });
 * if (r.ok) console.log(r.score); else console.warn(r.error);
 */
export async function judgeSample(input: JudgeSampleInput): Promise<JudgeResult> {
  const prompt = input.prompt ?? {};
  const minScore = prompt.minScore ?? 1;
  const maxScore = prompt.maxScore ?? 10;
  if (!(minScore < maxScore)) return { ok: false, error: `judge score range ${minScore}..${maxScore} is empty` };
  const timeoutMs = input.timeoutMs ?? 60_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = input.signal ? AbortSignal.any([input.signal, timeout]) : timeout;
  const content = renderJudgePrompt(prompt, input);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (input.apiKey) headers.authorization = `Bearer ${input.apiKey}`;

  let status: number;
  let text: string;
  try {
    const response = await fetch(chatCompletionsUrl(input.url), {
      method: "POST",
      headers,
      body: JSON.stringify({ model: input.model, messages: [{ role: "user", content }], temperature: 0, stream: false }),
      signal,
      // Not followed: a redirect would leave the allowed endpoint; a 3xx fails the sample as an HTTP error.
      redirect: "manual",
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    if (input.signal?.aborted) return { ok: false, error: "judge call aborted" };
    if (timeout.aborted) return { ok: false, error: `judge did not answer within ${timeoutMs} ms` };
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    return { ok: false, error: `judge unreachable${typeof code === "string" && /^[A-Z_]+$/.test(code) ? ` (${code})` : ""}` };
  }
  if (status < 200 || status > 299) return { ok: false, error: `judge answered HTTP ${status}` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, error: "judge answered with a body that is not JSON" };
  }
  const raw = answerText(body);
  if (raw === undefined) return { ok: false, error: "judge answer has no choices[0].message.content" };
  const score = parseJudgeScore(raw, maxScore);
  if (score === undefined) return { ok: false, error: "no score found in the judge's answer", raw };
  // Out of range means the judge ignored the scale or the answer was misread: counted as failed, not clamped.
  if (score < minScore || score > maxScore) return { ok: false, error: `judge score ${score} is outside ${minScore}..${maxScore}`, raw };
  return { ok: true, score, raw };
}
