import { EmblemError } from '../errors.js';
import { kidOf, verifySignature, type PublicKey, type SignatureVerifier } from '../tokens/keys.js';
import type { Era, Token } from '../tokens/token.js';
import type { SignatureCache } from './signature-cache.js';

/** A token whose signature and validity period were checked, with the key that signed it. */
export interface VerifiedToken {
  token: Token;
  signer: PublicKey;
  /** The signer's kid in the token's era. */
  signerKid: string;
}

export type SignatureStepResult = { ok: true; verified: VerifiedToken } | { ok: false; token: Token; error: EmblemError };

/** Keys by era-specific kid. The kid is always computed from key material, so a hostile record cannot alias a key. */
export class KeyRing {
  private readonly byKid = new Map<string, PublicKey>();
  constructor(readonly era: Era) {}

  add(key: PublicKey): void {
    this.byKid.set(kidOf(key, this.era), key);
  }

  get(kid: string): PublicKey | undefined {
    return this.byKid.get(kid);
  }
}

/**
 * Step 2 of CORE-02 §8 (and the signature/time part of CORE-01's signed procedure) for one token: find the key
 * the header names, check the algorithm is the key's, verify the signature, check nbf <= now < exp. `verifier`
 * overrides the process-wide default (e.g. one that verifies on a thread pool); the answer must not depend on it.
 */
export async function verifyTokenSignature(token: Token, keys: KeyRing, nowSeconds: number, cache?: SignatureCache, verifier?: SignatureVerifier): Promise<SignatureStepResult> {
  const fail = (code: string, message: string): SignatureStepResult => ({ ok: false, token, error: new EmblemError(code, message) });
  const signer = token.embeddedKey ?? (token.headerKid !== null ? keys.get(token.headerKid) : undefined);
  if (!signer) return fail('KEY_UNKNOWN', `no key with kid ${token.headerKid} was provided for ${describe(token)}`);
  // The algorithm comes from the key; a header naming another algorithm is refused (algorithm confusion).
  if (signer.alg !== token.alg) return fail('KEY_INVALID', `${describe(token)} names ${token.alg} but its key is ${signer.alg}`);
  const signerKid = kidOf(signer, token.era);
  const cacheKey = cache ? `${token.hash}:${signerKid}` : '';
  let valid = cache?.get(cacheKey);
  if (valid === undefined) {
    valid = verifier ? await verifier.verify(signer, token.signingInput, token.signature) : await verifySignature(signer, token.signingInput, token.signature);
    cache?.set(cacheKey, valid);
  }
  if (!valid) return fail('SIGNATURE_INVALID', `signature of ${describe(token)} does not verify with key ${signerKid}`);
  if (nowSeconds < token.claims.nbf) {
    return fail('TOKEN_NOT_YET_VALID', `${describe(token)} is not valid before ${new Date(token.claims.nbf * 1000).toISOString()}`);
  }
  if (nowSeconds >= token.claims.exp) {
    return fail('TOKEN_EXPIRED', `${describe(token)} expired at ${new Date(token.claims.exp * 1000).toISOString()}`);
  }
  return { ok: true, verified: { token, signer, signerKid } };
}

export function describe(token: Token): string {
  const who = token.claims.iss ?? 'no issuer';
  return token.kind === 'emblem' ? `emblem (${who})` : `endorsement by ${who} of key ${token.claims.key}`;
}
