import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import type { PutResult } from "./artifact-store.js";

/** A put's body as a stream, and the pass-through that counts and hashes its bytes on the way (what every store's put returns). */
interface MeteredBody {
  readonly source: Readable;
  readonly meter: Transform;
  /** Size and sha256 of what went through the meter (call once it has all gone through). */
  result(): PutResult;
}

/** @example const { source, meter, result } = meteredBody(body); await pipeline(source, meter, sink); return result(); */
export function meteredBody(body: Readable | Buffer | string): MeteredBody {
  const hash = createHash("sha256");
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const source = typeof body === "string" || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
  return { source, meter, result: () => ({ size, sha256: hash.digest("hex") }) };
}
