import { Transform } from "node:stream";
import { SailfinError } from "@sailfin/contract";
import { BodyDigestCheck, type SignedBodyDigest } from "@sailfin/engine";

/**
 * The pass-through a streamed request body goes through on its way to the store: it counts the
 * bytes against `limit` (EntityTooLarge past it; null: the caller counts) and checks the signed
 * body digest, if the signature named one, before the store publishes: a wrong body fails the
 * write, and the temporary file goes.
 */
export function checkedBody(digest: SignedBodyDigest | undefined, limit: number | null): Transform {
  const check = digest === undefined ? null : new BodyDigestCheck(digest);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      check?.update(chunk);
      if (limit !== null && seen > limit) callback(new SailfinError("EntityTooLarge", { detail: `uploads are limited to ${limit} bytes` }));
      else callback(null, chunk);
    },
    flush(callback) {
      try {
        check?.verify();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
