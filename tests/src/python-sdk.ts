import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/**
 * A long-lived tests/python/sdk_driver.py process: the official Qianfan Python SDK (`qianfan`
 * from PyPI, installed into .venv by scripts/setup-test-venv.sh) making the calls. It must be
 * spawned asynchronously: the server under test runs in this same process.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
export const VENV_PYTHON = `${root}.venv/bin/python`;
const DRIVER = `${root}tests/python/sdk_driver.py`;

/** Why the Python SDK tests cannot run here, or null when they can. */
export function pythonSdkMissing(): string | null {
  return existsSync(VENV_PYTHON) ? null : `${VENV_PYTHON} is missing: run \`bash scripts/setup-test-venv.sh\` to test through the Python SDK`;
}

export type PythonCall =
  | { kind: "call_action"; route: string; action: string; params: unknown; credentials?: { accessKey: string; secretKey: string } }
  | { kind: string; args?: Record<string, unknown>; positional?: unknown[]; credentials?: { accessKey: string; secretKey: string } };

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
}

export class PythonSdk {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<(result: PythonResult) => void> = [];
  private stderr = "";
  private exited: string | null = null;

  constructor(env: { accessKey: string; secretKey: string; baseUrl: string }) {
    this.child = spawn(VENV_PYTHON, [DRIVER], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/tmp",
        // The SDK lists signedHeaders in Python set order; a fixed seed makes that order the same
        // unsorted one on every run ("host;content-type;x-bce-date;request-source").
        PYTHONHASHSEED: "0",
        QIANFAN_ACCESS_KEY: env.accessKey,
        QIANFAN_SECRET_KEY: env.secretKey,
        QIANFAN_CONSOLE_API_BASE_URL: env.baseUrl,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      const resolve = this.waiting.shift();
      if (resolve === undefined) return;
      try {
        resolve(JSON.parse(line) as PythonResult);
      } catch {
        resolve({ ok: false, type: "DriverOutput", error: `not JSON: ${line}` });
      }
    });
    this.child.on("exit", (code, signal) => {
      this.exited = `sdk_driver.py exited (code ${code}, signal ${signal}); stderr:\n${this.stderr}`;
      for (const resolve of this.waiting.splice(0)) resolve({ ok: false, type: "DriverExit", error: this.exited });
    });
  }

  /** One call; resolves with the driver's result line (never rejects on an SDK error). */
  call(call: PythonCall): Promise<PythonResult> {
    if (this.exited !== null) return Promise.resolve({ ok: false, type: "DriverExit", error: this.exited });
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write(`${JSON.stringify(call)}\n`);
    });
  }

  /** `call_action(route, action, params)`: the generic entry point the Qianfan docs show. */
  action(route: string, action: string, params: unknown = {}, credentials?: { accessKey: string; secretKey: string }): Promise<PythonResult> {
    return this.call({ kind: "call_action", route, action, params, ...(credentials === undefined ? {} : { credentials }) });
  }

  /** A typed helper on qianfan.resources, e.g. `FineTune.V2.create_job`, with keyword args. */
  helper(kind: string, args: Record<string, unknown> = {}, positional?: unknown[]): Promise<PythonResult> {
    return this.call({ kind, args, ...(positional === undefined ? {} : { positional }) });
  }

  async close(): Promise<void> {
    if (this.exited !== null) return;
    const done = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin.end();
    await done;
  }
}

/** The body of a successful result, or a failure that shows what the SDK said. */
export function okBody(result: PythonResult): any {
  if (!result.ok) throw new Error(`Python SDK call failed: ${result.type}: ${result.error}${result.traceback ? `\n${result.traceback}` : ""}`);
  return result.body;
}
