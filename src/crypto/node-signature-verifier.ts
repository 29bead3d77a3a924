import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { useSha256 } from '../core/hash.js';
import { ALGORITHMS } from '../core/tokens/algorithms.js';
import { useSignatureVerifier, type PublicKey, type SignatureVerifier } from '../core/tokens/keys.js';
import { spkiDer } from './spki.js';
import { nativeEs512, type NativeEs512, type NativeEs512Key } from '../native/es512.js';

const HASHES = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', EdDSA: null } as const;

/**
 * EMBLEM_NO_SPKI_IMPORT=1 imports keys as JWKs (node's slower path, with its full key check) instead of as SPKI DER
 * built from the coordinates: the same answers, for comparing the two paths. Read once per process.
 */
export const spkiImportEnabled = process.env.EMBLEM_NO_SPKI_IMPORT !== '1';

/** Imports a validated public key (throws for a point not on its curve). */
export function importKeyObject(key: PublicKey, spki = spkiImportEnabled): KeyObject {
  if (spki) return createPublicKey({ key: Buffer.from(spkiDer(key)), format: 'der', type: 'spki' });
  const { alg: _alg, ...jwk } = key.jwk;
  return createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
}

/** Bound of each verifier's KeyObject cache: a scan meets the same few authority keys again and again. */
const KEY_CACHE_SIZE = 10_000;

/**
 * node:crypto's one-shot verify, synchronously: measured at ~25% less CPU per ES512 token than WebCrypto's
 * asynchronous path. Verification of one set then runs on one core; to use several cores from one process, pass
 * threadPoolSignatureVerifier (./thread-pool-signature-verifier.ts) per call, or spread sets over worker threads.
 * `spki` chooses how keys are imported (both give the same answers; see spkiImportEnabled).
 */
export function createNodeSignatureVerifier(spki = spkiImportEnabled): SignatureVerifier {
  // KeyObjects by thumbprint, oldest evicted first.
  const keyObjects = new Map<string, KeyObject>();
  const keyObject = (key: PublicKey): KeyObject => {
    let k = keyObjects.get(key.jwsKid);
    if (!k) {
      k = importKeyObject(key, spki);
      if (keyObjects.size >= KEY_CACHE_SIZE) keyObjects.delete(keyObjects.keys().next().value!);
      keyObjects.set(key.jwsKid, k);
    }
    return k;
  };
  // ES512 through the system's libcrypto when the optional module is built (native/es512_verify.c: ~3x node's
  // bundled OpenSSL for P-521 here); EMBLEM_NATIVE_ES512=0 switches it off. Same answers (differential test).
  // Looked up at the first ES512 key, not when the verifier is made: the CLI makes it at start-up for every command.
  let native: NativeEs512 | null | undefined;
  const nativeKeys = new Map<string, NativeEs512Key>();
  const nativeKey = (key: PublicKey): NativeEs512Key => {
    let k = nativeKeys.get(key.jwsKid);
    if (!k) {
      const jwk = key.jwk as { x: string; y: string };
      k = native!.importKey(Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url'));
      if (nativeKeys.size >= KEY_CACHE_SIZE) nativeKeys.delete(nativeKeys.keys().next().value!);
      nativeKeys.set(key.jwsKid, k);
    }
    return k;
  };
  return {
    async verify(key, data, signature) {
      if (signature.length !== ALGORITHMS[key.alg].signatureBytes) return false;
      try {
        if (key.alg === 'ES512' && (native ??= nativeEs512())) return native.verify(nativeKey(key), Buffer.from(data.buffer, data.byteOffset, data.byteLength), Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength));
        return verify(HASHES[key.alg], data, { key: keyObject(key), dsaEncoding: 'ieee-p1363' }, signature);
      } catch {
        return false;
      }
    },
  };
}

export const nodeSignatureVerifier: SignatureVerifier = createNodeSignatureVerifier();

/**
 * EMBLEM_NO_NODE_HASH=1 keeps the core's pure-JS SHA-256 (key thumbprints, cache keys) instead of node:crypto's:
 * the same digests, slower. Read once per process.
 */
export const nodeHashEnabled = process.env.EMBLEM_NO_NODE_HASH !== '1';

/** node:crypto's SHA-256 as the plain Uint8Array the core expects (a copy: digest Buffers may share a pool). */
export function nodeSha256(data: Uint8Array): Uint8Array {
  return Uint8Array.from(createHash('sha256').update(data).digest());
}

/**
 * Makes node:crypto the signature verifier, and its SHA-256 the core's, for everything in this process (call once per
 * process or worker thread).
 */
export function installNodeSignatureVerifier(): void {
  useSignatureVerifier(nodeSignatureVerifier);
  if (nodeHashEnabled) useSha256(nodeSha256);
}
