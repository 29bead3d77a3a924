import { base64Decode, base64Encode, hexEncode } from '../core/encoding.js';

/**
 * Byte helpers for the CT adapter: std base64 (CT JSON and log lists use padded standard base64), hex, concat.
 * Pure (the core's codecs, no Buffer), so the browser extension's CT checker can use this adapter's parsers.
 */
export function toBase64(bytes: Uint8Array): string {
  return base64Encode(bytes);
}

/** Strict, canonical standard base64 decoding; returns null on anything else. */
export function fromBase64(text: unknown): Uint8Array | null {
  if (typeof text !== 'string') return null;
  try {
    return base64Decode(text);
  } catch {
    return null;
  }
}

export function toHex(bytes: Uint8Array): string {
  return hexEncode(bytes);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
