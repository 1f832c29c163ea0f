import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ExecRequest, ExecResult, Executor } from "@sailfin/engine";

interface LocalExecutorOptions {
  /** The interpreter (see findPython). */
  readonly python: string;
  /** Folder holding the `sailfin_runtime` package; default the repository's `runtime/`. */
  readonly runtimeDir?: string;
  /** Time between SIGTERM and SIGKILL (default 30 s). */
  readonly graceMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

const STDERR_TAIL = 4_000;

/** The repository's `runtime/` folder, from this file's place in `packages/worker/dist/`. */
export function defaultRuntimeDir(): string {
  return fileURLToPath(new URL("../../../runtime/", import.meta.url));
}

/**
 * Runs the runtime as a child process of the worker. Stdout is split into lines for the
 * event parser; stderr is kept as a bounded tail for failure reasons. It cannot follow a job it
 * did not spawn (another process's child): every `run` starts one, whatever its `jobKey`. A job of
 * several ranks (`ranks.processesPerNode` > 1, one node) runs through the runtime's own launcher
 * (`python -m sailfin_runtime launch --nproc N …`), which starts the ranks and relays rank 0's
 * events: torchrun crashes on Debian's torch 1.13 with Python 3.11 (runtime/sailfin_runtime/launch.py).
 *
 * @example const result = await new LocalExecutor({ python }).run({ recipe: "finetune", jobKey: `${runId}/finetune`, specPath, signal, onLine });
 */
export class LocalExecutor implements Executor {
  constructor(private readonly options: LocalExecutorOptions) {}

  run(request: ExecRequest): Promise<ExecResult> {
    const runtimeDir = this.options.runtimeDir ?? process.env.SAILFIN_RUNTIME_DIR ?? defaultRuntimeDir();
    const env = { ...(this.options.env ?? process.env) };
    env.PYTHONPATH = env.PYTHONPATH ? `${runtimeDir}:${env.PYTHONPATH}` : runtimeDir;
    env.PYTHONUNBUFFERED = "1";
    const nodes = request.ranks?.nodes ?? 1;
    const nproc = request.ranks?.processesPerNode ?? 1;
    if (nodes !== 1) return Promise.resolve({ exitCode: null, signal: null, stderrTail: `the local executor runs one node, not ${nodes}` });
    const launch = nproc > 1 ? ["launch", "--nproc", String(nproc)] : [];
    return new Promise((resolve) => {
      const child = spawn(this.options.python, ["-m", "sailfin_runtime", ...launch, request.recipe, "--spec", request.specPath], {
        env, stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL); });
      const lines = createInterface({ input: child.stdout });
      lines.on("line", (line) => request.onLine(line));
      let killTimer: NodeJS.Timeout | undefined;
      const stop = () => {
        child.kill("SIGTERM");
        killTimer = setTimeout(() => child.kill("SIGKILL"), this.options.graceMs ?? 30_000);
      };
      if (request.signal.aborted) stop();
      else request.signal.addEventListener("abort", stop, { once: true });
      let settled = false;
      const finish = (result: ExecResult) => {
        if (settled) return;
        settled = true;
        if (killTimer !== undefined) clearTimeout(killTimer);
        request.signal.removeEventListener("abort", stop);
        resolve(result);
      };
      child.on("error", (error) => finish({ exitCode: null, signal: null, stderrTail: `could not start ${this.options.python}: ${error.message}` }));
      // "close" (not "exit"): every stdout line has been delivered by then.
      child.on("close", (code, signal) => finish({ exitCode: code, signal, stderrTail: stderr }));
    });
  }
}
