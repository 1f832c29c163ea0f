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
 * The worker's environment less what an engine must not hold: Sailfin's own settings and keys
 * (SAILFIN_*: the master key, access keys; SAILFIN_COMPILE, a runtime switch, stays), the
 * database's (DATABASE_URL, PG*) and the artifact
 * store's credentials (AWS_*). An engine reads a local folder and answers HTTP; an operator's
 * engine is third-party code and gets no more than that needs (least privilege).
 */
function engineEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(base).filter(([name]) => name === "SAILFIN_COMPILE" || !/^(SAILFIN_|AWS_|PG)|^DATABASE_URL$/.test(name)));
}

/**
 * Starts serving engines as children of the worker: Sailfin's runtime (`python -m sailfin_runtime
 * serve …`, with the runtime on PYTHONPATH) or the operator's command as given. An engine's
 * stdout is read and dropped (the runtime's JSON events; the health probe says what matters), its
 * stderr kept as a bounded tail for failure reasons. A child is stopped with the signal; a worker
 * that is killed (SIGKILL, the OOM killer) cannot stop it, so every engine is told its worker's
 * pid (SAILFIN_ENGINE_PARENT_PID): Sailfin's own engine stops within a second of being orphaned
 * (another worker brings the service up elsewhere, and an orphan would only hold memory). An
 * operator's engine ignores it: its process supervisor reaps it (nobody routes to it: the
 * endpoint row of that attempt is stale).
 *
 * @example const engines = engineLauncher({ python, graceMs: 30_000 }); engines.launch({ builtIn: true, argv: ["serve", …], env, signal })
 */
export function engineLauncher(options: EngineLauncherOptions): { launch(launch: EngineLaunch): EngineProcess } {
  return {
    launch(launch) {
      const runtimeDir = options.runtimeDir ?? (options.env ?? process.env).SAILFIN_RUNTIME_DIR ?? defaultRuntimeDir();
      const env: NodeJS.ProcessEnv = {
        ...engineEnv(options.env ?? process.env), ...launch.env, PYTHONUNBUFFERED: "1", SAILFIN_ENGINE_PARENT_PID: String(process.pid),
      };
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
