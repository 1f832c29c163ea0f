/**
 * Splits a byte stream into lines without ever holding more than one line (plus one chunk) in
 * memory. Lines end at `\n`; a missing final newline still yields the last line. A line longer
 * than `maxLineBytes` is not buffered: it is reported as `tooLong` (its bytes dropped) and the
 * reader resynchronises at the next `\n`, so one runaway line cannot exhaust memory.
 */
interface RawLine {
  /** 1-based line number within the stream. */
  readonly number: number;
  /** The line without its `\n` (a trailing `\r` is still there); empty when `tooLong`. */
  readonly bytes: Buffer;
  /** Bytes the line occupied in the stream, including its `\n` if any. */
  readonly size: number;
  readonly tooLong: boolean;
}

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

const NEWLINE = 0x0a;

export async function* readLines(
  source: AsyncIterable<Uint8Array | string>,
  options: { maxLineBytes?: number } = {},
): AsyncGenerator<RawLine> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let parts: Buffer[] = [];
  let pending = 0;
  let overflow = false;
  let number = 0;

  const finish = (tail: Buffer, newline: boolean): RawLine => {
    number++;
    const size = pending + tail.length + (newline ? 1 : 0);
    const tooLong = overflow || pending + tail.length > max;
    const bytes = tooLong ? Buffer.alloc(0) : parts.length === 0 ? tail : Buffer.concat([...parts, tail]);
    parts = [];
    pending = 0;
    overflow = false;
    return { number, bytes, size, tooLong };
  };

  for await (const piece of source) {
    const chunk = typeof piece === "string" ? Buffer.from(piece) : Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) break;
      yield finish(chunk.subarray(start, end), true);
      start = end + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pending += rest.length;
      if (pending > max) {
        overflow = true;
        parts = [];
      } else {
        // Copy: the source may reuse its buffer for the next chunk.
        parts.push(Buffer.from(rest));
      }
    }
  }
  if (pending > 0 || overflow) yield finish(Buffer.alloc(0), false);
}
