/**
 * A minimal zip writer for result exports (Qianfan's evaluation export is a .zip holding a .jsonl
 * or .csv): deflate via node:zlib, UTF-8 names, no zip64. Everything is built in memory, which
 * suits exports of a few hundred MB at most; entries and archives of 4 GiB or more are refused
 * because their sizes and offsets do not fit the 32-bit fields without zip64.
 */

import * as zlib from "node:zlib";
import { deflateRawSync } from "node:zlib";

export interface ZipEntry {
  /** Path inside the archive, "/"-separated, relative (e.g. "results/eval.jsonl"). */
  name: string;
  /** File content; strings are written as UTF-8. */
  data: Buffer | string;
}

const LIMIT = 0xffffffff; // 0xFFFFFFFF itself means "see the zip64 record", so sizes must stay below it.
const UTF8_NAMES = 0x0800; // general purpose flag bit 11: names are UTF-8 (Chinese file names)
const VERSION = 20; // 2.0: deflate

// CRC-32 (IEEE, reflected 0xEDB88320), table-driven: zlib.crc32 arrived only in Node 20.15/22.2.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 as zip, gzip and PNG use it.
 *
 * @example crc32(Buffer.from("123456789")) // 0xcbf43926
 */
export function crc32(data: Uint8Array): number {
  return crc32Update(0, data);
}

/**
 * CRC-32 continued over more bytes (`previous` is the CRC of what came before, 0 at the start):
 * node:zlib's where the runtime has it (about 10× faster), the table otherwise.
 *
 * @example crc32Update(crc32(Buffer.from("1234")), Buffer.from("56789")) // 0xcbf43926
 */
export function crc32Update(previous: number, data: Uint8Array): number {
  if (NATIVE_CRC32 !== undefined) return NATIVE_CRC32(data, previous) >>> 0;
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const NATIVE_CRC32 = (zlib as { crc32?: (data: Uint8Array, value: number) => number }).crc32;

/** MS-DOS date and time (local time, 2-second resolution, years 1980–2107). */
export function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.min(2107, Math.max(1980, date.getFullYear()));
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

export function checkName(name: string, seen: Set<string>): void {
  // Unpackers differ on how they treat these; refusing them keeps the archive safe to extract.
  if (name === "" || name.startsWith("/") || name.includes("\\") || name.split("/").some((s) => s === ".." || s === "")) {
    throw new Error(`zip entry name "${name}" must be a relative "/"-separated path without empty or ".." segments`);
  }
  if (seen.has(name)) throw new Error(`zip entry name "${name}" appears twice`);
  seen.add(name);
}

/**
 * Builds a zip archive. Each entry is deflated, or stored when deflating would not make it
 * smaller; file times are `options.date` (default now).
 *
 * @example
 * const zip = zipFiles([{ name: "结果.jsonl", data: '{"prompt":"你好"}\n' }, { name: "results.csv", data: toCsv(["a"], [[1]]) }]);
 * await writeFile("export.zip", zip);
 */
export function zipFiles(entries: readonly ZipEntry[], options: { date?: Date } = {}): Buffer {
  const { time, date } = dosDateTime(options.date ?? new Date());
  const seen = new Set<string>();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  if (entries.length > 0xffff) throw new Error(`a zip without zip64 holds at most 65535 entries, got ${entries.length}`);
  for (const entry of entries) {
    checkName(entry.name, seen);
    const data = typeof entry.data === "string" ? Buffer.from(entry.data, "utf8") : entry.data;
    if (data.length >= LIMIT) {
      throw new Error(`zip entry "${entry.name}" is ${data.length} bytes; entries of 4 GiB or more need zip64, which this writer does not produce`);
    }
    const name = Buffer.from(entry.name, "utf8");
    const deflated = deflateRawSync(data);
    const stored = deflated.length >= data.length;
    const body = stored ? data : deflated;
    const crc = crc32(data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(stored ? 0 : 8, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | VERSION, 4); // made by: Unix, so the mode below is honoured
    central.writeUInt16LE(VERSION, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(stored ? 0 : 8, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number, internal attributes: 0
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);

    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
    if (offset >= LIMIT) throw new Error("zip archive would reach 4 GiB; that needs zip64, which this writer does not produce");
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  if (offset + centralSize >= LIMIT) throw new Error("zip archive would reach 4 GiB; that needs zip64, which this writer does not produce");
  return Buffer.concat([...locals, ...centrals, endOfCentralDirectory(entries.length, centralSize, offset)]);
}

/** The end-of-central-directory record: `count` entries whose central directory of `centralSize` bytes starts at `offset`. */
export function endOfCentralDirectory(count: number, centralSize: number, offset: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return end;
}
