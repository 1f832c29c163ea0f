import { Readable } from "node:stream";

/**
 * A streaming tar writer (POSIX ustar, with pax headers for long or non-ASCII names and for
 * files of 8 GiB or more) for model exports. Tar, not zip, because every size is known before a
 * byte is read (the store lists them): each file streams through once with no CRC pass, with no
 * 4 GiB limit (a 7B model's safetensors shards are 4–10 GiB), and safetensors barely compress,
 * so the archive is not compressed either. `tar -xf` and Python's `tarfile` read it everywhere
 * a model is served.
 */

interface StreamTarEntry {
  /** Path inside the archive, "/"-separated, relative. */
  readonly name: string;
  readonly size: number;
  /** Opened when the entry's turn comes; must yield exactly `size` bytes. */
  open(): Promise<AsyncIterable<Buffer>>;
}

const BLOCK = 512;
/** The largest size an 11-digit octal field holds. */
const MAX_OCTAL_SIZE = 0o77777777777;

/**
 * The archive as a stream: each file's header and bytes, then two zero blocks.
 *
 * @example await store.put("exports/x/model.tar", tarStream(files.map((f) => ({ name: f.name, size: f.size, open: () => store.get(f.key) }))));
 */
export function tarStream(entries: readonly StreamTarEntry[], options: { date?: Date } = {}): Readable {
  return Readable.from(tarChunks(entries, Math.floor((options.date ?? new Date()).getTime() / 1000)), { objectMode: false });
}

async function* tarChunks(entries: readonly StreamTarEntry[], mtime: number): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    if (entry.name === "" || entry.name.startsWith("/") || entry.name.split("/").some((s) => s === ".." || s === "")) {
      throw new Error(`tar entry name "${entry.name}" must be a relative "/"-separated path without empty or ".." segments`);
    }
    const ascii = /^[\x20-\x7e]*$/.test(entry.name);
    const pax: string[] = [];
    if (!ascii || Buffer.byteLength(entry.name) > 100) pax.push(paxRecord("path", entry.name));
    if (entry.size > MAX_OCTAL_SIZE) pax.push(paxRecord("size", String(entry.size)));
    if (pax.length > 0) {
      const body = Buffer.from(pax.join(""), "utf8");
      yield header(`PaxHeaders/${asciiName(entry.name)}`, body.length, mtime, "x");
      yield* padded(body);
    }
    yield header(asciiName(entry.name), Math.min(entry.size, MAX_OCTAL_SIZE), mtime, "0");
    let written = 0;
    for await (const chunk of await entry.open()) {
      written += chunk.length;
      if (written > entry.size) throw new Error(`tar entry "${entry.name}" grew past its listed ${entry.size} bytes while it was read`);
      yield chunk;
    }
    if (written !== entry.size) throw new Error(`tar entry "${entry.name}" has ${written} bytes, not its listed ${entry.size}`);
    if (written % BLOCK !== 0) yield Buffer.alloc(BLOCK - (written % BLOCK));
  }
  yield Buffer.alloc(2 * BLOCK);
}

/** A pax record: `<length> <key>=<value>\n`, the length counting itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length = String(length).length + Buffer.byteLength(rest);
  return `${length}${rest}`;
}

/** The name as the ustar field holds it (the pax `path` record carries the real one when this differs). */
function asciiName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, "_").slice(-100);
}

function* padded(body: Buffer): Generator<Buffer> {
  yield body;
  if (body.length % BLOCK !== 0) yield Buffer.alloc(BLOCK - (body.length % BLOCK));
}

function header(name: string, size: number, mtime: number, type: "0" | "x"): Buffer {
  const block = Buffer.alloc(BLOCK);
  const octal = (value: number, offset: number, width: number) => block.write(`${value.toString(8).padStart(width - 1, "0")}\0`, offset, width, "ascii");
  block.write(name, 0, 100, "ascii");
  octal(0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(mtime, 136, 12);
  block.write("        ", 148, 8, "ascii"); // the checksum counts its own field as spaces
  block.write(type, 156, 1, "ascii");
  block.write("ustar\u000000", 257, 8, "ascii");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return block;
}
