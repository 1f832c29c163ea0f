import { execFile } from "node:child_process";
import { open, readFile, writeFile } from "node:fs/promises";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { setTimeout as sleep } from "node:timers/promises";
import type { ExecRequest, ExecResult, Executor } from "@sailfin/engine";
import { defaultRuntimeDir } from "./local-executor.js";

/** Where and how big the jobs are: one resource pool's (a run's own `ranks` win over nodes and tasks per node). */
interface SlurmJobShape {
  readonly partition: string | undefined;
  readonly nodes: number;
  readonly tasksPerNode: number;
  /** Slurm's `--time` (`MM`, `HH:MM:SS`, `D-HH`…); undefined: the partition's. */
  readonly timeLimit: string | undefined;
  /** `--gpus-per-node`; 0 or undefined: none asked. */
  readonly gpusPerNode?: number;
  /** `--mem` in GB; undefined: the partition's default. */
  readonly memoryGb?: number | undefined;
}

interface SlurmExecutorOptions extends SlurmJobShape {
  /** The interpreter on the nodes (the same path the worker found, on a shared or identical filesystem). */
  readonly python: string;
  /** Folder holding the `sailfin_runtime` package on the nodes; default the repository's `runtime/`. */
  readonly runtimeDir?: string;
  /** TERM → hard cancel after a stop, and the `--signal=B:TERM@` lead before a time limit (default 30 s). */
  readonly graceMs?: number;
  /** How often the job's state and event file are read (default 250 ms). */
  readonly pollMs?: number;
  /** The environment of the Slurm commands (SLURM_CONF) and, exported by sbatch, of the job. */
  readonly env?: NodeJS.ProcessEnv;
}

/** A job as scontrol shows it. */
interface JobInfo {
  readonly name: string;
  readonly state: string;
  readonly exitCode: number;
  readonly signal: number;
  readonly stdout: string;
  readonly stderr: string;
  /** How many times Slurm requeued the job (`scontrol requeue`, a preemption, a node failure). */
  readonly restarts: number;
}

const STDERR_TAIL = 4_000;
/** States of a job that has not ended (squeue's default listing). */
const LIVE_STATES = new Set(["PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "SIGNALING", "STAGE_OUT"]);
/** States of a requeued job waiting to run again: its first run, the runtime, has ended. */
const REQUEUED_WAITING = new Set(["PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED"]);
/**
 * What the batch shell prints on stderr when Slurm sends it TERM: only a time limit
 * (`--signal=B:TERM@`), a requeue or a preemption do; a stop's `scancel --signal=TERM` reaches
 * the steps alone. With no requeue, it tells a time limit from a stop from outside.
 */
const BATCH_TERM_NOTE = "sailfin-batch: SIGTERM from Slurm";
/** srun's words on stderr when the job's node failed under it (measured on Slurm 22.05). */
const NODE_FAILURE = /srun: error: Node failure on /;

/**
 * Batch-script lines for a job of several tasks: the ranks meet at the job's first node, on a
 * port taken from the job id (two jobs sharing a node differ unless their ids are 20000 apart),
 * and each rank computes with as many threads as it has CPUs (Slurm's `--cpus-per-task`, else 1,
 * as torchrun does) rather than every rank using every core of the node.
 */
const RANKS_SETUP = [
  `export MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"`,
  "export MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))",
  "export OMP_NUM_THREADS=${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}",
];
/**
 * Each srun task's place in the run, in the standard variables (docs/runtime-protocol.md), before
 * it execs the runtime given as its arguments. srun is given `--output=0 --error=all`: the event
 * file holds task 0's stdout alone (the protocol's one stream, whatever another rank might print),
 * the stderr file every rank's log.
 */
const RANK_ENV = 'RANK=$SLURM_PROCID WORLD_SIZE=$SLURM_NTASKS LOCAL_RANK=$SLURM_LOCALID exec "$@"';

/** Slurm's job name for a job key: `sailfin-` and the key with anything outside `[A-Za-z0-9._-]` as `_`. */
export function slurmJobName(jobKey: string): string {
  return `sailfin-${jobKey.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}

/**
 * Runs the runtime as a Slurm batch job and follows it. The batch script starts the ranks with
 * `srun` (nodes × tasks per node; with more than one, each task is a rank of a data-parallel
 * run); rank 0's stdout (its events) goes to an event file beside spec.json, which this
 * executor tails line by line into `onLine`, while squeue and scontrol say when the job ended
 * and how. A job whose name (`slurmJobName(jobKey)`) is already
 * live — one a previous worker submitted before it died — is followed instead of submitting a
 * second. Stopping sends `scancel --signal=TERM` to the job's steps (the runtime checkpoints and
 * ends `stopped`), then a hard `scancel` after the grace; a time limit sends TERM to the batch
 * shell (`--signal=B:TERM@<grace>`), which passes it on to the ranks the same way.
 *
 * @example const result = await new SlurmExecutor({ python, partition: undefined, nodes: 1, tasksPerNode: 1, timeLimit: "00:30:00" }).run(request);
 */
export class SlurmExecutor implements Executor {
  constructor(private readonly options: SlurmExecutorOptions) {}

  async run(request: ExecRequest): Promise<ExecResult> {
    const name = slurmJobName(request.jobKey);
    let jobId: string;
    try {
      jobId = (await this.knownLiveJob(request.knownJobId, name)) ?? (await this.liveJob(name)) ?? (await this.submit(request, name));
    } catch (error) {
      return { exitCode: null, signal: null, stderrTail: `could not submit the Slurm job ${name}: ${(error as Error).message}` };
    }
    request.onJobStarted?.(jobId);
    return this.follow(jobId, request);
  }

  /** The recorded job id, when Slurm still runs it under this name (ids are reused after a cluster reset). */
  private async knownLiveJob(jobId: string | null | undefined, name: string): Promise<string | null> {
    if (jobId == null || !/^\d+$/.test(jobId)) return null;
    const info = await this.jobInfo(jobId);
    return info !== null && info.name === name && LIVE_STATES.has(info.state) ? jobId : null;
  }

  /** The id of a live job with this name, if any. */
  private async liveJob(name: string): Promise<string | null> {
    const listed = await this.slurm("squeue", ["--noheader", `--name=${name}`, "-o", "%i %T"]);
    for (const line of listed.split("\n")) {
      const [id, state] = line.trim().split(/\s+/);
      if (id !== undefined && id !== "" && LIVE_STATES.has(state ?? "")) return id;
    }
    return null;
  }

  private async submit(request: ExecRequest, name: string): Promise<string> {
    const { options } = this;
    const folder = dirname(request.specPath);
    const runtimeDir = options.runtimeDir ?? defaultRuntimeDir();
    const env = this.env();
    const pythonPath = env.PYTHONPATH ? `${runtimeDir}:${env.PYTHONPATH}` : runtimeDir;
    const nodes = request.ranks?.nodes ?? options.nodes;
    const tasksPerNode = request.ranks?.processesPerNode ?? options.tasksPerNode;
    const runtime = [options.python, "-m", "sailfin_runtime", request.recipe, "--spec", request.specPath];
    const script = slurmBatchScript({ nodes, tasksPerNode, pythonPath, runtime });
    const scriptPath = join(folder, `${name}.sbatch`);
    await writeFile(scriptPath, script, { mode: 0o755 });
    const graceS = Math.max(1, Math.ceil((options.graceMs ?? 30_000) / 1000));
    const args = [
      "--parsable", `--job-name=${name}`, `--chdir=${folder}`,
      // Appended to, not truncated, if Slurm restarts the job: its first run's events stay whole.
      `--output=${join(folder, `${name}-%j.events`)}`, `--error=${join(folder, `${name}-%j.stderr`)}`, "--open-mode=append",
      `--nodes=${nodes}`, `--ntasks-per-node=${tasksPerNode}`, `--signal=B:TERM@${graceS}`,
      ...((options.gpusPerNode ?? 0) > 0 ? [`--gpus-per-node=${options.gpusPerNode}`] : []),
      ...(options.memoryGb === undefined ? [] : [`--mem=${Math.ceil(options.memoryGb * 1024)}M`]),
      ...(options.partition === undefined ? [] : [`--partition=${options.partition}`]),
      ...(options.timeLimit === undefined ? [] : [`--time=${options.timeLimit}`]),
      scriptPath,
    ];
    const out = await this.slurm("sbatch", args);
    // --parsable prints `<id>` or `<id>;<cluster>`.
    const id = out.trim().split(";")[0] ?? "";
    if (!/^\d+$/.test(id)) throw new Error(`sbatch printed "${out.trim()}"`);
    return id;
  }

  /**
   * Tails the job's event file into `onLine` until the job has ended, then delivers the rest.
   * A followed job's file is delivered from its first line: the lines a dead worker already
   * recorded come again. That is correct because the run's retry first drops what was recorded
   * after its latest checkpoint (forgetAfterStep) and its RuntimeLink skips step events at or
   * below that checkpoint (`recordedThroughStep`), so every step is recorded once, and the
   * step-less events (started, progress, the final one) only set state.
   */
  private async follow(jobId: string, request: ExecRequest): Promise<ExecResult> {
    const pollMs = this.options.pollMs ?? 250;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      // TERM goes to the job's steps (the ranks); a job still pending has none and is cancelled outright.
      this.slurm("scancel", ["--signal=TERM", jobId]).catch(() => this.slurm("scancel", [jobId])).catch(() => {});
      killTimer = setTimeout(() => { this.slurm("scancel", [jobId]).catch(() => {}); }, this.options.graceMs ?? 30_000);
    };
    if (request.signal.aborted) stop();
    else request.signal.addEventListener("abort", stop, { once: true });
    try {
      let info = await this.jobInfo(jobId);
      const tail = new EventFileTail(info?.stdout ?? "", request.onLine);
      // A job Slurm requeued is not followed into its next run (the batch script would only exit:
      // its spec resumes from a stale checkpoint); once its first run has ended, it is reported.
      while (info !== null && LIVE_STATES.has(info.state) && !(info.restarts > 0 && REQUEUED_WAITING.has(info.state))) {
        await sleep(pollMs);
        await tail.read();
        info = await this.jobInfo(jobId);
      }
      // The job (or its first run) has ended: its event file is complete.
      await tail.read(true);
      if (info === null) return { exitCode: null, signal: null, stderrTail: `the Slurm job ${jobId} is no longer known to Slurm` };
      const stderr = await readFile(info.stderr, "utf8").catch(() => "");
      const stderrTail = stderr.slice(-STDERR_TAIL);
      if (info.restarts > 0) {
        // Cancelled while it waits, so the run's next attempt submits it afresh with a spec that
        // resumes from the latest checkpoint; what its first run printed was delivered above.
        if (LIVE_STATES.has(info.state)) await this.slurm("scancel", [jobId]).catch(() => {});
        const cause = NODE_FAILURE.test(stderr) ? "a Slurm node failure (Slurm requeued the job)" : "a Slurm requeue (scontrol requeue or a preemption)";
        return { exitCode: null, signal: null, stderrTail: `${stderrTail}\nSlurm job ${jobId} was requeued by Slurm`.slice(-STDERR_TAIL), interruptedBy: cause };
      }
      const interruptedBy = endedBySlurm(info.state, stderr.includes(BATCH_TERM_NOTE));
      const signal = info.signal !== 0 ? signalName(info.signal)
        : info.state === "COMPLETED" || info.state === "FAILED" ? null : "SIGKILL";
      const stateNote = info.state === "COMPLETED" || info.state === "FAILED" ? "" : `\nSlurm job ${jobId} ended ${info.state}`;
      return {
        exitCode: signal === null ? info.exitCode : null, signal, stderrTail: `${stderrTail}${stateNote}`.slice(-STDERR_TAIL),
        ...(interruptedBy === undefined ? {} : { interruptedBy }),
      };
    } finally {
      if (killTimer !== undefined) clearTimeout(killTimer);
      request.signal.removeEventListener("abort", stop);
    }
  }

  /** The job as `scontrol show job` sees it; null once Slurm has forgotten it (MinJobAge after its end). */
  private async jobInfo(jobId: string): Promise<JobInfo | null> {
    let text: string;
    try {
      text = await this.slurm("scontrol", ["show", "job", "-o", jobId]);
    } catch {
      return null;
    }
    const field = (key: string) => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(text)?.[1] ?? "";
    const [code, signal] = field("ExitCode").split(":").map(Number);
    return {
      name: field("JobName"), state: field("JobState"), exitCode: code ?? 0, signal: signal ?? 0, stdout: field("StdOut"), stderr: field("StdErr"),
      restarts: Number(field("Restarts")) || 0,
    };
  }

  private env(): NodeJS.ProcessEnv {
    return { ...(this.options.env ?? process.env) };
  }

  /** Runs a Slurm command; rejects with its stderr when it fails. */
  private slurm(command: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(command, args, { env: this.env(), timeout: 30_000 }, (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${command} ${args.join(" ")}: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      });
    });
  }
}

/** What a batch script is made of. */
interface BatchScriptInput {
  readonly nodes: number;
  readonly tasksPerNode: number;
  /** PYTHONPATH on the nodes (the runtime's folder first). */
  readonly pythonPath: string;
  /** The runtime's command line, one word each (quoted here). */
  readonly runtime: readonly string[];
}

/**
 * The batch script of a runtime job. With more than one task (`--nodes` × `--ntasks-per-node`)
 * every srun task is a rank of one data-parallel run (RANKS_SETUP, RANK_ENV); with one, the
 * runtime alone. A run Slurm restarts (requeued: `scontrol requeue`, a preemption, a node
 * failure) exits at once instead of training: its spec would resume from the checkpoint the
 * first run started from, not from the one it saved, so the worker resubmits the run instead.
 *
 * @example slurmBatchScript({ nodes: 2, tasksPerNode: 1, pythonPath: "/srv/sailfin/runtime", runtime: ["python3", "-m", "sailfin_runtime", "finetune", "--spec", "/a/spec.json"] })
 */
export function slurmBatchScript(input: BatchScriptInput): string {
  const severalRanks = input.nodes * input.tasksPerNode > 1;
  const runtime = input.runtime.map(shellWord).join(" ");
  // A time limit's B:TERM reaches this shell, not the ranks. srun given TERM ends its step
  // with SIGKILL (no checkpoint), so the shell traps it and has Slurm signal the job's steps
  // (every rank) instead, as a stop does; then it waits for srun and exits with its status.
  return [
    "#!/bin/bash",
    `if [ "\${SLURM_RESTART_COUNT:-0}" != 0 ]; then echo "sailfin-batch: requeued by Slurm (restart \$SLURM_RESTART_COUNT): not rerun; the worker resubmits the run from its latest checkpoint" >&2; exit 0; fi`,
    `export PYTHONPATH=${shellWord(input.pythonPath)}`,
    "export PYTHONUNBUFFERED=1",
    ...(severalRanks ? RANKS_SETUP : []),
    `trap 'echo "${BATCH_TERM_NOTE}" >&2; scancel --signal=TERM "$SLURM_JOB_ID"' TERM`,
    severalRanks
      ? `srun --kill-on-bad-exit=1 --output=0 --error=all bash -c ${shellWord(RANK_ENV)} sailfin-rank ${runtime} &`
      : `srun --kill-on-bad-exit=1 ${runtime} &`,
    "step=$!",
    "while :; do wait \"$step\"; code=$?; kill -0 \"$step\" 2>/dev/null || break; done",
    "exit \"$code\"",
    "",
  ].join("\n");
}

/**
 * What ended a job that was not requeued, when Slurm did: its end state, or the batch shell's TERM
 * (which only a time limit sends, a requeue aside). Undefined: the job ended by itself or by a
 * stop's `scancel` (steps only).
 */
function endedBySlurm(state: string, batchGotTerm: boolean): string | undefined {
  switch (state) {
    case "TIMEOUT": case "DEADLINE": return "the Slurm time limit";
    case "PREEMPTED": return "a Slurm preemption";
    case "NODE_FAIL": case "BOOT_FAIL": return "a Slurm node failure";
    default: return batchGotTerm ? "the Slurm time limit" : undefined;
  }
}

/** Reads a growing file from where it left off and hands each complete line on, in order. */
class EventFileTail {
  private offset = 0;
  private partial = "";
  private readonly decoder = new StringDecoder("utf8");

  constructor(private readonly path: string, private readonly onLine: (line: string) => void) {}

  /** Delivers the lines written since the last read; `final` also delivers an unterminated last line. */
  async read(final = false): Promise<void> {
    if (this.path === "") return;
    const file = await open(this.path, "r").catch(() => null);
    if (file === null) return;
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        const lines = (this.partial + this.decoder.write(buffer.subarray(0, bytesRead))).split("\n");
        this.partial = lines.pop() ?? "";
        for (const line of lines) this.onLine(line);
      }
    } finally {
      await file.close();
    }
    if (final && this.partial !== "") { this.onLine(this.partial); this.partial = ""; }
  }
}

/** Quotes a word for the batch script. */
function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function signalName(number: number): string {
  return Object.entries(constants.signals).find(([, n]) => n === number)?.[0] ?? `signal ${number}`;
}
