import type { SignatureAlgorithm } from '../core/tokens/algorithms.js';
import { externalSigningKey, type SigningKey } from '../core/tokens/sign.js';

/**
 * A signing key whose private half may live outside this process (a PKCS#11 token). Token signing uses it
 * through the core's {@link SigningKey} seam (`signRaw`), so src/core never sees the key store.
 */
export interface KeyStoreKey {
  readonly alg: SignatureAlgorithm;
  /** Public JWK with `alg`, without `kid` (as ADEM publishes keys). */
  publicJwk(): JsonWebKey;
  /** Raw JOSE/COSE signature over `data` (ECDSA: r || s, fixed length). The digest is computed by the store. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** The token signer's view of a stored key. */
export function signingKeyFromStore(key: KeyStoreKey): SigningKey {
  return externalSigningKey(key.publicJwk(), (data) => key.sign(data));
}
