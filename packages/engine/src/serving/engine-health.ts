import type { EngineEndpoint } from "./engine-client.js";

/**
 * Whether a serving engine answers `GET /health` with 200 within `timeoutMs` (its bearer key
 * sent when it has one: vLLM checks it on every route when `--api-key` is set). Never throws:
 * an engine that cannot be reached is simply not healthy.
 *
 * @example if (await probeEngine({ url: "http://127.0.0.1:40123", apiKey, servedModelName: "svc" }, 2_000)) …
 */
export async function probeEngine(endpoint: EngineEndpoint, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(new URL("/health", endpoint.url), {
      headers: endpoint.apiKey === null ? {} : { authorization: `Bearer ${endpoint.apiKey}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}
