/**
 * Canonical standard base64 (with padding), as C2SP notes and the bundle use it. Decoding is strict: anything
 * that does not re-encode to the same text is refused, so a changed padding bit can never go unnoticed.
 */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function fromBase64Strict(text: unknown, maxBytes = Number.MAX_SAFE_INTEGER): Uint8Array | null {
  if (typeof text !== 'string' || text.length % 4 !== 0 || text.length / 4 * 3 > maxBytes + 2) return null;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  return toBase64(bytes) === text && bytes.length <= maxBytes ? bytes : null;
}
