import { EmblemError } from './errors.js';

const B64URL = /^[A-Za-z0-9_-]*$/;
const B64STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ALPHABET_STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET_STD.charCodeAt(i)] = i;
DECODE['-'.charCodeAt(0)] = 62;
DECODE['_'.charCodeAt(0)] = 63;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export function utf8Encode(text: string): Uint8Array {
  return textEncoder.encode(text);
}

/** Strict UTF-8 decoding: invalid sequences are an error, not U+FFFD (tokens are attacker input). */
export function utf8Decode(bytes: Uint8Array): string {
  try {
    return textDecoder.decode(bytes);
  } catch {
    throw new EmblemError('TOKEN_MALFORMED', 'invalid UTF-8');
  }
}

/** Node's Buffer when present (a runtime feature test, not an import: the core stays browser-safe). */
const NodeBuffer = (globalThis as { Buffer?: { from(text: string, encoding: string): Uint8Array } }).Buffer;

function decodeBase64Chars(text: string): Uint8Array {
  const n = text.length;
  if (n % 4 === 1) throw new EmblemError('TOKEN_MALFORMED', 'invalid base64 length');
  if (NodeBuffer && n > 64) {
    // Native decoding for long inputs (tokens); the characters were validated by the caller's regex, and only the
    // last character can carry non-canonical bits, which the short path below checks.
    const tailStart = n - (n % 4 === 0 ? 4 : n % 4);
    const tail = decodeBase64Chars(text.slice(tailStart));
    const bytes = NodeBuffer.from(text, 'base64url');
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length).subarray(0, (tailStart / 4) * 3 + tail.length);
  }
  const out = new Uint8Array(Math.floor((n * 3) / 4));
  let o = 0;
  for (let i = 0; i < n; i += 4) {
    const a = DECODE[text.charCodeAt(i)]!;
    const b = DECODE[text.charCodeAt(i + 1)]!;
    const c = i + 2 < n ? DECODE[text.charCodeAt(i + 2)]! : 0;
    const d = i + 3 < n ? DECODE[text.charCodeAt(i + 3)]! : 0;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = (v >> 16) & 0xff;
    if (i + 2 < n) out[o++] = (v >> 8) & 0xff;
    if (i + 3 < n) out[o++] = v & 0xff;
    // Non-canonical trailing bits would let two encodings decode to the same bytes: reject them.
    if (i + 4 >= n) {
      if (i + 2 === n && (b & 0x0f) !== 0) throw new EmblemError('TOKEN_MALFORMED', 'non-canonical base64');
      if (i + 3 === n && (c & 0x03) !== 0) throw new EmblemError('TOKEN_MALFORMED', 'non-canonical base64');
    }
  }
  return out.subarray(0, o);
}

/** base64url without padding (RFC 7515 §2), canonical only. */
export function base64urlDecode(text: string): Uint8Array {
  if (!B64URL.test(text)) throw new EmblemError('TOKEN_MALFORMED', 'invalid base64url');
  return decodeBase64Chars(text);
}

export function base64urlEncode(bytes: Uint8Array): string {
  return base64Encode(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Standard padded base64 (RFC 4648 §4), as used for CT log IDs and leaf hashes in `log` claims. */
export function base64Decode(text: string): Uint8Array {
  if (!B64STD.test(text)) throw new EmblemError('TOKEN_MALFORMED', 'invalid base64');
  const stripped = text.replace(/=+$/, '');
  return decodeBase64Chars(stripped.replace(/\+/g, '-').replace(/\//g, '_'));
}

export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET_STD[v >> 18]! + ALPHABET_STD[(v >> 12) & 63]! + ALPHABET_STD[(v >> 6) & 63]! + ALPHABET_STD[v & 63]!;
  }
  if (i < bytes.length) {
    const a = bytes[i]!;
    const b = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const v = (a << 16) | (b << 8);
    out += ALPHABET_STD[v >> 18]! + ALPHABET_STD[(v >> 12) & 63]!;
    out += i + 1 < bytes.length ? ALPHABET_STD[(v >> 6) & 63]! + '=' : '==';
  }
  return out;
}

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower-case, without "=" padding: ADEM's textual kid form. */
export function base32LowerNoPad(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31]!;
  return out;
}

export function base32LowerNoPadDecode(text: string): Uint8Array {
  const lower = text.toLowerCase();
  if (!/^[a-z2-7]*$/.test(lower)) throw new EmblemError('TOKEN_MALFORMED', 'invalid base32');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of lower) {
    value = (value << 5) | B32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  return Uint8Array.from(out);
}

export function hexEncode(bytes: Uint8Array, upper = false): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return upper ? out.toUpperCase() : out;
}

/** Case-insensitive hex; white space allowed (DNS-02 presentation form). */
export function hexDecode(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new EmblemError('TOKEN_MALFORMED', 'invalid hex');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
