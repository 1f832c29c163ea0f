/** One runtime invocation: `python3 -m sailfin_runtime <recipe> --spec <specPath>`. */
export interface ExecRequest {
  readonly recipe: "finetune" | "export" | "quantize" | "generate";
  /** Absolute path of spec.json. */
  readonly specPath: string;
  /** Aborting stops the process: SIGTERM (the runtime checkpoints and exits), SIGKILL after the grace period. */
  readonly signal: AbortSignal;
  /** Called with every line the runtime prints on stdout (JSON events). */
  readonly onLine: (line: string) => void;
}

export interface ExecResult {
  /** Null when killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The last few KB of stderr, for failure reasons. */
  readonly stderrTail: string;
}

/**
 * Where the runtime runs. `local` is a child process on this machine; a Slurm or Kubernetes
 * executor implements the same interface later.
 */
export interface Executor {
  run(request: ExecRequest): Promise<ExecResult>;
}
