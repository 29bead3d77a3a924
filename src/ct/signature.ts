import { createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { DS_ECDSA as ECDSA, DS_RSA as RSA, DS_SHA256 as SHA256, type DigitallySigned } from './digitally-signed.js';

export { encodeDigitallySigned, parseDigitallySigned, type DigitallySigned, type DigitallySignedVerifier } from './digitally-signed.js';

const keyCache = new Map<string, KeyObject>();

function publicKeyFromSpki(spki: Uint8Array): KeyObject | null {
  const k = Buffer.from(spki).toString('base64');
  let key = keyCache.get(k);
  if (!key) {
    try {
      key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    } catch {
      return null;
    }
    if (keyCache.size > 1024) keyCache.clear();
    keyCache.set(k, key);
  }
  return key;
}

/** Verifies `ds` over `data` with the log's DER SPKI. Never throws: malformed keys or signatures are just false. */
export function verifyDigitallySigned(spki: Uint8Array, data: Uint8Array, ds: DigitallySigned): boolean {
  if (ds.hashAlgorithm !== SHA256) return false;
  const key = publicKeyFromSpki(spki);
  if (!key) return false;
  const type = key.asymmetricKeyType;
  if (!((type === 'ec' && ds.signatureAlgorithm === ECDSA) || (type === 'rsa' && ds.signatureAlgorithm === RSA))) return false;
  try {
    return nodeVerify('sha256', data, key, ds.signature);
  } catch {
    return false;
  }
}

/** Signs with an ECDSA P-256 private key (the local log's), DER signature as RFC 6962 requires. */
export function signDigitallySigned(privateKey: KeyObject, data: Uint8Array): DigitallySigned {
  return { hashAlgorithm: SHA256, signatureAlgorithm: ECDSA, signature: new Uint8Array(nodeSign('sha256', data, privateKey)) };
}
