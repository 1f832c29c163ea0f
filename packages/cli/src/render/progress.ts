import { bar, bytes } from "./format.js";

/**
 * Byte progress of an upload or a download on stderr: one line redrawn in place
 * (`label [####------] 1.2 MiB / 3.4 MiB  35%  2.1 MiB/s`), only when stderr is a terminal, so
 * logs and pipes stay clean.
 */
interface ByteProgress {
  /** The total, once known (a download learns it from its headers). */
  start(total: number | null): void;
  add(n: number): void;
  /** Draws the final state and ends the line. */
  done(): void;
}

/** Redraws at most this often: a terminal cannot show more, and writes cost. */
const REDRAW_MS = 100;

export function byteProgress(stream: NodeJS.WriteStream, label: string, total: number | null = null): ByteProgress {
  if (!stream.isTTY) return { start() {}, add() {}, done() {} };
  const started = Date.now();
  let size = total;
  let seen = 0;
  let drawnAt = 0;
  const draw = () => {
    drawnAt = Date.now();
    const seconds = Math.max(0.001, (drawnAt - started) / 1000);
    const rate = `${bytes(seen / seconds)}/s`;
    const text = size === null || size === 0
      ? `${label} ${bytes(seen)}  ${rate}`
      : `${label} ${bar(seen / size, 20)} ${bytes(seen)} / ${bytes(size)}  ${Math.floor((seen / size) * 100)}%  ${rate}`;
    stream.write(`\r\x1b[K${text}`);
  };
  return {
    start(value) { size = value; },
    add(n) {
      seen += n;
      if (Date.now() - drawnAt >= REDRAW_MS) draw();
    },
    done() {
      draw();
      stream.write("\n");
    },
  };
}
