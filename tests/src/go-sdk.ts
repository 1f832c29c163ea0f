import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JsonLinesChild } from "./json-lines-child.js";

/**
 * The official Qianfan Go SDK (`github.com/baidubce/bce-qianfan-sdk/go/qianfan`, pinned in
 * tests/go/go.mod) behind a long-lived tests/go driver process. The driver is built once per test
 * run with the `go` on PATH, from the module proxy (no vendoring); a missing toolchain is an
 * error that says how to install one, never a silent skip.
 */

const GO_MODULE = fileURLToPath(new URL("../go/", import.meta.url));
/** A cold build downloads the SDK and its ~20 dependencies and compiles viper: minutes on CI. */
const BUILD_TIMEOUT_MS = 600_000;

export const GO_SDK_VERSION = "v0.0.15";

let built: Promise<string> | undefined;

/** Path of the driver binary, built on first use. */
export function goDriver(): Promise<string> {
  return (built ??= build());
}

async function build(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sailfin-go-driver-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "qianfan-go-driver");
  await new Promise<void>((resolve, reject) => {
    execFile("go", ["build", "-o", out, "."], {
      cwd: GO_MODULE,
      timeout: BUILD_TIMEOUT_MS,
      // -mod=mod: go.mod and go.sum pin the SDK; nothing is vendored.
      env: { ...process.env, GOFLAGS: "-mod=mod" },
    }, (error, _stdout, stderr) => {
      if (error === null) return resolve();
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        return reject(new Error(
          "the Go SDK tests need the Go toolchain (go >= 1.19) on PATH: `sudo bash scripts/setup-go.sh` installs " +
          "Debian's golang-go (what CI does), or see https://go.dev/doc/install",
        ));
      }
      reject(new Error(`go build of tests/go failed (${error.message}):\n${stderr}`));
    });
  });
  return out;
}

type GoCredentials =
  | { accessKey: string; secretKey: string }
  /** The legacy path: the SDK fetches an access_token with QIANFAN_AK / QIANFAN_SK. */
  | { ak: string; sk: string };

export interface GoResult {
  /** `log_id` as the SDK's ConsoleResponse parsed it (V1 only). */
  readonly logId?: string;
  readonly status?: number;
  /** The X-Bce-Error-Code response header. */
  readonly bceErrorCode?: string;
  readonly body?: any;
  /** The error Call returned: APIError (V1 error_code), IAMError, or another Go type. */
  readonly error?: { type: string; code?: string; message: string };
}

export class GoSdk {
  readonly #driver: JsonLinesChild<GoResult>;

  /** `binary` from goDriver(); the SDK is configured only through its environment variables. */
  constructor(binary: string, options: { baseUrl: string; credentials: GoCredentials }) {
    const c = options.credentials;
    this.#driver = new JsonLinesChild<GoResult>({
      command: binary,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/tmp",
        QIANFAN_CONSOLE_BASE_URL: options.baseUrl,
        ...("accessKey" in c ? { QIANFAN_ACCESS_KEY: c.accessKey, QIANFAN_SECRET_KEY: c.secretKey } : { QIANFAN_AK: c.ak, QIANFAN_SK: c.sk }),
      },
      name: "the Go driver",
      failure: (type, message) => ({ error: { type, message } }),
    });
  }

  /** `qianfan.NewConsoleAction().Call(ctx, route, action, params)`; never rejects. */
  call(route: string, action: string, params: Record<string, unknown> = {}): Promise<GoResult> {
    return this.#driver.request({ route, action, params });
  }

  /** What the SDK logged (logrus, on stderr), for failure messages. */
  get log(): string {
    return this.#driver.stderr;
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}

/** The body of a call that returned no error, or a failure that shows what the SDK said. */
export function goBody(result: GoResult): any {
  if (result.error !== undefined) throw new Error(`Go SDK call failed: ${result.error.type} ${result.error.code ?? ""}: ${result.error.message}`);
  return result.body;
}
