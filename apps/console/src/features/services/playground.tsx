import { useEffect, useRef, useState, type FormEvent } from "react";
import type { ChatMessage, ServiceItem } from "@sailfin/sdk";
import { useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { explain } from "../../lib/errors.js";
import { ErrorNote } from "../../ui/feedback.js";
import { Link } from "../../ui/link.js";

/**
 * The chat playground: one prompt sent to up to three Serving services at once (base vs
 * fine-tuned vs quantized, say), each answer streamed into its own column with its token count,
 * time to first token and tokens per second. Calls go through the session (`client.chat.stream`),
 * so they count as the signed-in key's (`service:invoke`).
 */

const MAX_COLUMNS = 3;

interface Answer {
  readonly text: string;
  /** Deltas so far while streaming; the engine's completion_tokens once done. */
  readonly tokens: number;
  readonly firstTokenMs: number | null;
  readonly tokensPerSecond: number | null;
  readonly state: "streaming" | "done" | "stopped" | "failed";
  readonly finishReason: string | null;
  readonly error: unknown;
}

export function Playground(props: { first: ServiceItem }) {
  const { client, expired } = useSession();
  const serving = useAsync((signal) => client.services.list({ runStatus: ["Serving"], maxKeys: 100 }, { signal }).toArray(300), []);
  const others = (serving.data ?? []).filter((s) => s.serviceId !== props.first.serviceId);
  const [compared, setCompared] = useState<string[]>([]);
  const [system, setSystem] = useState("");
  const [prompt, setPrompt] = useState("");
  const [maxTokens, setMaxTokens] = useState(128);
  const [temperature, setTemperature] = useState(0);
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const running = useRef<AbortController | null>(null);
  useEffect(() => () => running.current?.abort(), []);

  const columns = [props.first, ...compared.map((id) => others.find((s) => s.serviceId === id)).filter((s): s is ServiceItem => s !== undefined)];
  const busy = Object.values(answers).some((a) => a.state === "streaming");

  const send = (event: FormEvent) => {
    event.preventDefault();
    running.current?.abort();
    const controller = new AbortController();
    running.current = controller;
    const messages: ChatMessage[] = [...(system.trim() === "" ? [] : [{ role: "system" as const, content: system }]), { role: "user", content: prompt }];
    setAnswers(Object.fromEntries(columns.map((s) => [s.serviceId, blank()])));
    for (const service of columns) void stream(service, messages, controller.signal);
  };

  async function stream(service: ServiceItem, messages: readonly ChatMessage[], signal: AbortSignal): Promise<void> {
    const update = (change: (a: Answer) => Answer) => setAnswers((all) => (all[service.serviceId] === undefined ? all : { ...all, [service.serviceId]: change(all[service.serviceId]!) }));
    const started = performance.now();
    let first: number | null = null;
    try {
      const body = { model: service.endpoint, messages, max_completion_tokens: maxTokens, temperature };
      for await (const event of client.chat.stream(body, { signal })) {
        if (event.type === "delta") {
          first ??= performance.now();
          const firstTokenMs = first - started;
          update((a) => ({ ...a, text: a.text + event.content, tokens: a.tokens + 1, firstTokenMs }));
        } else {
          const end = performance.now();
          update((a) => {
            const tokens = event.usage?.completion_tokens ?? a.tokens;
            // Speed of generation: the tokens after the first, over the time since the first.
            const seconds = first === null ? 0 : (end - first) / 1000;
            return { ...a, tokens, state: "done", finishReason: event.finishReason, tokensPerSecond: tokens > 1 && seconds > 0 ? (tokens - 1) / seconds : null };
          });
        }
      }
    } catch (error) {
      if (signal.aborted) update((a) => ({ ...a, state: "stopped" }));
      else {
        if (explain(error).signedOut) expired();
        update((a) => ({ ...a, state: "failed", error }));
      }
    }
  }

  return (
    <div className="playground">
      <form onSubmit={send} aria-label="Playground prompt">
        <div className="form-grid">
          <label className="field wide">
            <span>System prompt (optional)</span>
            <input value={system} onChange={(e) => setSystem(e.target.value)} />
          </label>
          <label className="field wide">
            <span>Prompt</span>
            <textarea required rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)}
              onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) e.currentTarget.form?.requestSubmit(); }} />
          </label>
          <label className="field narrow">
            <span>Max tokens</span>
            <input type="number" min={1} max={4096} value={maxTokens} onChange={(e) => setMaxTokens(Math.max(1, Number(e.target.value) || 1))} />
          </label>
          <label className="field narrow">
            <span>Temperature</span>
            <input type="number" min={0} max={2} step={0.1} value={temperature} onChange={(e) => setTemperature(Math.min(2, Math.max(0, Number(e.target.value) || 0)))} />
          </label>
          <label className="field">
            <span>Compare with</span>
            <select multiple value={compared} disabled={others.length === 0} aria-describedby="compare-help"
              onChange={(e) => setCompared([...e.target.selectedOptions].map((o) => o.value).slice(0, MAX_COLUMNS - 1))}>
              {others.map((s) => <option key={s.serviceId} value={s.serviceId}>{s.name} ({s.endpoint})</option>)}
            </select>
            <small id="compare-help" className="help">{others.length === 0 ? "No other service is Serving." : `Up to ${MAX_COLUMNS - 1} other Serving services answer the same prompt.`}</small>
          </label>
        </div>
        <div className="form-actions">
          <button type="submit" disabled={prompt.trim() === ""}>{busy ? "Send again" : "Send"}</button>
          {busy ? <button type="button" className="secondary" onClick={() => running.current?.abort()}>Stop</button> : null}
        </div>
      </form>
      <div className="playground-columns" style={{ gridTemplateColumns: `repeat(${columns.length}, minmax(0, 1fr))` }}>
        {columns.map((service, i) => {
          const answer = answers[service.serviceId];
          return (
            <section key={service.serviceId} className="card playground-column" aria-label={`Answer of ${service.name}`} data-testid={`playground-column-${i}`}>
              <h3><Link to={`/services/${service.serviceId}`}>{service.name}</Link> <code className="small">{service.endpoint}</code></h3>
              <p className="small muted"><Link to={`/versions/${service.modelId}`}>{service.modelId}</Link></p>
              <div className="playground-answer" aria-live="polite" data-testid={`playground-answer-${i}`}>{answer?.text ?? ""}</div>
              {answer === undefined ? null : (
                <p className="small muted playground-stats" data-testid={`playground-stats-${i}`}>
                  {answer.tokens} tokens
                  {answer.firstTokenMs === null ? "" : ` · first after ${Math.round(answer.firstTokenMs)} ms`}
                  {answer.tokensPerSecond === null ? "" : ` · ${answer.tokensPerSecond.toFixed(1)} tokens/s`}
                  {answer.state === "streaming" ? " · streaming…" : answer.state === "done" ? ` · ${answer.finishReason ?? "done"}` : ` · ${answer.state}`}
                </p>
              )}
              {answer?.state === "failed" ? <ErrorNote error={answer.error} /> : null}
            </section>
          );
        })}
      </div>
    </div>
  );
}

function blank(): Answer {
  return { text: "", tokens: 0, firstTokenMs: null, tokensPerSecond: null, state: "streaming", finishReason: null, error: undefined };
}
