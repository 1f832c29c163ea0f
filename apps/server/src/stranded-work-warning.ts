import { kindNoun, strandedWork, type EngineResources, type StrandedWork } from "@sailfin/engine";
import { SETUP_RUNTIME_SCRIPT } from "@sailfin/worker";

export interface StrandedWorkWarningOptions {
  /** How often the queue is looked at (default 5 s). */
  readonly checkMs?: number;
  /** The same warning again at most this often while it holds (default 60 s). */
  readonly repeatMs?: number;
}

/**
 * Warns (through `warn`, stderr for `sailfin serve`) while queued runs wait for a worker that
 * does not exist: no worker online, or none that takes their kind. A server accepts such runs
 * (a worker may come later), but a person must hear that nothing will run them. Said at once
 * when the situation appears or changes, then at most once per `repeatMs`.
 */
export class StrandedWorkWarning {
  private timer: NodeJS.Timeout | null = null;
  private lastText = "";
  private lastAt = 0;
  private checking: Promise<void> = Promise.resolve();

  constructor(
    private readonly res: EngineResources,
    private readonly warn: (line: string) => void,
    private readonly options: StrandedWorkWarningOptions = {},
  ) {}

  start(): void {
    this.checking = this.check();
    this.timer = setInterval(() => { this.checking = this.check(); }, this.options.checkMs ?? 5_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.checking;
  }

  private async check(): Promise<void> {
    let stranded: StrandedWork[];
    try {
      stranded = await strandedWork(this.res.db);
    } catch (error) {
      this.res.log.warn({ err: error }, "checking for queued work without a worker failed");
      return;
    }
    const text = stranded.map(warningLine).join("\n");
    const now = Date.now();
    if (text === "") { this.lastText = ""; return; }
    if (text === this.lastText && now - this.lastAt < (this.options.repeatMs ?? 60_000)) return;
    this.lastText = text;
    this.lastAt = now;
    this.warn(text);
  }
}

function warningLine(s: StrandedWork): string {
  const what = `${s.count} queued ${kindNoun(s.kind)} task${s.count === 1 ? "" : "s"}`;
  return `sailfin: warning: ${what} cannot start (${s.reason}); start a worker with \`sailfin worker\` ` +
    `(or \`sailfin serve\` without --no-worker; it needs PyTorch: sudo bash ${SETUP_RUNTIME_SCRIPT})`;
}
