import { webcrypto } from 'node:crypto';
import { ALGORITHMS } from '../core/tokens/algorithms.js';
import type { PublicKey, SignatureVerifier } from '../core/tokens/keys.js';
import { nodeSignatureVerifier, spkiImportEnabled } from './node-signature-verifier.js';
import { spkiDer } from './spki.js';

/**
 * EMBLEM_NO_ASYNC_VERIFY=1 makes threadPoolSignatureVerifier verify synchronously on the calling thread (the
 * node:crypto verifier): the same answers, one core. Read once per process.
 */
export const asyncVerifyEnabled = process.env.EMBLEM_NO_ASYNC_VERIFY !== '1';

/** Imported CryptoKeys by thumbprint (import is cheap from SPKI DER, but a scan meets the same keys often). */
const cryptoKeys = new Map<string, Promise<CryptoKey>>();
const KEY_CACHE_SIZE = 10_000;

function cryptoKey(key: PublicKey): Promise<CryptoKey> {
  let k = cryptoKeys.get(key.jwsKid);
  if (!k) {
    const params = ALGORITHMS[key.alg].webcrypto.importParams;
    if (spkiImportEnabled) k = webcrypto.subtle.importKey('spki', spkiDer(key), params, false, ['verify']);
    else {
      const { alg: _alg, ...jwk } = key.jwk;
      k = webcrypto.subtle.importKey('jwk', jwk, params, false, ['verify']);
    }
    const cacheKey = key.jwsKid;
    k.catch(() => cryptoKeys.delete(cacheKey));
    if (cryptoKeys.size >= KEY_CACHE_SIZE) cryptoKeys.delete(cryptoKeys.keys().next().value!);
    cryptoKeys.set(cacheKey, k);
  }
  return k;
}

/**
 * Verifies on libuv's thread pool: node's WebCrypto runs `subtle.verify` as an asynchronous job off the main
 * thread, so while one set's signatures are checked the main thread parses the next set, and several sets in
 * flight use every core (the pool has 4 threads unless UV_THREADPOOL_SIZE says otherwise). Costs a little more
 * CPU per token than the synchronous verifier (the hop to the pool and back); gives the same answers.
 */
export const threadPoolSignatureVerifier: SignatureVerifier = asyncVerifyEnabled
  ? {
      async verify(key, data, signature) {
        const info = ALGORITHMS[key.alg];
        if (signature.length !== info.signatureBytes) return false;
        try {
          return await webcrypto.subtle.verify(info.webcrypto.verifyParams, await cryptoKey(key), signature, data);
        } catch {
          return false;
        }
      },
    }
  : nodeSignatureVerifier;
