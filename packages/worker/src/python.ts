import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Raised when no interpreter can import torch; its message says what to do. */
export class PythonNotFoundError extends Error {
  /** What each candidate answered (`python3: ModuleNotFoundError: No module named 'torch'; …`). */
  readonly tried: string;
  constructor(message: string, tried: string) {
    super(message);
    this.tried = tried;
  }
}

const cache = new Map<string, Promise<string>>();

/**
 * The Python interpreter that runs `sailfin_runtime`: `SAILFIN_PYTHON` when set, else the first
 * of `python3`, `/usr/bin/python3` that can `import torch`. On many machines the `python3` first
 * on PATH (pyenv, a venv) has no torch while the system one does, so the candidates are probed,
 * not assumed; so is SAILFIN_PYTHON (a worker on an interpreter without torch would fail every
 * run it claims). The answer is cached per environment.
 *
 * @example const python = await findPython(); // "/usr/bin/python3"
 */
export function findPython(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const explicit = env.SAILFIN_PYTHON;
  const candidates = explicit !== undefined && explicit !== "" ? [explicit] : ["python3", "/usr/bin/python3"];
  const key = `${candidates.join("\0")}\0${env.PATH ?? ""}`;
  let found = cache.get(key);
  if (found === undefined) {
    found = findPythonAmong(candidates, env);
    found.catch(() => cache.delete(key));
    cache.set(key, found);
  }
  return found;
}

/**
 * The first of `candidates` that imports torch, or PythonNotFoundError listing what each said.
 *
 * @example await findPythonAmong(["python3", "/usr/bin/python3"], process.env)
 */
export async function findPythonAmong(candidates: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  const tried: string[] = [];
  for (const candidate of candidates) {
    const result = await importsTorch(candidate, env);
    if (result === true) return candidate;
    tried.push(`${candidate}: ${result}`);
  }
  throw new PythonNotFoundError(
    `no Python interpreter with torch found (tried ${tried.join("; ")}); install PyTorch ` +
    `(Debian/Ubuntu: sudo bash ${SETUP_RUNTIME_SCRIPT}) or set SAILFIN_PYTHON to an interpreter that has it`,
    tried.join("; "),
  );
}

/**
 * The script that installs the runtime's Debian packages (python3-torch, numpy, pytest,
 * OpenBLAS): an absolute path inside this checkout when it is there, so a message can name the
 * exact command.
 */
export const SETUP_RUNTIME_SCRIPT = ((): string => {
  const inCheckout = fileURLToPath(new URL("../../../scripts/setup-runtime-deps.sh", import.meta.url));
  return existsSync(inCheckout) ? inCheckout : "scripts/setup-runtime-deps.sh";
})();

function importsTorch(python: string, env: NodeJS.ProcessEnv): Promise<true | string> {
  return new Promise((resolve) => {
    const child = spawn(python, ["-c", "import torch"], { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-300); });
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", (error) => { clearTimeout(timer); resolve(error.message); });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? true : (stderr.trim().split("\n").at(-1) || `exit ${code}`));
    });
  });
}
