import { spawn } from "node:child_process";
import type { EngineLaunch, EngineProcess } from "@sailfin/engine";
import { defaultRuntimeDir } from "./local-executor.js";

interface EngineLauncherOptions {
  /** The interpreter of Sailfin's runtime (see findPython). */
  readonly python: string;
  /** SIGTERM → SIGKILL grace. */
  readonly graceMs: number;
  readonly runtimeDir?: string;
  readonly env?: NodeJS.ProcessEnv;
}

const STDERR_TAIL = 4_000;

/**
 * Starts serving engines as children of the worker: Sailfin's runtime (`python -m sailfin_runtime
 * serve …`, with the runtime on PYTHONPATH) or the operator's command as given. An engine's
 * stdout is read and dropped (the runtime's JSON events; the health probe says what matters), its
 * stderr kept as a bounded tail for failure reasons. A child dies with the signal, not with the
 * worker: a worker that is killed leaves an engine a lease expiry later nobody routes to (the
 * endpoint row of that attempt is stale), which the operator's process supervisor reaps.
 *
 * @example const engines = engineLauncher({ python, graceMs: 30_000 }); engines.launch({ builtIn: true, argv: ["serve", …], env, signal })
 */
export function engineLauncher(options: EngineLauncherOptions): { launch(launch: EngineLaunch): EngineProcess } {
  return {
    launch(launch) {
      const runtimeDir = options.runtimeDir ?? process.env.SAILFIN_RUNTIME_DIR ?? defaultRuntimeDir();
      const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), ...launch.env, PYTHONUNBUFFERED: "1" };
      if (launch.builtIn) env.PYTHONPATH = env.PYTHONPATH ? `${runtimeDir}:${env.PYTHONPATH}` : runtimeDir;
      const [program, ...args] = launch.builtIn ? [options.python, "-m", "sailfin_runtime", ...launch.argv] : launch.argv;
      const exited = new Promise<EngineProcess extends { exited: Promise<infer R> } ? R : never>((resolve) => {
        const child = spawn(program!, args, { env, stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stdout.resume();
        child.stderr.on("data", (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL); });
        let killTimer: NodeJS.Timeout | undefined;
        const stop = () => {
          child.kill("SIGTERM");
          killTimer = setTimeout(() => child.kill("SIGKILL"), options.graceMs);
        };
        if (launch.signal.aborted) stop();
        else launch.signal.addEventListener("abort", stop, { once: true });
        let settled = false;
        const finish = (result: { exitCode: number | null; signal: string | null; stderrTail: string }) => {
          if (settled) return;
          settled = true;
          if (killTimer !== undefined) clearTimeout(killTimer);
          launch.signal.removeEventListener("abort", stop);
          resolve(result);
        };
        child.on("error", (error) => finish({ exitCode: null, signal: null, stderrTail: `could not start ${program}: ${error.message}` }));
        child.on("close", (code, signal) => finish({ exitCode: code, signal, stderrTail: stderr }));
      });
      return { exited };
    },
  };
}
