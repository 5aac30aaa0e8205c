// Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then raw
// little-endian tensor bytes. Reads F32, F16 and BF16 (converted to float32); writes F32.
import { promises as fs } from 'node:fs';

/** A float32 tensor with its shape. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Thrown for a truncated, corrupt or unsupported safetensors file; the message names the file. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const BYTES_PER_ELEMENT: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
/** Refuse absurd header sizes before allocating (real headers are KBs to a few MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Parses a safetensors file held in memory into float32 tensors (insertion order of the header).
 * `file` names the source in error messages.
 */
export function parseSafetensors(bytes: Uint8Array, file: string): Map<string, Tensor> {
  const fail = (problem: string): never => {
    throw new SafetensorsError(`${file}: ${problem}`);
  };
  if (bytes.byteLength < 8) fail(`truncated: ${bytes.byteLength} bytes, no header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES)
    fail(`corrupt: header length ${headerLength} is implausible`);
  if (8 + headerLength > bytes.byteLength) {
    fail(`truncated: header of ${headerLength} bytes but the file has ${bytes.byteLength}`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8'),
    );
  } catch (cause) {
    throw new SafetensorsError(`${file}: corrupt header (${(cause as Error).message})`, { cause });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail('corrupt header: not a JSON object');
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, Tensor>();
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = value as HeaderEntry;
    if (
      typeof entry !== 'object' ||
      entry === null ||
      typeof entry.dtype !== 'string' ||
      !Array.isArray(entry.shape) ||
      !entry.shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Array.isArray(entry.data_offsets) ||
      entry.data_offsets.length !== 2 ||
      !entry.data_offsets.every((d) => Number.isInteger(d) && d >= 0)
    ) {
      fail(`corrupt header entry for tensor ${name}`);
    }
    const width = BYTES_PER_ELEMENT[entry.dtype];
    if (width === undefined) {
      fail(`tensor ${name} has dtype ${entry.dtype}; the engine reads F32, F16 and BF16`);
    }
    const [begin, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (end < begin || end - begin !== count * width) {
      fail(
        `tensor ${name}: data_offsets [${begin}, ${end}] do not hold ${count} ${entry.dtype} values of shape [${entry.shape.join(', ')}]`,
      );
    }
    if (end > dataLength) {
      fail(
        `truncated: tensor ${name} ends at byte ${end} of the data but only ${dataLength} are present`,
      );
    }
    tensors.set(name, {
      shape: entry.shape,
      data: decode(bytes, dataStart + begin, count, entry.dtype),
    });
  }
  return tensors;
}

function decode(bytes: Uint8Array, offset: number, count: number, dtype: string): Float32Array {
  const view = new DataView(
    bytes.buffer,
    bytes.byteOffset + offset,
    count * BYTES_PER_ELEMENT[dtype],
  );
  const out = new Float32Array(count);
  if (dtype === 'F32' && (bytes.byteOffset + offset) % 4 === 0) {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset + offset, count));
  } else if (dtype === 'F32') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

/** IEEE 754 binary16 bits to a number (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Reads `file` (whole) and parses it; see {@link parseSafetensors}. */
export async function readSafetensors(file: string): Promise<Map<string, Tensor>> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (cause) {
    throw new SafetensorsError(`${file}: cannot read (${(cause as Error).message})`, { cause });
  }
  return parseSafetensors(bytes, file);
}

/** Serialises float32 tensors (in the given order) with optional string metadata. */
export function serializeSafetensors(
  tensors: Iterable<[string, Tensor]>,
  metadata: Record<string, string> = { format: 'pt' },
): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const parts: Tensor[] = [];
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    if (count !== tensor.data.length) {
      throw new SafetensorsError(
        `tensor ${name}: shape [${tensor.shape.join(', ')}] does not match ${tensor.data.length} values`,
      );
    }
    header[name] = {
      dtype: 'F32',
      shape: tensor.shape,
      data_offsets: [offset, offset + 4 * count],
    };
    offset += 4 * count;
    parts.push(tensor);
  }
  // Pad the header with spaces so the data starts 8-byte aligned (as the reference writer does).
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const tensor of parts) {
    // Little-endian on every platform Node supports; copy raw bytes.
    Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength).copy(out, at);
    at += tensor.data.byteLength;
  }
  return out;
}

/** Writes tensors to `file` in the safetensors format. */
export async function writeSafetensors(
  file: string,
  tensors: Iterable<[string, Tensor]>,
  metadata?: Record<string, string>,
): Promise<void> {
  await fs.writeFile(file, serializeSafetensors(tensors, metadata));
}
