import { DTYPE_BYTES } from "./safetensors.js";

/**
 * A small safetensors writer (the tiny demo model, tests). Lays tensors out in the given order,
 * pads the JSON header with spaces to a multiple of 8 bytes (as the reference writer does, so
 * readers can map the data aligned), and records `{"format": "pt"}` metadata like PyTorch saves.
 */
export interface TensorData {
  readonly name: string;
  readonly dtype: "F32" | "BF16" | "F16";
  readonly shape: readonly number[];
  /** Raw little-endian bytes: `shape` elements of `dtype`. */
  readonly data: Buffer;
}

export function encodeSafetensors(tensors: readonly TensorData[], metadata: Record<string, string> = { format: "pt" }): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const expected = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype]!;
    if (t.data.length !== expected) throw new Error(`tensor ${t.name}: ${t.data.length} bytes, ${t.dtype} ${JSON.stringify(t.shape)} needs ${expected}`);
    if (Object.hasOwn(header, t.name)) throw new Error(`tensor ${t.name} appears twice`);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += " ".repeat(pad);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json, "utf8"), ...tensors.map((t) => t.data)]);
}

/** float32 values to little-endian F32 bytes. */
export function f32Bytes(values: Float32Array): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i]!, i * 4);
  return out;
}

/** float32 values to bfloat16 bytes, rounding to nearest even (what torch's `.to(bfloat16)` does). */
export function bf16Bytes(values: Float32Array): Buffer {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = Buffer.alloc(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i]!;
    let upper: number;
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x007fffff) !== 0) upper = (x >>> 16) | 0x0040; // NaN stays NaN
    else upper = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
    out.writeUInt16LE(upper, i * 2);
  }
  return out;
}
