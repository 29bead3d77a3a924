import { TlsReader, TlsWriter } from './tls-codec.js';

/** RFC 5246 §4.7 DigitallySigned as CT uses it: SHA-256 (4) with ECDSA (3) or RSA PKCS#1 v1.5 (1). */
export interface DigitallySigned {
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Uint8Array;
}

export const DS_SHA256 = 4;
export const DS_RSA = 1;
export const DS_ECDSA = 3;

/**
 * Verifies `ds` over `data` with a log's DER SubjectPublicKeyInfo; never throws (malformed keys or signatures are
 * false). Injected so the same clients run on node:crypto (src/ct/signature.ts) and WebCrypto (src/browser).
 */
export type DigitallySignedVerifier = (spki: Uint8Array, data: Uint8Array, ds: DigitallySigned) => boolean | Promise<boolean>;

export function parseDigitallySigned(bytes: Uint8Array, what: string): DigitallySigned {
  const r = new TlsReader(bytes, what);
  const out = { hashAlgorithm: r.uint(1), signatureAlgorithm: r.uint(1), signature: r.vector(2) };
  r.end();
  return out;
}

export function encodeDigitallySigned(ds: DigitallySigned): Uint8Array {
  return new TlsWriter().uint(1, ds.hashAlgorithm).uint(1, ds.signatureAlgorithm).vector(2, ds.signature).finish();
}
