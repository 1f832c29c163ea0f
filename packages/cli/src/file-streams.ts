import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

/**
 * Local files as the streams the SDK sends and receives, counting bytes for the progress line:
 * a multi-gigabyte shard or export never sits in memory.
 */

/** `file` as a stream for an upload body; `onBytes` sees the bytes as they are read. */
export function readFileStream(file: string, onBytes: (n: number) => void): ReadableStream<Uint8Array> {
  const counter = countBytes(onBytes);
  const source = createReadStream(file);
  source.on("error", (error) => counter.destroy(error));
  return Readable.toWeb(source.pipe(counter)) as ReadableStream<Uint8Array>;
}

/**
 * Writes a downloaded body into `file`, next to it first (`file.part`) and renamed once complete,
 * so an interrupted download leaves no truncated file; resolves to the bytes written.
 */
export async function writeFileStream(body: ReadableStream<Uint8Array>, file: string, onBytes: (n: number) => void): Promise<number> {
  let written = 0;
  const partial = `${file}.part`;
  try {
    await pipeline(Readable.fromWeb(body as never), countBytes((n) => { written += n; onBytes(n); }), createWriteStream(partial));
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return written;
}

function countBytes(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onBytes(chunk.length);
      callback(null, chunk);
    },
  });
}
