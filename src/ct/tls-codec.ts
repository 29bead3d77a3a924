import { ctError, CtErrorCodes } from './errors.js';

/**
 * Reader/writer for the TLS presentation language (RFC 8446 §3) structures of RFC 6962 and static-ct:
 * big-endian integers and length-prefixed opaque vectors. Hand-rolled because no installed library speaks it and
 * the structures are tiny; every read is bounds-checked because the bytes come from logs or certificates.
 */
export class TlsReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array, private readonly what = 'TLS structure') {}

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  get offset(): number {
    return this.at;
  }

  private fail(why: string): never {
    throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${this.what}: ${why} at byte ${this.at}`);
  }

  bytesN(n: number): Uint8Array {
    if (n < 0 || n > this.remaining) this.fail(`needs ${n} bytes, has ${this.remaining}`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** Unsigned big-endian integer of 1..7 bytes (uint40 leaf_index, uint64 timestamps < 2^53). */
  uint(n: number): number {
    const b = this.bytesN(n);
    let v = 0;
    for (const x of b) v = v * 256 + x;
    if (!Number.isSafeInteger(v)) this.fail('integer too large');
    return v;
  }

  /** uint64 that must fit a JS number (timestamps in ms, tree sizes). */
  uint64(): number {
    return this.uint(8);
  }

  /** opaque<min..max> with a length prefix of `lengthBytes` bytes. */
  vector(lengthBytes: 1 | 2 | 3, min = 0, max = 2 ** (8 * lengthBytes) - 1): Uint8Array {
    const len = this.uint(lengthBytes);
    if (len < min || len > max) this.fail(`vector length ${len} outside ${min}..${max}`);
    return this.bytesN(len);
  }

  end(): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} trailing bytes`);
  }
}

export class TlsWriter {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  bytes(b: Uint8Array): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  uint(n: number, value: number): this {
    if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** (8 * n)) throw new RangeError(`${value} does not fit ${n} bytes`);
    const b = new Uint8Array(n);
    let v = value;
    for (let i = n - 1; i >= 0; i--) {
      b[i] = v % 256;
      v = Math.floor(v / 256);
    }
    return this.bytes(b);
  }

  uint64(value: number): this {
    return this.uint(8, value);
  }

  vector(lengthBytes: 1 | 2 | 3, b: Uint8Array): this {
    return this.uint(lengthBytes, b.length).bytes(b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
