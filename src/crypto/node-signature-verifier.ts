import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ALGORITHMS } from '../core/tokens/algorithms.js';
import { useSignatureVerifier, type PublicKey, type SignatureVerifier } from '../core/tokens/keys.js';

const HASHES = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', EdDSA: null } as const;

/** KeyObjects by thumbprint: creating one costs about as much as a verify. Bounded, oldest evicted first. */
const keyObjects = new Map<string, KeyObject>();
const KEY_CACHE_SIZE = 10_000;

function keyObject(key: PublicKey): KeyObject {
  let k = keyObjects.get(key.jwsKid);
  if (!k) {
    const { alg: _alg, ...jwk } = key.jwk;
    k = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    if (keyObjects.size >= KEY_CACHE_SIZE) keyObjects.delete(keyObjects.keys().next().value!);
    keyObjects.set(key.jwsKid, k);
  }
  return k;
}

/**
 * node:crypto's one-shot verify, synchronously: measured at ~25% less CPU per ES512 token than WebCrypto's
 * asynchronous path. Verification of one set then runs on one core; bulk scans spread sets over worker threads.
 */
export const nodeSignatureVerifier: SignatureVerifier = {
  async verify(key, data, signature) {
    if (signature.length !== ALGORITHMS[key.alg].signatureBytes) return false;
    try {
      return verify(HASHES[key.alg], data, { key: keyObject(key), dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      return false;
    }
  },
};

/** Makes node:crypto the verifier for everything in this process (call once per process or worker thread). */
export function installNodeSignatureVerifier(): void {
  useSignatureVerifier(nodeSignatureVerifier);
}
