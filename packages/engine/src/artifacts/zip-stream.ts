import { once } from "node:events";
import { Readable } from "node:stream";
import { createDeflateRaw } from "node:zlib";
import { checkName, crc32Update, dosDateTime, endOfCentralDirectory } from "./zip.js";

/**
 * A streaming zip writer for dataset exports (the Python SDK downloads a dataset as a zip and
 * unzips it): each entry is read once and deflated as it streams, its CRC-32 and sizes following
 * in a data descriptor (general purpose bit 3), so memory stays at zlib's window whatever the
 * size. zip.ts builds small archives in memory instead (evaluation results, with stored entries
 * where deflate does not help). No zip64: an entry or archive reaching 4 GiB fails the stream
 * (the SDK refuses to unzip datasets past 2 GiB anyway, QIANFAN_EXPORT_FILE_SIZE_LIMIT).
 */

interface StreamZipEntry {
  /** Path inside the archive, "/"-separated, relative. */
  readonly name: string;
  /** Opened when the entry's turn comes. */
  open(): Promise<AsyncIterable<Buffer>>;
}

const LIMIT = 0xffffffff;
const FLAGS = 0x0808; // bit 3: sizes in the data descriptor; bit 11: UTF-8 names
const VERSION = 20;

/**
 * The archive as a stream: deflated entries in order, then the central directory.
 *
 * @example await store.put("exports/x/data.zip", zipStream([{ name: "data.jsonl", open: () => store.get(key) }]));
 */
export function zipStream(entries: readonly StreamZipEntry[], options: { date?: Date } = {}): Readable {
  return Readable.from(zipChunks(entries, options.date ?? new Date()), { objectMode: false });
}

async function* zipChunks(entries: readonly StreamZipEntry[], when: Date): AsyncGenerator<Buffer> {
  const { time, date } = dosDateTime(when);
  const seen = new Set<string>();
  const centrals: Buffer[] = [];
  let offset = 0;
  if (entries.length > 0xffff) throw new Error(`a zip without zip64 holds at most 65535 entries, got ${entries.length}`);
  for (const entry of entries) {
    checkName(entry.name, seen);
    const name = Buffer.from(entry.name, "utf8");
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(FLAGS, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    // crc and sizes (14–25) stay 0: they follow in the data descriptor.
    local.writeUInt16LE(name.length, 26);
    yield local;
    yield name;
    const sums = { crc: 0, size: 0, compressed: 0 };
    for await (const chunk of deflated(await entry.open(), sums)) {
      sums.compressed += chunk.length;
      yield chunk;
    }
    if (sums.size >= LIMIT || sums.compressed >= LIMIT) {
      throw new Error(`zip entry "${entry.name}" reached 4 GiB; that needs zip64, which this writer does not produce`);
    }
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(sums.crc, 4);
    descriptor.writeUInt32LE(sums.compressed, 8);
    descriptor.writeUInt32LE(sums.size, 12);
    yield descriptor;

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | VERSION, 4);
    central.writeUInt16LE(VERSION, 6);
    central.writeUInt16LE(FLAGS, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(sums.crc, 16);
    central.writeUInt32LE(sums.compressed, 20);
    central.writeUInt32LE(sums.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + sums.compressed + descriptor.length;
    if (offset >= LIMIT) throw new Error("zip archive reached 4 GiB; that needs zip64, which this writer does not produce");
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  yield* centrals;
  yield endOfCentralDirectory(entries.length, centralSize, offset);
}

/** The source deflated, counting its CRC and size into `sums` on the way; a failing source fails the output. */
async function* deflated(source: AsyncIterable<Buffer>, sums: { crc: number; size: number }): AsyncGenerator<Buffer> {
  const deflate = createDeflateRaw();
  // Errors reach the reader through the iterator below; this keeps one nobody awaits from crashing the process.
  deflate.on("error", () => {});
  const feeding = (async () => {
    try {
      for await (const chunk of source) {
        sums.crc = crc32Update(sums.crc, chunk);
        sums.size += chunk.length;
        if (!deflate.write(chunk)) await once(deflate, "drain");
      }
      deflate.end();
    } catch (error) {
      deflate.destroy(error as Error);
    }
  })();
  try {
    for await (const chunk of deflate as AsyncIterable<Buffer>) yield chunk;
  } finally {
    // Stops the feeder (waiting for "drain" perhaps) when the consumer gave up early.
    if (!deflate.writableFinished) deflate.destroy(new Error("the zip stream was closed early"));
    await feeding;
  }
}
