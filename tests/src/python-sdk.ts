import { existsSync } from "node:fs";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { JsonLinesChild } from "./json-lines-child.js";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A long-lived tests/python/sdk_driver.py process: the official Qianfan Python SDK (`qianfan`
 * from PyPI, installed into .venv by scripts/setup-test-venv.sh) making the calls. It must be
 * spawned asynchronously: the server under test runs in this same process.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
const VENV_PYTHON = `${root}.venv/bin/python`;
const DRIVER = `${root}tests/python/sdk_driver.py`;

/** Why the Python SDK tests cannot run here, or null when they can. */
export function pythonSdkMissing(): string | null {
  return existsSync(VENV_PYTHON) ? null : `${VENV_PYTHON} is missing: run \`bash scripts/setup-test-venv.sh\` to test through the Python SDK`;
}

type PythonCall =
  | { kind: "call_action"; route: string; action: string; params: unknown; credentials?: { accessKey: string; secretKey: string } }
  | { kind: "ref"; ref: number; path: string; args?: Record<string, unknown>; positional?: unknown[]; call?: boolean }
  | { kind: string; args?: Record<string, unknown>; positional?: unknown[]; credentials?: { accessKey: string; secretKey: string } };

/** One HTTP request the SDK made during a call; `ok`: HTTP 200 without error keys in the body. */
interface SentRequest {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly ok: boolean;
}

/** A member of `qianfan.resources.console.consts`, e.g. `pyEnum("V2.DatasetFormat.PromptResponse")`: the typed helpers call `.value` on their enum parameters. */
export function pyEnum(path: string): { $enum: string } {
  return { $enum: path };
}

/** An object kept by the driver (a higher-level call's return value), as an argument of a later call. */
export function pyRef(ref: number): { $ref: number } {
  return { $ref: ref };
}

/**
 * The route a request reached, named as `routeName` in apps/server names it:
 * `POST /v2/finetuning?Action=CreateFineTuningJob`, `POST /wenxinworkshop/finetune/jobDetail`
 * (call_action's empty `?Action=` on a V1 path is not part of the route).
 */
function routeOfRequest(method: string, url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname.startsWith("/v2/")) return `${method} ${parsed.pathname}?Action=${parsed.searchParams.get("Action") ?? ""}`;
  return `${method} ${parsed.pathname}`;
}

export interface PythonResult {
  readonly ok: boolean;
  readonly status?: number;
  readonly body?: any;
  /** The request as the SDK sent it (headers include Authorization). */
  readonly request?: { method: string; url: string; headers: Record<string, string> };
  readonly error?: string;
  readonly type?: string;
  readonly errorCode?: number;
  readonly errorMsg?: string;
  readonly traceback?: string;
  /** A higher-level call's return value, kept by the driver under this number (see `pyRef`). */
  readonly ref?: number;
  /** Its JSON view: pydantic fields or public attributes, plus `__class__`. */
  readonly value?: any;
  /** Every HTTP request the SDK made during the call. */
  readonly sent?: readonly SentRequest[];
}

export class PythonSdk {
  readonly #driver: JsonLinesChild<PythonResult>;
  /** Every request any call of this driver made, in order. */
  readonly sent: SentRequest[] = [];

  /** `env.extra`: more of the SDK's own QIANFAN_* settings (e.g. a short QIANFAN_BATCH_RUN_STATUS_POLLING_INTERVAL or QIANFAN_DEPLOY_STATUS_POLLING_INTERVAL, 30 s by default). */
  constructor(env: { accessKey: string; secretKey: string; baseUrl: string; extra?: Readonly<Record<string, string>> }) {
    this.#driver = new JsonLinesChild<PythonResult>({
      command: VENV_PYTHON,
      args: [DRIVER],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/tmp",
        // The SDK lists signedHeaders in Python set order; a fixed seed makes that order the same
        // unsorted one on every run ("host;content-type;x-bce-date;request-source").
        PYTHONHASHSEED: "0",
        QIANFAN_ACCESS_KEY: env.accessKey,
        QIANFAN_SECRET_KEY: env.secretKey,
        QIANFAN_CONSOLE_API_BASE_URL: env.baseUrl,
        ...env.extra,
      },
      name: "sdk_driver.py",
      failure: (type, error) => ({ ok: false, type, error }),
    });
  }

  /** One call; resolves with the driver's result line (never rejects on an SDK error). */
  async call(call: PythonCall): Promise<PythonResult> {
    const result = await this.#driver.request(call);
    this.sent.push(...(result.sent ?? []));
    return result;
  }

  /** `call_action(route, action, params)`: the generic entry point the Qianfan docs show. */
  action(route: string, action: string, params: unknown = {}, credentials?: { accessKey: string; secretKey: string }): Promise<PythonResult> {
    return this.call({ kind: "call_action", route, action, params, ...(credentials === undefined ? {} : { credentials }) });
  }

  /** A typed helper on qianfan.resources, e.g. `FineTune.V2.create_job`, with keyword args. */
  helper(kind: string, args: Record<string, unknown> = {}, positional?: unknown[]): Promise<PythonResult> {
    return this.call({ kind, args, ...(positional === undefined ? {} : { positional }) });
  }

  /** A call on an object the driver kept: `path` is a dotted attribute path on it, called with `args` (or only read, `call: false`). */
  onRef(ref: number, path: string, args: Record<string, unknown> = {}, options: { call?: boolean; positional?: unknown[] } = {}): Promise<PythonResult> {
    return this.call({ kind: "ref", ref, path, args, ...options });
  }

  /** The routes (see `routeOfRequest`) that answered at least one request of this driver with success. */
  reachedRoutes(): Set<string> {
    return new Set(this.sent.filter((s) => s.ok).map((s) => routeOfRequest(s.method, s.url)));
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}

/** The kept object of a successful higher-level call (`ref` and its `value`), or a failure that shows what the SDK said. */
export function okRef(result: PythonResult): { ref: number; value: any } {
  if (!result.ok || result.ref === undefined) throw new Error(`Python SDK call failed: ${result.type}: ${result.error}${result.traceback ? `\n${result.traceback}` : ""}`);
  return { ref: result.ref, value: result.value };
}

/** The body of a successful result, or a failure that shows what the SDK said. */
export function okBody(result: PythonResult): any {
  if (!result.ok) throw new Error(`Python SDK call failed: ${result.type}: ${result.error}${result.traceback ? `\n${result.traceback}` : ""}`);
  return result.body;
}

/** Repeats an SDK call until `done(body)` holds (the body of a failed call throws); gives up after `timeoutMs`. */
export async function pollPython(call: () => Promise<PythonResult>, done: (body: any) => boolean, what: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = okBody(await call());
    if (done(body)) return body;
    if (Date.now() > deadline) throw new Error(`${what} did not get there: ${JSON.stringify(body)}`);
    await sleep(50);
  }
}

/**
 * Skips the test when the SDK's higher-level objects cannot be imported: `qianfan.dataset` (and
 * `qianfan.model`, which imports it) need pyarrow, dateutil and more, the SDK's `dataset_base`
 * extra, which a venv with plain `qianfan` lacks. Only that import failure skips.
 */
export function sdkExtraMissing(t: TestContext, result: PythonResult): boolean {
  if (result.type !== "ModuleNotFoundError") return false;
  t.skip(`the SDK's higher-level objects cannot be imported (${result.error}): install qianfan[dataset_base]==0.4.12.3 into .venv`);
  return true;
}
