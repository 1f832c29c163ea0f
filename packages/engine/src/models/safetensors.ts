import type { Readable } from "node:stream";
import type { ArtifactStore } from "../artifacts/artifact-store.js";

/**
 * Reading safetensors headers (https://github.com/huggingface/safetensors, "Format"): an 8-byte
 * little-endian header length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin,
 * end]}, "__metadata__"?: {string: string}}`, then the tensor bytes. Only the header is read:
 * a 15 GB shard costs the same few kilobytes to check as a tiny one.
 */

/** Bytes per element of every dtype safetensors defines. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8, I64: 8, U64: 8,
  F32: 4, I32: 4, U32: 4,
  F16: 2, BF16: 2, I16: 2, U16: 2,
  I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

/** The reference implementation refuses headers over 100 MB; so do we (a hostile length stays cheap). */
const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Offsets into the data section (after the header), end exclusive. */
  readonly begin: number;
  readonly end: number;
}

interface SafetensorsHeader {
  readonly headerBytes: number;
  /** Size of the data section: file size minus 8 minus the header. */
  readonly dataBytes: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
}

/** A problem with the file's bytes; the message says what, the caller adds which file. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

/** The header length from the first 8 bytes, checked against the file size. */
function headerLength(first8: Buffer, fileSize: number): number {
  if (fileSize < 8 || first8.length < 8) throw new SafetensorsError(`file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const length = first8.readBigUInt64LE(0);
  if (length > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`header length ${length} exceeds ${MAX_HEADER_BYTES} bytes`);
  const n = Number(length);
  if (n < 2) throw new SafetensorsError(`header length ${n} is too small for a JSON object`);
  if (8 + n > fileSize) throw new SafetensorsError(`header length ${n} runs past the end of the ${fileSize}-byte file (truncated?)`);
  return n;
}

/**
 * Parses and checks a header: `prefix` holds at least the first `8 + N` bytes of a file of
 * `fileSize` bytes. Checks every tensor's dtype, shape and offsets, that offsets match
 * `dtype size × elements`, that tensors neither overlap nor leave holes, and that the data
 * section ends exactly where the file ends (a truncated or padded file fails).
 */
export function parseSafetensorsHeader(prefix: Buffer, fileSize: number): SafetensorsHeader {
  const n = headerLength(prefix, fileSize);
  if (prefix.length < 8 + n) throw new SafetensorsError("header is incomplete");
  let json: unknown;
  try {
    json = JSON.parse(prefix.subarray(8, 8 + n).toString("utf8"));
  } catch (error) {
    throw new SafetensorsError(`header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new SafetensorsError("header is not a JSON object");
  const dataBytes = fileSize - 8 - n;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = parseMetadata(value);
      continue;
    }
    tensors.set(name, parseTensor(name, value));
  }
  checkLayout(tensors, dataBytes);
  return { headerBytes: n, dataBytes, metadata, tensors };
}

function parseMetadata(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new SafetensorsError("__metadata__ is not an object");
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw new SafetensorsError(`__metadata__.${key} is not a string`);
  }
  return value as Record<string, string>;
}

function parseTensor(name: string, value: unknown): TensorInfo {
  if (typeof value !== "object" || value === null) throw new SafetensorsError(`tensor ${name}: entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== "string" || DTYPE_BYTES[dtype] === undefined) throw new SafetensorsError(`tensor ${name}: unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`tensor ${name}: shape must be a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new SafetensorsError(`tensor ${name}: data_offsets must be [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new SafetensorsError(`tensor ${name}: data_offsets end ${end} is before begin ${begin}`);
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = elements * DTYPE_BYTES[dtype]!;
  if (end - begin !== expected) {
    throw new SafetensorsError(
      `tensor ${name}: ${end - begin} data bytes, but ${dtype} ${JSON.stringify(shape)} needs ${expected}`,
    );
  }
  return { dtype, shape: shape as number[], begin, end };
}

function checkLayout(tensors: Map<string, TensorInfo>, dataBytes: number): void {
  const ordered = [...tensors.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let cursor = 0;
  for (const [name, t] of ordered) {
    if (t.begin < cursor) throw new SafetensorsError(`tensor ${name}: data overlaps the previous tensor`);
    if (t.begin > cursor) throw new SafetensorsError(`tensor ${name}: ${t.begin - cursor} unindexed bytes before it`);
    if (t.end > dataBytes) {
      throw new SafetensorsError(`tensor ${name}: data ends at byte ${t.end} but the file holds ${dataBytes} data bytes (truncated?)`);
    }
    cursor = t.end;
  }
  if (cursor !== dataBytes) {
    throw new SafetensorsError(`the file holds ${dataBytes} data bytes but the tensors account for ${cursor}`);
  }
}

/**
 * Reads and checks the header of a safetensors object in the artifact store, reading only the
 * first `8 + N` bytes (one pass over the stream; it is destroyed as soon as the header is in).
 */
export async function readSafetensorsHeader(store: ArtifactStore, key: string, fileSize: number): Promise<SafetensorsHeader> {
  const stream: Readable = await store.get(key);
  const chunks: Buffer[] = [];
  let have = 0;
  let need = 8;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      have += chunk.length;
      if (need === 8 && have >= 8) need = 8 + headerLength(Buffer.concat(chunks), fileSize);
      if (have >= need) break;
    }
  } finally {
    stream.destroy();
  }
  // Fewer bytes than stat() promised (the object changed under us) fails as "incomplete".
  return parseSafetensorsHeader(Buffer.concat(chunks), fileSize);
}
