import { DS_ECDSA, DS_RSA, DS_SHA256, type DigitallySigned } from '../ct/digitally-signed.js';
import { derChildren, readDerElement } from '../ct/der.js';
import { toBase64 } from '../ct/bytes.js';
import { ctError, CtErrorCodes } from '../ct/errors.js';
import { isGzip } from '../ct/http.js';
import { BrowserCtLimits } from './limits.js';

/**
 * The platform pieces the pure CT clients need, on WebCrypto and the Streams API only (the extension's service
 * worker; Node's globalThis.crypto in tests): DigitallySigned verification of tree heads and checkpoints, and
 * gzip for static-ct tiles.
 */

type Imported = { key: CryptoKey; kind: 'ecdsa'; size: number } | { key: CryptoKey; kind: 'rsa' };

const keys = new Map<string, Promise<Imported | null>>();

const CURVES = [
  { namedCurve: 'P-256', size: 32 },
  { namedCurve: 'P-384', size: 48 },
] as const;

async function importSpki(spki: Uint8Array): Promise<Imported | null> {
  const data = new Uint8Array(spki);
  for (const c of CURVES) {
    try {
      const key = await crypto.subtle.importKey('spki', data, { name: 'ECDSA', namedCurve: c.namedCurve }, false, ['verify']);
      return { key, kind: 'ecdsa', size: c.size };
    } catch {
      // not this curve (or not EC): try the next
    }
  }
  try {
    const key = await crypto.subtle.importKey('spki', data, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
    return { key, kind: 'rsa' };
  } catch {
    return null;
  }
}

function keyFor(spki: Uint8Array): Promise<Imported | null> {
  const id = toBase64(spki);
  let hit = keys.get(id);
  if (!hit) {
    if (keys.size >= BrowserCtLimits.maxCachedKeys) keys.clear();
    hit = importSpki(spki);
    keys.set(id, hit);
  }
  return hit;
}

/**
 * CT signs with DER-encoded ECDSA signatures (SEQUENCE { r INTEGER, s INTEGER }); WebCrypto takes IEEE P1363
 * (r || s, each left-padded to the curve size). Returns null for anything that is not exactly that shape.
 */
export function ecdsaDerToP1363(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> | null {
  try {
    const seq = readDerElement(der, 0);
    if (seq.tag !== 0x30 || seq.end !== der.length) return null;
    const parts = derChildren(der, seq);
    if (parts.length !== 2) return null;
    const out = new Uint8Array(size * 2);
    for (const [i, p] of parts.entries()) {
      if (p.tag !== 0x02) return null;
      let v = der.subarray(p.contentStart, p.end);
      // DER INTEGERs are signed: a leading 0x00 keeps a high bit from reading as negative.
      while (v.length > 1 && v[0] === 0) v = v.subarray(1);
      if (v.length === 0 || v.length > size || (der[p.contentStart]! & 0x80) !== 0) return null;
      out.set(v, i * size + size - v.length);
    }
    return out;
  } catch {
    return null;
  }
}

/** DigitallySignedVerifier on WebCrypto: SHA-256 with ECDSA (P-256/P-384) or RSA PKCS#1 v1.5. Never throws. */
export async function verifyDigitallySignedWebCrypto(spki: Uint8Array, data: Uint8Array, ds: DigitallySigned): Promise<boolean> {
  if (ds.hashAlgorithm !== DS_SHA256) return false;
  const imported = await keyFor(spki);
  if (!imported) return false;
  try {
    if (imported.kind === 'ecdsa') {
      if (ds.signatureAlgorithm !== DS_ECDSA) return false;
      const sig = ecdsaDerToP1363(ds.signature, imported.size);
      if (!sig) return false;
      return await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, imported.key, sig, new Uint8Array(data));
    }
    if (ds.signatureAlgorithm !== DS_RSA) return false;
    return await crypto.subtle.verify({ name: 'RSASSA-PKCS1-v1_5' }, imported.key, new Uint8Array(ds.signature), new Uint8Array(data));
  } catch {
    return false;
  }
}

/** Static-ct tiles stored gzip-compressed: inflated with DecompressionStream, abandoned past `maxBytes`. */
export async function gunzipWithStreams(body: Uint8Array, maxBytes: number, what: string): Promise<Uint8Array> {
  if (!isGzip(body)) return body;
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const reader = new Blob([new Uint8Array(body)]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new Error(`larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${what}: bad gzip data or larger than ${maxBytes} bytes`, err);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
