import { readFileSync } from "node:fs";
import { chatCompletionsUrl } from "./judge.js";

/**
 * Which judge endpoints a `model` evaluation may call, and with which key. The operator
 * configures them (`SAILFIN_JUDGE_URL` + `SAILFIN_JUDGE_API_KEY` as the default endpoint,
 * `SAILFIN_JUDGE_ENDPOINTS` for more); a request's `apiUrl` must be one of them, or on a host the
 * operator lets callers name (`SAILFIN_JUDGE_ALLOW_CALLER_URLS`). Without this list the server
 * would POST to any URL a caller chose (an internal admin service, a cloud metadata address)
 * carrying the operator's key. A caller-named URL never gets an operator key.
 */
interface JudgeEndpoint {
  readonly name: string;
  readonly url: string;
  /** Sent as the bearer token; "" sends none. */
  readonly apiKey: string;
}

export interface JudgeEndpoints {
  /** Operator endpoints; the one named `default` (SAILFIN_JUDGE_URL) serves requests that name none. */
  readonly endpoints: readonly JudgeEndpoint[];
  /** Hosts (`host` or `host:port`, lower case) a request may name beyond the endpoints; `*` any. */
  readonly callerHosts: readonly string[];
}

export const NO_JUDGE_ENDPOINTS: JudgeEndpoints = Object.freeze({ endpoints: [], callerHosts: [] });

/** Where one judge call goes: an operator endpoint (with its key) or an allowed caller URL (no key). */
export interface JudgeTarget {
  readonly url: string;
  readonly apiKey: string;
  /** The operator endpoint's name; null for a caller-named URL. */
  readonly endpoint: string | null;
}

/** The endpoint URL compared and called: parsed, fragment dropped, `/chat/completions` appended. */
function canonical(url: string): URL | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.username !== "" || parsed.password !== "") return null;
  parsed.hash = "";
  return new URL(chatCompletionsUrl(parsed.href));
}

/**
 * The target for a request's `apiUrl` (or the default endpoint when it is absent), or why it is
 * refused. An operator endpoint matches only exactly (after normalisation): prefixes would let
 * `…/v1/../admin` through.
 *
 * @example
 * const t = resolveJudgeTarget(res.judge, "http://judge:8000/v1");
 * if ("refused" in t) throw new SailfinError("InvalidParameter", { field: "apiUrl", detail: t.refused });
 */
export function resolveJudgeTarget(policy: JudgeEndpoints, url: string | undefined): JudgeTarget | { refused: string } {
  if (url === undefined || url === "") {
    const first = policy.endpoints.find((e) => e.name === "default");
    if (first === undefined) return { refused: "model (judge) evaluation needs a judge endpoint: give apiUrl, or set SAILFIN_JUDGE_URL on the server" };
    return { url: first.url, apiKey: first.apiKey, endpoint: first.name };
  }
  const wanted = canonical(url);
  if (wanted === null) return { refused: "must be an http(s) URL without user or password" };
  for (const endpoint of policy.endpoints) {
    if (canonical(endpoint.url)?.href === wanted.href) return { url: endpoint.url, apiKey: endpoint.apiKey, endpoint: endpoint.name };
  }
  if (policy.callerHosts.includes("*") || policy.callerHosts.includes(wanted.host.toLowerCase()) || policy.callerHosts.includes(wanted.hostname.toLowerCase())) {
    return { url, apiKey: "", endpoint: null };
  }
  return { refused: "is not a judge endpoint this server allows (the operator lists them in SAILFIN_JUDGE_URL / SAILFIN_JUDGE_ENDPOINTS / SAILFIN_JUDGE_ALLOW_CALLER_URLS)" };
}

/**
 * The judge policy from `SAILFIN_*` variables; throws one error listing every problem.
 * - `SAILFIN_JUDGE_URL`, `SAILFIN_JUDGE_API_KEY`: the default endpoint (named `default`) and its key;
 * - `SAILFIN_JUDGE_ENDPOINTS`: JSON, or the path of a JSON file, `{"name": {"url": "…", "apiKeyEnv": "VAR"}}`
 *   (or `"apiKey": "…"` inline);
 * - `SAILFIN_JUDGE_ALLOW_CALLER_URLS`: `true` (any host), or comma-separated `host` / `host:port`;
 *   unset or `false`: a request may only name an operator endpoint.
 *
 * @example const judge = judgeEndpointsFromEnv(process.env);
 */
export function judgeEndpointsFromEnv(env: Readonly<Record<string, string | undefined>>): JudgeEndpoints {
  const problems: string[] = [];
  const endpoints: JudgeEndpoint[] = [];
  const add = (name: string, url: unknown, apiKey: string, where: string) => {
    if (typeof url !== "string" || canonical(url) === null) problems.push(`${where}: the url must be an http(s) URL without user or password`);
    else endpoints.push({ name, url, apiKey });
  };
  const defaultUrl = env.SAILFIN_JUDGE_URL?.trim() ?? "";
  if (defaultUrl !== "") add("default", defaultUrl, env.SAILFIN_JUDGE_API_KEY ?? "", "SAILFIN_JUDGE_URL");
  else if ((env.SAILFIN_JUDGE_API_KEY ?? "") !== "") problems.push("SAILFIN_JUDGE_API_KEY is set without SAILFIN_JUDGE_URL (the endpoint it is for)");

  const listed = env.SAILFIN_JUDGE_ENDPOINTS?.trim() ?? "";
  if (listed !== "") {
    try {
      const parsed = JSON.parse(listed.startsWith("{") ? listed : readFileSync(listed, "utf8")) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("must be a JSON object of name → {url, apiKeyEnv | apiKey}");
      for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
        const entry = (typeof value === "object" && value !== null ? value : {}) as { url?: unknown; apiKey?: unknown; apiKeyEnv?: unknown };
        const where = `SAILFIN_JUDGE_ENDPOINTS.${name}`;
        let apiKey = "";
        if (typeof entry.apiKeyEnv === "string") {
          apiKey = env[entry.apiKeyEnv] ?? "";
          if (apiKey === "") problems.push(`${where}: ${entry.apiKeyEnv} (its apiKeyEnv) is not set`);
        } else if (typeof entry.apiKey === "string") apiKey = entry.apiKey;
        add(name, entry.url, apiKey, where);
      }
    } catch (error) {
      problems.push(`SAILFIN_JUDGE_ENDPOINTS: ${(error as Error).message}`);
    }
  }

  const allow = env.SAILFIN_JUDGE_ALLOW_CALLER_URLS?.trim().toLowerCase() ?? "";
  const callerHosts = allow === "" || allow === "false" ? [] : allow === "true" ? ["*"] : allow.split(",").map((h) => h.trim()).filter((h) => h !== "");
  if (problems.length > 0) throw new Error(`invalid judge configuration:\n  - ${problems.join("\n  - ")}`);
  return Object.freeze({ endpoints: Object.freeze(endpoints), callerHosts: Object.freeze(callerHosts) });
}
