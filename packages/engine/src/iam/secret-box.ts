import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Encrypts secret keys at rest with AES-256-GCM under the server's master key. bce-auth-v1
 * needs the secret itself to recompute signatures, so hashing is not an option.
 * Format: `v1:<iv b64>:<tag b64>:<ciphertext b64>`.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error("master key must be 32 bytes");
    this.#key = masterKey;
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return ["v1", iv.toString("base64"), cipher.getAuthTag().toString("base64"), data.toString("base64")].join(":");
  }

  /**
   * HMAC-SHA256 of `message` (base64url) under a key derived from the master key for `purpose`,
   * so a MAC made for one purpose (a download link) is never valid for another.
   */
  mac(purpose: string, message: string): string {
    const key = Buffer.from(hkdfSync("sha256", this.#key, Buffer.alloc(0), `sailfin:${purpose}`, 32));
    return createHmac("sha256", key).update(message).digest("base64url");
  }

  /** Constant-time check of a `mac(purpose, message)`. */
  verifyMac(purpose: string, message: string, mac: string): boolean {
    const expected = Buffer.from(this.mac(purpose, message));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split(":");
    if (version !== "v1" || iv === undefined || tag === undefined || data === undefined) {
      throw new Error("unrecognised secret format");
    }
    const decipher = createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "base64"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64")), decipher.final()]).toString("utf8");
  }
}

/** Parses `SAILFIN_MASTER_KEY`: 64 hex characters or base64 of 32 bytes. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== 32) throw new Error("SAILFIN_MASTER_KEY must be 32 bytes (64 hex characters or base64)");
  return key;
}
