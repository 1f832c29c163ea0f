import { createHash, type Hash } from "node:crypto";
import { SailfinError } from "@sailfin/contract";

/**
 * The body a bce-auth-v1 signature vouches for. A signature covers headers, not the body; a
 * client that signs `x-bce-content-sha256` (hex sha256 of the body) or `Content-MD5` (base64 md5,
 * RFC 1864) binds the body to the signature, and the server must then check the bytes it
 * received against it, or a captured request could carry any body for its 30 minutes.
 */
export interface SignedBodyDigest {
  /** `x-bce-content-sha256` as signed: lower- or upper-case hex. */
  readonly sha256?: string;
  /** `Content-MD5` as signed: base64. */
  readonly md5?: string;
}

/** The digests among a signature's headers; null when it signs none. */
export function signedBodyDigest(signedNames: readonly string[], valueOf: (name: string) => string | undefined): SignedBodyDigest | null {
  const sha256 = signedNames.includes("x-bce-content-sha256") ? valueOf("x-bce-content-sha256")?.trim() : undefined;
  const md5 = signedNames.includes("content-md5") ? valueOf("content-md5")?.trim() : undefined;
  if (sha256 === undefined && md5 === undefined) return null;
  return { ...(sha256 === undefined ? {} : { sha256 }), ...(md5 === undefined ? {} : { md5 }) };
}

/**
 * Hashes a body as it arrives (whole, or chunk by chunk as a stream), then checks it.
 *
 * @example
 * const check = new BodyDigestCheck(digest);
 * for await (const chunk of body) check.update(chunk);
 * check.verify(); // throws BadDigest
 */
export class BodyDigestCheck {
  readonly #expected: SignedBodyDigest;
  readonly #sha256: Hash | null;
  readonly #md5: Hash | null;

  constructor(expected: SignedBodyDigest) {
    this.#expected = expected;
    this.#sha256 = expected.sha256 === undefined ? null : createHash("sha256");
    this.#md5 = expected.md5 === undefined ? null : createHash("md5");
  }

  update(chunk: Uint8Array): void {
    this.#sha256?.update(chunk);
    this.#md5?.update(chunk);
  }

  /** Throws BadDigest when the bytes seen are not the body the signature names. */
  verify(): void {
    if (this.#sha256 !== null && this.#sha256.digest("hex") !== this.#expected.sha256!.toLowerCase()) {
      throw new SailfinError("BadDigest", { detail: "x-bce-content-sha256 is not the sha256 of the body received" });
    }
    if (this.#md5 !== null && this.#md5.digest("base64") !== this.#expected.md5) {
      throw new SailfinError("BadDigest", { detail: "Content-MD5 is not the md5 of the body received" });
    }
  }
}

/** Checks a whole body (an empty one when none was sent) against the signed digests. */
export function assertBodyDigest(expected: SignedBodyDigest, body: Uint8Array): void {
  const check = new BodyDigestCheck(expected);
  check.update(body);
  check.verify();
}
