import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { PythonNotFoundError, SETUP_RUNTIME_SCRIPT, findPython } from "./python.js";

/**
 * Is the training runtime usable here, and if not, can this process install it? Used before
 * anything starts by `npm run quickstart` and `npm test`'s set-up, so a missing torch is said
 * (or fixed) within seconds instead of showing up as a task that waits forever.
 */

/** What decides whether the runtime's dependencies can be installed by this process. */
export interface HostFacts {
  /** Running as root (uid 0). */
  readonly root: boolean;
  /** `apt-get` is on PATH. */
  readonly apt: boolean;
  /** /etc/os-release names Debian or Ubuntu (itself or through ID_LIKE). */
  readonly debian: boolean;
}

/** The facts of this machine. */
export function hostFacts(env: NodeJS.ProcessEnv = process.env): HostFacts {
  let osRelease = "";
  try { osRelease = readFileSync("/etc/os-release", "utf8"); } catch { /* not Linux, or a bare container */ }
  const ids = [...osRelease.matchAll(/^(?:ID|ID_LIKE)="?([^"\n]*)"?$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  return {
    root: process.getuid?.() === 0,
    apt: onPath("apt-get", env),
    debian: ids.some((id) => id === "debian" || id === "ubuntu"),
  };
}

/** True when an executable named `name` is on `env.PATH`. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? "").split(delimiter).some((dir) => {
    if (dir === "") return false;
    try { accessSync(join(dir, name), constants.X_OK); return true; } catch { return false; }
  });
}

/** How to get the runtime's dependencies when torch is missing. */
export type RuntimeFix =
  | { readonly kind: "install"; readonly script: string }
  | { readonly kind: "manual"; readonly message: string };

/**
 * The fix for a missing torch: install it with scripts/setup-runtime-deps.sh when this process
 * can (root, apt-get, Debian or Ubuntu, and no SAILFIN_PYTHON that Debian's torch would not
 * serve), else the exact thing for a person to do.
 *
 * @example runtimeFix({ root: false, apt: true, debian: true }, undefined) // manual: "… sudo bash …/setup-runtime-deps.sh"
 */
export function runtimeFix(facts: HostFacts, sailfinPython: string | undefined): RuntimeFix {
  const sudo = `sudo bash ${SETUP_RUNTIME_SCRIPT}`;
  if (sailfinPython !== undefined && sailfinPython !== "") {
    return {
      kind: "manual",
      message: `SAILFIN_PYTHON=${sailfinPython} cannot import torch: point SAILFIN_PYTHON at an interpreter that has torch` +
        (facts.debian && facts.apt ? `, or unset it and run: ${facts.root ? `bash ${SETUP_RUNTIME_SCRIPT}` : sudo}` : ""),
    };
  }
  if (facts.debian && facts.apt) {
    if (facts.root) return { kind: "install", script: SETUP_RUNTIME_SCRIPT };
    return { kind: "manual", message: `the training runtime needs PyTorch; install it with: ${sudo}` };
  }
  return {
    kind: "manual",
    message: "the training runtime needs PyTorch (this is not Debian/Ubuntu, so it is not installed for you): " +
      "install it with: python3 -m pip install torch numpy, or set SAILFIN_PYTHON=/path/to/python3 (one that can `import torch`)",
  };
}

/** Raised when torch is missing and this process cannot install it; the message is the command. */
export class RuntimeMissingError extends Error {}

/**
 * The interpreter that imports torch. When there is none: installs the dependencies with
 * scripts/setup-runtime-deps.sh (saying so in one line through `say`) if this process can, else
 * throws RuntimeMissingError with the exact command — within seconds, having started nothing.
 *
 * @example const python = await ensureRuntime(process.env, (line) => console.log(line));
 */
export async function ensureRuntime(env: NodeJS.ProcessEnv, say: (line: string) => void, facts: HostFacts = hostFacts(env)): Promise<string> {
  try {
    return await findPython(env);
  } catch (error) {
    if (!(error instanceof PythonNotFoundError)) throw error;
    const fix = runtimeFix(facts, env.SAILFIN_PYTHON);
    if (fix.kind === "manual") throw new RuntimeMissingError(`${fix.message}\n(tried ${error.tried})`);
    say(`installing the training runtime's dependencies (python3-torch, python3-numpy, python3-pytest, libopenblas0-pthread) with ${fix.script}`);
    const run = spawnSync("bash", [fix.script], { env, stdio: ["ignore", "inherit", "inherit"] });
    if (run.status !== 0) throw new RuntimeMissingError(`${fix.script} failed (exit ${run.status ?? run.signal}); run it by hand to see why`);
    return findPython(env);
  }
}
