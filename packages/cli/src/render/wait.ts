import { setTimeout as sleep } from "node:timers/promises";
import { bar } from "./format.js";

/**
 * Waits for a compression, an evaluation or an export to end, polling `read`: on a terminal a
 * bar redrawn in place (`amva-… [####------] 40% running`), elsewhere a line per status change.
 * Output goes to stderr: stdout stays the command's result.
 */
interface WaitOptions<T> {
  readonly label: string;
  read(): Promise<T>;
  status(value: T): string;
  /** 0–100, when the object reports one. */
  progress(value: T): number | null;
  isFinal(status: string): boolean;
  /** Off under --json. */
  readonly quiet: boolean;
  readonly intervalMs?: number;
}

export async function waitUntilFinal<T>(options: WaitOptions<T>): Promise<T> {
  const stream = process.stderr;
  const live = !options.quiet && stream.isTTY === true;
  let last = "";
  for (;;) {
    const value = await options.read();
    const status = options.status(value);
    const progress = options.progress(value);
    if (live) {
      // Without a progress figure (exports, services) the status alone: an empty bar would say 0%.
      stream.write(`\r\x1b[K${options.label} ${progress === null ? "" : `${bar(progress / 100)} ${Math.floor(progress)}% `}${status}`);
    } else if (!options.quiet && status !== last) {
      stream.write(`${options.label} ${status}\n`);
    }
    last = status;
    if (options.isFinal(status)) {
      if (live) stream.write("\n");
      return value;
    }
    await sleep(options.intervalMs ?? 1000);
  }
}
